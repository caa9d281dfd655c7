// UploadPart and UploadPartCopy: a part streams into its own blob and is recorded only if the upload
// is still active when it finishes; re-sending a part number replaces the earlier part atomically.
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import type { ByteRange } from '../../../core/objects/object-service.ts';
import { isoDate } from '../../../lib/http-date.ts';
import { authorizeCaller } from '../authorize.ts';
import { requestBody } from '../body.ts';
import { bucketOf, keyOf, type ObjectContext, sendEmpty, sendXml, vendorHeader } from '../context.ts';
import { queryValue } from '../target.ts';
import { renderXml } from '../xml.ts';
import { copySourceConditions } from './copy-object.ts';
import { writeResultHeaders } from './put-object.ts';
import { copySource } from './shared.ts';

function partNumber(ctx: ObjectContext): number {
  const raw = queryValue(ctx.target, 'partNumber') ?? '';
  return /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
}

function uploadTarget(ctx: ObjectContext): { bucket: BucketName; key: string; uploadId: string } {
  return {
    bucket: bucketOf(ctx) as BucketName,
    key: keyOf(ctx),
    uploadId: queryValue(ctx.target, 'uploadId') ?? '',
  };
}

export async function uploadPart(ctx: ObjectContext): Promise<void> {
  const { body, declaredLength, expect } = requestBody(ctx, { requireLength: true });
  const part = await ctx.deps.multipart.uploadPart({
    ...uploadTarget(ctx),
    partNumber: partNumber(ctx),
    body,
    expect,
    signal: ctx.signal,
    ...(declaredLength === undefined ? {} : { declaredLength }),
  });
  writeResultHeaders(ctx, part);
  sendEmpty(ctx, 200);
}

function copyRange(ctx: ObjectContext, size: number): ByteRange | undefined {
  const raw = vendorHeader(ctx, 'copy-source-range');
  if (raw === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(raw.trim());
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) >= size) {
    throw new AppError(
      'InvalidArgument',
      'The copy source range must be bytes=first-last within the source object.',
      {
        details: { ArgumentName: 'x-cos-copy-source-range', ArgumentValue: raw },
      },
    );
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

export async function uploadPartCopy(ctx: ObjectContext): Promise<void> {
  const source = copySource(ctx);
  await authorizeCaller(ctx, 'GetObject', { bucket: source.bucket, key: source.key });
  const target = uploadTarget(ctx);
  await ctx.deps.multipart.requireActive(target);
  const reader = await ctx.deps.objects.getObject(source.bucket, source.key);
  copySourceConditions(ctx)(reader.object);
  const range = copyRange(ctx, reader.object.size);
  const length = range ? range.end - range.start + 1 : reader.object.size;
  const part = await ctx.deps.multipart.uploadPart({
    ...target,
    partNumber: partNumber(ctx),
    body: await reader.open(range, ctx.signal),
    declaredLength: length,
    expect: {},
    signal: ctx.signal,
  });
  ctx.reply.header('x-cos-hash-crc64ecma', part.crc64);
  sendXml(
    ctx,
    200,
    renderXml('CopyPartResult', { ETag: `"${part.etag}"`, LastModified: isoDate(part.lastModified) }),
  );
}
