// DeleteObject: 204 whether or not the key existed (S3 and COS).
import type { BucketName } from '../../../core/ids.ts';
import { bucketOf, keyOf, type ObjectContext, sendEmpty } from '../context.ts';

export async function deleteObject(ctx: ObjectContext): Promise<void> {
  await ctx.deps.objects.deleteObject(bucketOf(ctx) as BucketName, keyOf(ctx));
  sendEmpty(ctx, 204);
}
