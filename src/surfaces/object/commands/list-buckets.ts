// ListBuckets (GET / at service level): the buckets of the caller's library.
import { AppError } from '../../../core/errors.ts';
import { isoDate } from '../../../lib/http-date.ts';
import { type ObjectContext, sendXml } from '../context.ts';
import { renderXml } from '../xml.ts';
import { owner } from './shared.ts';

export async function listBuckets(ctx: ObjectContext): Promise<void> {
  const key = ctx.caller.key;
  if (!key) throw new AppError('AccessDenied', 'Anonymous users cannot list buckets.');
  const buckets = await ctx.deps.objects.listBuckets(key.libraryId);
  const visible = key.scope ? buckets.filter((b) => b.name === key.bucket) : buckets;
  sendXml(
    ctx,
    200,
    renderXml('ListAllMyBucketsResult', {
      Owner: owner(ctx),
      Buckets: {
        Bucket: visible.map((b) => ({
          Name: b.name,
          Location: ctx.deps.region,
          CreationDate: isoDate(b.createdAt),
          BucketType: 'cos',
        })),
      },
    }),
  );
}
