// HeadBucket and GetBucketLocation: the bucket exists and the caller may use it.
import type { BucketName } from '../../../core/ids.ts';
import { bucketOf, type ObjectContext, sendEmpty, sendXml } from '../context.ts';
import { renderXml } from '../xml.ts';

export async function headBucket(ctx: ObjectContext): Promise<void> {
  await ctx.deps.objects.requireBucket(bucketOf(ctx) as BucketName);
  ctx.reply.header('x-cos-bucket-region', ctx.deps.region).header('x-amz-bucket-region', ctx.deps.region);
  sendEmpty(ctx, 200);
}

export async function getBucketLocation(ctx: ObjectContext): Promise<void> {
  await ctx.deps.objects.requireBucket(bucketOf(ctx) as BucketName);
  sendXml(ctx, 200, renderXml('LocationConstraint', { '#text': ctx.deps.region }));
}
