// The object API routing table (spec cos-api §2): method, target level (service, bucket, object) and
// the query markers select one command. Sub-resources we do not implement answer 501.
import { AppError } from '../../core/errors.ts';
import type { ObjectAction } from '../../core/objects/credential-service.ts';
import { hasQuery, type ObjectTarget } from './target.ts';

export type Operation = ObjectAction | 'Preflight' | 'GetBucketLocation';

type Level = 'service' | 'bucket' | 'object';

interface Route {
  method: string;
  level: Level;
  op: Operation;
  /** Query parameters that must be present. */
  query?: readonly string[];
  /** A header that must be present. */
  header?: readonly string[];
  /** Content type prefix that must match. */
  contentType?: string;
}

// Order matters: the first matching row wins, so specific rows come before general ones.
const ROUTES: readonly Route[] = [
  { method: 'GET', level: 'service', op: 'ListBuckets' },
  { method: 'POST', level: 'service', op: 'PostObject', contentType: 'multipart/form-data' },
  { method: 'HEAD', level: 'bucket', op: 'HeadBucket' },
  { method: 'GET', level: 'bucket', op: 'ListMultipartUploads', query: ['uploads'] },
  { method: 'GET', level: 'bucket', op: 'GetBucketLocation', query: ['location'] },
  { method: 'GET', level: 'bucket', op: 'ListObjects' },
  { method: 'POST', level: 'bucket', op: 'DeleteObjects', query: ['delete'] },
  { method: 'POST', level: 'bucket', op: 'PostObject', contentType: 'multipart/form-data' },
  {
    method: 'PUT',
    level: 'object',
    op: 'UploadPartCopy',
    query: ['partNumber', 'uploadId'],
    header: ['x-cos-copy-source', 'x-amz-copy-source'],
  },
  { method: 'PUT', level: 'object', op: 'UploadPart', query: ['partNumber', 'uploadId'] },
  { method: 'PUT', level: 'object', op: 'CopyObject', header: ['x-cos-copy-source', 'x-amz-copy-source'] },
  { method: 'PUT', level: 'object', op: 'PutObject' },
  { method: 'GET', level: 'object', op: 'ListParts', query: ['uploadId'] },
  { method: 'GET', level: 'object', op: 'GetObject' },
  { method: 'HEAD', level: 'object', op: 'HeadObject' },
  { method: 'DELETE', level: 'object', op: 'AbortMultipartUpload', query: ['uploadId'] },
  { method: 'DELETE', level: 'object', op: 'DeleteObject' },
  { method: 'POST', level: 'object', op: 'CreateMultipartUpload', query: ['uploads'] },
  { method: 'POST', level: 'object', op: 'CompleteMultipartUpload', query: ['uploadId'] },
];

const UNSUPPORTED_SUBRESOURCES = [
  'acl',
  'tagging',
  'cors',
  'versioning',
  'versions',
  'lifecycle',
  'policy',
  'restore',
  'select',
  'append',
  'website',
  'logging',
  'replication',
  'encryption',
  'notification',
  'inventory',
  'referer',
  'domain',
  'accelerate',
  'intelligenttiering',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'attributes',
];

export function resolveOperation(
  method: string,
  target: ObjectTarget,
  headers: Record<string, string | string[] | undefined>,
): Operation {
  if (method === 'OPTIONS') return 'Preflight';
  const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => hasQuery(target, name));
  if (unsupported)
    throw new AppError('NotImplemented', `The ${unsupported} sub-resource is not implemented.`);
  const level: Level =
    target.bucket === undefined ? 'service' : target.key === undefined ? 'bucket' : 'object';
  const contentType = String(headers['content-type'] ?? '').toLowerCase();
  for (const route of ROUTES) {
    if (route.method !== method || route.level !== level) continue;
    if (route.query && !route.query.every((q) => hasQuery(target, q))) continue;
    if (route.header && !route.header.some((h) => headers[h] !== undefined)) continue;
    if (route.contentType && !contentType.startsWith(route.contentType)) continue;
    return route.op;
  }
  if (level === 'bucket' && (method === 'PUT' || method === 'DELETE')) {
    throw new AppError(
      'NotImplemented',
      'Buckets are created and removed with libraries (`mediahost library create`).',
    );
  }
  throw new AppError('MethodNotAllowed', `The ${method} method is not allowed against this resource.`);
}
