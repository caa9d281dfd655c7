// Authorisation of an authenticated (or anonymous) caller for one action on a bucket/key/upload.
import { AppError } from '../../core/errors.ts';
import type { BucketName } from '../../core/ids.ts';
import type { ObjectAction } from '../../core/objects/credential-service.ts';
import { mayReachKey, smhKeyDenied } from '../../core/objects/smh-keys.ts';
import { allowsAnonymous } from './authenticate.ts';
import type { ObjectContext } from './context.ts';
import { queryValue } from './target.ts';

export async function authorizeCaller(
  ctx: ObjectContext,
  action: ObjectAction,
  resource: { bucket?: string | undefined; key?: string | undefined; uploadId?: string | undefined } = {
    bucket: ctx.target.bucket,
    key: ctx.target.key,
    uploadId: queryValue(ctx.target, 'uploadId'),
  },
): Promise<void> {
  const key = ctx.caller.key;
  if (!key) {
    // COS §5.9: anonymous requests only reach public buckets.
    const bucket = resource.bucket
      ? await ctx.deps.objects.requireBucket(resource.bucket as BucketName)
      : undefined;
    if (!bucket || !allowsAnonymous(bucket.acl, ctx.request.method)) {
      throw new AppError('AccessDenied', 'Access Denied: anonymous requests need a signature.');
    }
    if (resource.key !== undefined && !mayReachKey(bucket.libraryId, resource.key, null))
      throw smhKeyDenied(bucket.libraryId);
    return;
  }
  await ctx.deps.credentials.authorize(key, {
    action,
    ...(resource.bucket === undefined ? {} : { bucket: resource.bucket as BucketName }),
    ...(resource.key === undefined ? {} : { key: resource.key }),
    ...(resource.uploadId === undefined ? {} : { uploadId: resource.uploadId }),
  });
}
