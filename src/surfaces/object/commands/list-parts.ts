// ListParts (GET ?uploadId): paged by part-number-marker; IsTruncated literally "true"/"false" and
// NextPartNumberMarker always present, as the COS SDK's resume loop needs.
import type { BucketName } from '../../../core/ids.ts';
import { MAX_LIST_PARTS } from '../../../core/objects/limits.ts';
import { isoDate } from '../../../lib/http-date.ts';
import { bucketOf, keyOf, type ObjectContext, sendXml } from '../context.ts';
import { queryValue } from '../target.ts';
import { renderXml } from '../xml.ts';
import { encoder, encodingTypeElement, intParam, owner } from './shared.ts';

export async function listParts(ctx: ObjectContext): Promise<void> {
  const maxParts = Math.min(intParam(ctx, 'max-parts', { min: 1, fallback: MAX_LIST_PARTS }), MAX_LIST_PARTS);
  const marker = intParam(ctx, 'part-number-marker', { min: 0, fallback: 0 });
  const { encode, encodingType } = encoder(ctx);
  const uploadId = queryValue(ctx.target, 'uploadId') ?? '';
  const result = await ctx.deps.multipart.listParts(
    { bucket: bucketOf(ctx) as BucketName, key: keyOf(ctx), uploadId },
    marker,
    maxParts,
  );
  const who = owner(ctx);
  sendXml(
    ctx,
    200,
    renderXml('ListPartsResult', {
      Bucket: result.upload.bucket,
      [encodingTypeElement(ctx, 'Encoding-type')]: encodingType,
      Key: encode(result.upload.key),
      UploadId: result.upload.id,
      Initiator: who,
      Owner: who,
      StorageClass: result.upload.headers.storageClass,
      PartNumberMarker: marker,
      NextPartNumberMarker: result.nextPartNumberMarker,
      MaxParts: maxParts,
      IsTruncated: result.isTruncated,
      ...(result.upload.checksumAlgorithm
        ? { ChecksumAlgorithm: result.upload.checksumAlgorithm.toUpperCase() }
        : {}),
      Part: result.parts.map((p) => {
        const checksums: Record<string, string> = {};
        if (ctx.caller.dialect === 's3') {
          for (const [alg, value] of Object.entries(p.checksums))
            checksums[`Checksum${alg.toUpperCase()}`] = value;
        }
        return {
          PartNumber: p.partNumber,
          LastModified: isoDate(p.lastModified),
          ETag: `"${p.etag}"`,
          Size: p.size,
          ...checksums,
        };
      }),
    }),
  );
}
