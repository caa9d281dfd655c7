// CompleteMultipartUpload (POST ?uploadId): validates the part list (order, ETags, sizes, checksums)
// and assembles the object without copying bytes. A retry with the same list shortly after success
// gets the same answer (the COS SDK retries Complete).
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import type { CompletePart } from '../../../core/objects/multipart-service.ts';
import { checksumAlgorithmFromHeader } from '../../../lib/checksums.ts';
import { bucketOf, keyOf, type ObjectContext, sendXml } from '../context.ts';
import { queryValue } from '../target.ts';
import { parseXml, renderXml, textOf } from '../xml.ts';
import { readDocument } from './shared.ts';

function parseParts(xml: string): CompletePart[] {
  const doc = parseXml(xml, 'CompleteMultipartUpload');
  const entries = Array.isArray(doc.Part) ? (doc.Part as unknown[]) : [];
  if (entries.length === 0)
    throw new AppError('MalformedXML', 'CompleteMultipartUpload must list at least one Part.');
  return entries.map((entry) => {
    const fields = (entry ?? {}) as Record<string, unknown>;
    const number = textOf(fields.PartNumber)?.trim() ?? '';
    const etag = textOf(fields.ETag)?.trim() ?? '';
    if (!/^\d{1,9}$/.test(number) || etag === '') {
      throw new AppError('MalformedXML', 'Every Part needs an integer PartNumber and a non-empty ETag.');
    }
    const checksums: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) {
      const alg = name.startsWith('Checksum')
        ? checksumAlgorithmFromHeader(name.slice('Checksum'.length))
        : undefined;
      const text = textOf(value)?.trim();
      if (alg && text) checksums[alg] = text;
    }
    return { partNumber: Number(number), etag, checksums };
  });
}

function location(ctx: ObjectContext, bucket: string, key: string): string {
  const encodedKey = encodeURIComponent(key).replace(/%2F/g, '/');
  const { host, style } = ctx.target;
  const path = style === 'path' ? `${bucket}/${encodedKey}` : encodedKey;
  // COS returns "<host>/<key>" without a scheme; S3 a full URL.
  return ctx.caller.dialect === 'cos' ? `${host}/${path}` : `${ctx.request.protocol}://${host}/${path}`;
}

export async function completeMultipartUpload(ctx: ObjectContext): Promise<void> {
  const target = {
    bucket: bucketOf(ctx) as BucketName,
    key: keyOf(ctx),
    uploadId: queryValue(ctx.target, 'uploadId') ?? '',
  };
  // COS order: unknown upload (404) before Content-MD5 (BadDigest) before the XML itself.
  await ctx.deps.multipart.requireCompletable(target);
  const parts = parseParts(await readDocument(ctx));
  const result = await ctx.deps.multipart.complete({ ...target, dialect: ctx.caller.dialect, parts });
  ctx.reply.header('x-cos-hash-crc64ecma', result.crc64);
  sendXml(
    ctx,
    200,
    renderXml('CompleteMultipartUploadResult', {
      Location: location(ctx, target.bucket, target.key),
      Bucket: target.bucket,
      Key: target.key,
      ETag: `"${result.etag}"`,
    }),
  );
}
