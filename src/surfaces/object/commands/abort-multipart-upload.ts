// AbortMultipartUpload: 204; once it returns no part of the upload can be stored any more.
import type { BucketName } from '../../../core/ids.ts';
import { bucketOf, keyOf, type ObjectContext, sendEmpty } from '../context.ts';
import { queryValue } from '../target.ts';

export async function abortMultipartUpload(ctx: ObjectContext): Promise<void> {
  await ctx.deps.multipart.abort({
    bucket: bucketOf(ctx) as BucketName,
    key: keyOf(ctx),
    uploadId: queryValue(ctx.target, 'uploadId') ?? '',
  });
  sendEmpty(ctx, 204);
}
