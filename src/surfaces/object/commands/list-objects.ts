// ListObjects (V1, what the COS SDK's getBucket sends) and ListObjectsV2 (list-type=2, the AWS SDK):
// prefix, delimiter roll-up, and paging by marker, start-after or continuation token.
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import { MAX_LIST_KEYS } from '../../../core/objects/limits.ts';
import type { ObjectRecord } from '../../../core/objects/model.ts';
import { isoDate } from '../../../lib/http-date.ts';
import { bucketOf, type ObjectContext, sendXml } from '../context.ts';
import { queryValue } from '../target.ts';
import { renderXml } from '../xml.ts';
import { encoder, encodingTypeElement, intParam, owner } from './shared.ts';

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('k:')) {
    throw new AppError('InvalidArgument', 'The continuation token provided is incorrect.', {
      details: { ArgumentName: 'continuation-token', ArgumentValue: token },
    });
  }
  return text.slice(2);
}

const encodeToken = (after: string): string => Buffer.from(`k:${after}`, 'utf8').toString('base64url');

export async function listObjects(ctx: ObjectContext): Promise<void> {
  const v2 = queryValue(ctx.target, 'list-type') === '2';
  const prefix = queryValue(ctx.target, 'prefix') ?? '';
  const delimiter = queryValue(ctx.target, 'delimiter') ?? '';
  const maxKeys = Math.min(intParam(ctx, 'max-keys', { min: 0, fallback: MAX_LIST_KEYS }), MAX_LIST_KEYS);
  const { encode, encodingType } = encoder(ctx);
  const token = v2 ? queryValue(ctx.target, 'continuation-token') : undefined;
  const startAfter = v2 ? (queryValue(ctx.target, 'start-after') ?? '') : '';
  const marker = v2 ? '' : (queryValue(ctx.target, 'marker') ?? '');
  const after = token ? decodeToken(token) : v2 ? startAfter : marker;
  const result = await ctx.deps.objects.listObjects({
    bucket: bucketOf(ctx) as BucketName,
    prefix,
    delimiter,
    after,
    maxKeys,
  });
  const withOwner = !v2 || queryValue(ctx.target, 'fetch-owner') === 'true';
  const contents = result.objects.map((o: ObjectRecord) => ({
    Key: encode(o.key),
    LastModified: isoDate(o.lastModified),
    ETag: `"${o.etag}"`,
    Size: o.size,
    ...(withOwner ? { Owner: owner(ctx) } : {}),
    StorageClass: o.headers.storageClass,
  }));
  const common = result.commonPrefixes.map((p) => ({ Prefix: encode(p) }));
  const body: Record<string, unknown> = v2
    ? {
        Name: bucketOf(ctx),
        Prefix: encode(prefix),
        KeyCount: contents.length + common.length,
        MaxKeys: maxKeys,
        Delimiter: delimiter === '' ? undefined : encode(delimiter),
        IsTruncated: result.isTruncated,
        ContinuationToken: token,
        NextContinuationToken: result.nextAfter !== undefined ? encodeToken(result.nextAfter) : undefined,
        StartAfter: startAfter === '' ? undefined : encode(startAfter),
        [encodingTypeElement(ctx, 'Encoding-Type')]: encodingType,
        Contents: contents,
        CommonPrefixes: common,
      }
    : {
        Name: bucketOf(ctx),
        [encodingTypeElement(ctx, 'Encoding-Type')]: encodingType,
        Prefix: encode(prefix),
        Marker: encode(marker),
        MaxKeys: maxKeys,
        Delimiter: delimiter === '' ? undefined : encode(delimiter),
        IsTruncated: result.isTruncated,
        NextMarker: result.isTruncated && result.lastKey !== undefined ? encode(result.lastKey) : undefined,
        Contents: contents,
        CommonPrefixes: common,
      };
  sendXml(ctx, 200, renderXml('ListBucketResult', body));
}
