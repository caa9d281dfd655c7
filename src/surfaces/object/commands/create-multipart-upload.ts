// CreateMultipartUpload (POST ?uploads): records the upload with the headers the final object gets.
import type { BucketName } from '../../../core/ids.ts';
import { checksumAlgorithmFromHeader } from '../../../lib/checksums.ts';
import { bucketOf, header, keyOf, type ObjectContext, sendXml } from '../context.ts';
import { headersFromRequest } from '../object-headers.ts';
import { renderXml } from '../xml.ts';

export async function createMultipartUpload(ctx: ObjectContext): Promise<void> {
  const requested = header(ctx, 'x-amz-checksum-algorithm');
  const checksumAlgorithm = requested ? (checksumAlgorithmFromHeader(requested) ?? null) : null;
  const upload = await ctx.deps.multipart.create({
    bucket: bucketOf(ctx) as BucketName,
    key: keyOf(ctx),
    dialect: ctx.caller.dialect,
    headers: headersFromRequest(ctx),
    owner: ctx.caller.key?.id ?? 'anonymous',
    checksumAlgorithm,
  });
  if (ctx.caller.dialect === 's3' && requested) {
    ctx.reply
      .header('x-amz-checksum-algorithm', requested)
      .header('x-amz-checksum-type', header(ctx, 'x-amz-checksum-type') ?? 'COMPOSITE');
  }
  sendXml(
    ctx,
    200,
    renderXml('InitiateMultipartUploadResult', {
      Bucket: upload.bucket,
      Key: upload.key,
      UploadId: upload.id,
    }),
  );
}
