// CopyObject within a library: the bytes are copied to new blobs (a blob always belongs to exactly
// one object or part), metadata copied or replaced per the metadata directive.
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import type { ObjectRecord } from '../../../core/objects/model.ts';
import { isoDate } from '../../../lib/http-date.ts';
import { authorizeCaller } from '../authorize.ts';
import { bucketOf, header, keyOf, type ObjectContext, sendXml, vendorHeader } from '../context.ts';
import { evaluateConditions, headersFromRequest } from '../object-headers.ts';
import { renderXml } from '../xml.ts';
import { copySource } from './shared.ts';

/** x-cos-copy-source-If-Match and friends: 412 when they fail (spec cos-api §2.12). */
export function copySourceConditions(ctx: ObjectContext): (source: ObjectRecord) => void {
  return (source) => {
    const get = (name: string): string | undefined =>
      header(ctx, `x-cos-copy-source-${name}`) ?? header(ctx, `x-amz-copy-source-${name}`);
    if (evaluateConditions(get, source) !== 'ok') {
      throw new AppError('PreconditionFailed', 'At least one of the copy source preconditions did not hold.');
    }
  };
}

export async function copyObject(ctx: ObjectContext): Promise<void> {
  const source = copySource(ctx);
  await authorizeCaller(ctx, 'GetObject', { bucket: source.bucket, key: source.key });
  const directive = (vendorHeader(ctx, 'metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE' && directive !== 'REPLACED') {
    throw new AppError('InvalidArgument', 'The metadata directive must be COPY or REPLACE.');
  }
  const object = await ctx.deps.objects.copyObject({
    source,
    target: { bucket: bucketOf(ctx) as BucketName, key: keyOf(ctx) },
    dialect: ctx.caller.dialect,
    conditions: copySourceConditions(ctx),
    signal: ctx.signal,
    ...(directive === 'COPY' ? {} : { replaceHeaders: headersFromRequest(ctx) }),
  });
  ctx.reply.header('x-cos-hash-crc64ecma', object.crc64);
  sendXml(
    ctx,
    200,
    renderXml('CopyObjectResult', {
      ETag: `"${object.etag}"`,
      LastModified: isoDate(object.lastModified),
      CRC64: object.crc64,
    }),
  );
}
