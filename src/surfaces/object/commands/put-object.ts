// PutObject: the body streams into a new blob; the object appears only once it is complete and its
// digests check out. Responds with the MD5 ETag and the CRC-64 COS clients verify.
import type { BucketName } from '../../../core/ids.ts';
import { requestBody } from '../body.ts';
import { bucketOf, keyOf, type ObjectContext, sendEmpty } from '../context.ts';
import { headersFromRequest } from '../object-headers.ts';

export function writeResultHeaders(
  ctx: ObjectContext,
  result: { etag: string; crc64: string; checksums?: Record<string, string> },
): void {
  ctx.reply.header('etag', `"${result.etag}"`).header('x-cos-hash-crc64ecma', result.crc64);
  if (ctx.caller.dialect === 's3') {
    for (const [alg, value] of Object.entries(result.checksums ?? {}))
      ctx.reply.header(`x-amz-checksum-${alg}`, value);
  }
}

export async function putObject(ctx: ObjectContext): Promise<void> {
  const { body, declaredLength, expect } = requestBody(ctx, { requireLength: true });
  const { object, checksums } = await ctx.deps.objects.putObject({
    bucket: bucketOf(ctx) as BucketName,
    key: keyOf(ctx),
    dialect: ctx.caller.dialect,
    body,
    headers: headersFromRequest(ctx),
    expect,
    signal: ctx.signal,
    ...(declaredLength === undefined ? {} : { declaredLength }),
  });
  writeResultHeaders(ctx, { etag: object.etag, crc64: object.crc64, checksums });
  sendEmpty(ctx, 200);
}
