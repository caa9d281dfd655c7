// DeleteObjects (POST /?delete): up to 1000 keys in one request; a missing key counts as deleted. A key
// the caller may not touch (an SMH file's) gets its own AccessDenied entry while the others go, as S3
// answers keys a policy denies.
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import { MAX_DELETE_KEYS } from '../../../core/objects/limits.ts';
import { mayReachKey, smhKeyDenied } from '../../../core/objects/smh-keys.ts';
import { bucketOf, type ObjectContext, sendXml } from '../context.ts';
import { OBJECT_ERRORS } from '../errors.ts';
import { parseXml, renderXml, textOf } from '../xml.ts';
import { readDocument } from './shared.ts';

export async function deleteObjects(ctx: ObjectContext): Promise<void> {
  const doc = parseXml(await readDocument(ctx), 'Delete');
  const entries = Array.isArray(doc.Object) ? (doc.Object as Record<string, unknown>[]) : [];
  if (entries.length === 0 || entries.length > MAX_DELETE_KEYS) {
    throw new AppError('MalformedXML', `A Delete request lists between 1 and ${MAX_DELETE_KEYS} objects.`);
  }
  const keys = entries.map((entry) => {
    const key = textOf(entry?.Key);
    if (key === undefined || key === '')
      throw new AppError('MalformedXML', 'Every Object element needs a Key.');
    return key;
  });
  const quiet = textOf(doc.Quiet)?.trim().toLowerCase() === 'true';
  const bucket = await ctx.deps.objects.requireBucket(bucketOf(ctx) as BucketName);
  const scope = ctx.caller.key?.scope ?? null;
  const allowed = keys.filter((key) => mayReachKey(bucket.libraryId, key, scope));
  const denied = keys.filter((key) => !mayReachKey(bucket.libraryId, key, scope));
  if (allowed.length > 0) await ctx.deps.objects.deleteObjects(bucket.name, allowed);
  const refusal = smhKeyDenied(bucket.libraryId);
  const code = OBJECT_ERRORS[refusal.code].code ?? refusal.code;
  sendXml(
    ctx,
    200,
    renderXml('DeleteResult', {
      Deleted: quiet ? [] : allowed.map((Key) => ({ Key })),
      Error: denied.map((Key) => ({ Key, Code: code, Message: refusal.message })),
    }),
  );
}
