// ListMultipartUploads (GET /?uploads): ordered by key then upload id (ids sort by initiation time),
// with delimiter roll-up; StorageClass is always sent because the COS SDK's resume filter needs it.
import type { BucketName } from '../../../core/ids.ts';
import { isoDate } from '../../../lib/http-date.ts';
import { bucketOf, type ObjectContext, sendXml } from '../context.ts';
import { queryValue } from '../target.ts';
import { renderXml } from '../xml.ts';
import { encoder, encodingTypeElement, intParam, owner } from './shared.ts';

export async function listMultipartUploads(ctx: ObjectContext): Promise<void> {
  const prefix = queryValue(ctx.target, 'prefix') ?? '';
  const delimiter = queryValue(ctx.target, 'delimiter') ?? '';
  const keyMarker = queryValue(ctx.target, 'key-marker') ?? '';
  const uploadIdMarker = queryValue(ctx.target, 'upload-id-marker') ?? '';
  const maxUploads = Math.min(intParam(ctx, 'max-uploads', { min: 1, fallback: 1000 }), 1000);
  const { encode, encodingType } = encoder(ctx);
  const result = await ctx.deps.multipart.listUploads({
    bucket: bucketOf(ctx) as BucketName,
    prefix,
    delimiter,
    keyMarker,
    uploadIdMarker,
    maxUploads,
  });
  const who = owner(ctx);
  sendXml(
    ctx,
    200,
    renderXml('ListMultipartUploadsResult', {
      Bucket: bucketOf(ctx),
      [encodingTypeElement(ctx, 'Encoding-Type')]: encodingType,
      KeyMarker: encode(keyMarker),
      UploadIdMarker: uploadIdMarker,
      NextKeyMarker: result.nextKeyMarker === undefined ? undefined : encode(result.nextKeyMarker),
      NextUploadIdMarker: result.nextUploadIdMarker,
      MaxUploads: maxUploads,
      IsTruncated: result.isTruncated,
      Prefix: encode(prefix),
      Delimiter: delimiter === '' ? undefined : encode(delimiter),
      Upload: result.uploads.map((u) => ({
        Key: encode(u.key),
        UploadId: u.id,
        StorageClass: u.headers.storageClass,
        Initiator: who,
        Owner: who,
        Initiated: isoDate(u.initiatedAt),
      })),
      CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
    }),
  );
}
