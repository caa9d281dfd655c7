// The object API's operation table (spec cos-api §2): method, target level (service, bucket, object),
// query markers, headers and content type select one operation. Rows of operations we do not implement
// (bucket sub-resources, Cloud Infinite image and media processing, customer-key encryption) come
// first, so such a request answers 501 instead of reaching a command that would ignore what it asks.
import { AppError } from '../../core/errors.ts';
import type { ObjectAction } from '../../core/objects/credential-service.ts';
import type { ObjectTarget } from './target.ts';

export type Operation = ObjectAction | 'Preflight' | 'GetBucketLocation';

export type Level = 'service' | 'bucket' | 'object';

interface Selector {
  method: string | 'ANY';
  level: Level | 'ANY';
  /** Query parameters that must all be present. */
  query?: readonly string[];
  /** A query parameter named this or starting with this and `/` (image processing pipelines). */
  queryPrefix?: string;
  /** Headers of which one must be present. */
  header?: readonly string[];
  /** Content type prefix that must match. */
  contentType?: string;
}

export interface ImplementedOperation extends Selector {
  op: Operation;
  implemented: true;
  /** What mediahost supports, for docs/api-coverage.md. */
  summary?: string;
}

export interface MissingOperation extends Selector {
  op: string;
  implemented: false;
  /** The 501 message, when the default one would not say enough. */
  message?: string;
}

export type ObjectOperation = ImplementedOperation | MissingOperation;

/** Bucket and object sub-resources (spec cos-api §2: acl, tagging, … answer 501). */
export const UNSUPPORTED_SUBRESOURCES = [
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
] as const;

/** COS Cloud Infinite processing selected by a query parameter on an object (`?imageMogr2/…`). */
export const UNSUPPORTED_PROCESSING = [
  'imageMogr2',
  'imageView2',
  'imageInfo',
  'imageAve',
  'imageSlim',
  'exif',
  'watermark',
  'ci-process',
  'image_process',
] as const;

const subresource = (name: string): MissingOperation => ({
  op: `SubResource:${name}`,
  method: 'ANY',
  level: 'ANY',
  query: [name],
  implemented: false,
  message: `The ${name} sub-resource is not implemented.`,
});

const processing = (name: string): MissingOperation => ({
  op: `Processing:${name}`,
  method: 'ANY',
  level: 'object',
  queryPrefix: name,
  implemented: false,
  message: `Cloud Infinite processing (${name}) is not implemented; the object is served only as stored.`,
});

// The first matching row wins: specific rows come before general ones.
export const OBJECT_OPERATIONS: readonly ObjectOperation[] = [
  {
    op: 'Preflight',
    method: 'OPTIONS',
    level: 'ANY',
    implemented: true,
    summary: 'origins from `--cors-origins` (shared with the SMH and VOD APIs)',
  },
  ...UNSUPPORTED_SUBRESOURCES.map(subresource),
  ...UNSUPPORTED_PROCESSING.map(processing),
  {
    op: 'PicOperations',
    method: 'ANY',
    level: 'object',
    header: ['pic-operations'],
    implemented: false,
    message: 'Processing on upload (Pic-Operations) is not implemented.',
  },
  {
    op: 'CustomerKeyEncryption',
    method: 'ANY',
    level: 'ANY',
    header: [
      'x-cos-server-side-encryption-customer-algorithm',
      'x-amz-server-side-encryption-customer-algorithm',
    ],
    implemented: false,
    message: 'Server-side encryption with customer-provided keys (SSE-C) is not implemented.',
  },
  {
    op: 'ListBuckets',
    method: 'GET',
    level: 'service',
    implemented: true,
    summary: "the caller's library's buckets",
  },
  {
    op: 'PostObject',
    method: 'POST',
    level: 'service',
    contentType: 'multipart/form-data',
    implemented: true,
    summary: 'a form posted to `/` is stored in the bucket of the key that signed it',
  },
  { op: 'HeadBucket', method: 'HEAD', level: 'bucket', implemented: true },
  {
    op: 'ListMultipartUploads',
    method: 'GET',
    level: 'bucket',
    query: ['uploads'],
    implemented: true,
    summary: 'prefix, delimiter, key/upload-id markers',
  },
  {
    op: 'GetBucketLocation',
    method: 'GET',
    level: 'bucket',
    query: ['location'],
    implemented: true,
    summary: 'returns `--region`',
  },
  {
    op: 'ListObjects',
    method: 'GET',
    level: 'bucket',
    implemented: true,
    summary:
      'V1 (prefix, delimiter, marker, max-keys, encoding-type) and V2 (`list-type=2`: continuation-token, start-after, fetch-owner)',
  },
  {
    op: 'DeleteObjects',
    method: 'POST',
    level: 'bucket',
    query: ['delete'],
    implemented: true,
    summary: 'up to 1000 keys, Quiet mode; SMH keys answer a per-key `AccessDenied`',
  },
  {
    op: 'PostObject',
    method: 'POST',
    level: 'bucket',
    contentType: 'multipart/form-data',
    implemented: true,
    summary: 'COS and S3 policies, content-length-range, success_action_*',
  },
  {
    op: 'PutBucket',
    method: 'PUT',
    level: 'bucket',
    implemented: false,
    message: 'Buckets are created and removed with libraries (`mediahost library create`).',
  },
  {
    op: 'DeleteBucket',
    method: 'DELETE',
    level: 'bucket',
    implemented: false,
    message: 'Buckets are created and removed with libraries (`mediahost library create`).',
  },
  {
    op: 'UploadPartCopy',
    method: 'PUT',
    level: 'object',
    query: ['partNumber', 'uploadId'],
    header: ['x-cos-copy-source', 'x-amz-copy-source'],
    implemented: true,
    summary: 'optional source range',
  },
  { op: 'UploadPart', method: 'PUT', level: 'object', query: ['partNumber', 'uploadId'], implemented: true },
  {
    op: 'CopyObject',
    method: 'PUT',
    level: 'object',
    header: ['x-cos-copy-source', 'x-amz-copy-source'],
    implemented: true,
    summary: 'within a library; COPY / REPLACE metadata; copy-source conditions',
  },
  {
    op: 'PutObject',
    method: 'PUT',
    level: 'object',
    implemented: true,
    summary: 'Content-MD5, SHA-256 payload, x-amz-checksum-* (CRC32, CRC32C, SHA1, SHA256), aws-chunked',
  },
  {
    op: 'ListParts',
    method: 'GET',
    level: 'object',
    query: ['uploadId'],
    implemented: true,
    summary: 'paged',
  },
  {
    op: 'GetObject',
    method: 'GET',
    level: 'object',
    implemented: true,
    summary:
      'single Range, conditionals, response-* overrides (only where the signature covers them; ADR 0001 §21)',
  },
  { op: 'HeadObject', method: 'HEAD', level: 'object', implemented: true },
  {
    op: 'AbortMultipartUpload',
    method: 'DELETE',
    level: 'object',
    query: ['uploadId'],
    implemented: true,
    summary: 'stops parts still streaming',
  },
  {
    op: 'DeleteObject',
    method: 'DELETE',
    level: 'object',
    implemented: true,
    summary: '204 even when absent',
  },
  { op: 'CreateMultipartUpload', method: 'POST', level: 'object', query: ['uploads'], implemented: true },
  {
    op: 'CompleteMultipartUpload',
    method: 'POST',
    level: 'object',
    query: ['uploadId'],
    implemented: true,
    summary: 'no byte copy; idempotent retry window',
  },
];

function matches(
  row: Selector,
  method: string,
  level: Level,
  target: ObjectTarget,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  if (row.method !== 'ANY' && row.method !== method) return false;
  if (row.level !== 'ANY' && row.level !== level) return false;
  const names = target.query.map(([name]) => name);
  if (row.query && !row.query.every((q) => names.includes(q))) return false;
  const prefix = row.queryPrefix;
  if (prefix !== undefined && !names.some((n) => n === prefix || n.startsWith(`${prefix}/`))) return false;
  if (row.header && !row.header.some((h) => headers[h] !== undefined)) return false;
  const contentType = String(headers['content-type'] ?? '').toLowerCase();
  if (row.contentType && !contentType.startsWith(row.contentType)) return false;
  return true;
}

export function levelOf(target: ObjectTarget): Level {
  return target.bucket === undefined ? 'service' : target.key === undefined ? 'bucket' : 'object';
}

/** The table row a request selects, or undefined when none does. */
export function findObjectOperation(
  method: string,
  target: ObjectTarget,
  headers: Record<string, string | string[] | undefined>,
): ObjectOperation | undefined {
  const level = levelOf(target);
  return OBJECT_OPERATIONS.find((r) => matches(r, method, level, target, headers));
}

export function resolveOperation(
  method: string,
  target: ObjectTarget,
  headers: Record<string, string | string[] | undefined>,
): Operation {
  const row = findObjectOperation(method, target, headers);
  if (!row)
    throw new AppError('MethodNotAllowed', `The ${method} method is not allowed against this resource.`);
  if (!row.implemented)
    throw new AppError('NotImplemented', row.message ?? `The ${row.op} operation is not implemented.`);
  return row.op;
}
