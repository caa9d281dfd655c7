// DeleteObjects (POST /?delete): up to 1000 keys in one request; a missing key counts as deleted.
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import { MAX_DELETE_KEYS } from '../../../core/objects/limits.ts';
import { bucketOf, type ObjectContext, sendXml } from '../context.ts';
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
  await ctx.deps.objects.deleteObjects(bucketOf(ctx) as BucketName, keys);
  sendXml(ctx, 200, renderXml('DeleteResult', { Deleted: quiet ? [] : keys.map((Key) => ({ Key })) }));
}
