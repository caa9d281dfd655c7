// Object headers on the wire: what a PUT/POST/Create stores (content headers, x-cos-meta-*/x-amz-meta-*,
// storage class), what GET/HEAD return (with response-* overrides), conditional requests and Range.
import { AppError } from '../../core/errors.ts';
import type { ObjectHeaders, ObjectRecord } from '../../core/objects/model.ts';
import type { ByteRange } from '../../core/objects/object-service.ts';
import { httpDate, parseHttpDate } from '../../lib/http-date.ts';
import { header, type ObjectContext } from './context.ts';
import { RESPONSE_OVERRIDES } from './response-overrides.ts';
import { queryValue } from './target.ts';

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Content-Encoding without the aws-chunked token (spec cos-api §5.7). */
function storedEncoding(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const tokens = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t.toLowerCase() !== 'aws-chunked');
  return tokens.length === 0 ? undefined : tokens.join(', ');
}

/** Headers stored with an object; empty values count as absent (the COS SDK sends empty ones). */
export function headersFromFields(get: (name: string) => string | undefined): ObjectHeaders {
  const meta: Record<string, string> = {};
  const storageClass = nonEmpty(get('x-cos-storage-class') ?? get('x-amz-storage-class'));
  const out: ObjectHeaders = {
    contentType: nonEmpty(get('content-type')) ?? 'application/octet-stream',
    storageClass: storageClass ? storageClass.toUpperCase() : 'STANDARD',
    meta,
  };
  const optional = {
    cacheControl: nonEmpty(get('cache-control')),
    contentDisposition: nonEmpty(get('content-disposition')),
    contentEncoding: storedEncoding(nonEmpty(get('content-encoding'))),
    contentLanguage: nonEmpty(get('content-language')),
    expires: nonEmpty(get('expires')),
  };
  for (const [k, v] of Object.entries(optional))
    if (v !== undefined) (out as unknown as Record<string, string>)[k] = v;
  return out;
}

export function headersFromRequest(ctx: ObjectContext): ObjectHeaders {
  const headers = headersFromFields((name) => header(ctx, name));
  for (const [name, value] of Object.entries(ctx.request.headers)) {
    const m = /^x-(?:cos|amz)-meta-(.+)$/.exec(name);
    if (m && value !== undefined) headers.meta[m[1]!] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** Response headers of GET/HEAD for a stored object; metadata prefix follows the dialect. */
export function objectResponseHeaders(ctx: ObjectContext, object: ObjectRecord): Record<string, string> {
  const h = object.headers;
  const out: Record<string, string> = {
    'content-type': h.contentType,
    etag: `"${object.etag}"`,
    'last-modified': httpDate(object.lastModified),
    'accept-ranges': 'bytes',
    'x-cos-hash-crc64ecma': object.crc64,
  };
  if (h.cacheControl) out['cache-control'] = h.cacheControl;
  if (h.contentDisposition) out['content-disposition'] = h.contentDisposition;
  if (h.contentEncoding) out['content-encoding'] = h.contentEncoding;
  if (h.contentLanguage) out['content-language'] = h.contentLanguage;
  if (h.expires) out.expires = h.expires;
  if (h.storageClass !== 'STANDARD')
    out[ctx.caller.dialect === 's3' ? 'x-amz-storage-class' : 'x-cos-storage-class'] = h.storageClass;
  const prefix = ctx.caller.dialect === 's3' ? 'x-amz-meta-' : 'x-cos-meta-';
  for (const [name, value] of Object.entries(h.meta)) out[prefix + name] = value;
  if (object.partsCount > 0 && ctx.caller.dialect === 's3')
    out['x-amz-mp-parts-count'] = String(object.partsCount);
  // response-* query parameters override the stored headers on GET.
  if (ctx.request.method === 'GET') {
    for (const [param, name] of RESPONSE_OVERRIDES) {
      const value = queryValue(ctx.target, param);
      if (value !== undefined && value !== '') out[name] = value;
    }
  }
  return { ...out, ...userContentGuards(out['content-type']) };
}

/** Media types a browser runs as a page (scripts, same-origin access) when navigated to. */
const ACTIVE_CONTENT =
  /^\s*(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|application\/[\w.+-]*\+xml|text\/xsl)\s*(;|$)/i;

/**
 * Stored bytes are the tenants', served from the origin of the web console and the APIs: a browser
 * must never sniff them into a page, and a page a tenant uploaded runs sandboxed (an opaque origin, no
 * scripts), so it can read nothing of ours. Other types stay untouched (a sandbox would block PDFs).
 */
export function userContentGuards(contentType: string | undefined): Record<string, string> {
  const guards: Record<string, string> = { 'x-content-type-options': 'nosniff' };
  if (contentType === undefined || ACTIVE_CONTENT.test(contentType))
    guards['content-security-policy'] = 'sandbox';
  return guards;
}

const stripEtag = (v: string): string => v.trim().replace(/^W\//i, '').replace(/^"|"$/g, '');

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((item) => item.trim() === '*' || stripEtag(item) === etag);
}

export type ConditionOutcome = 'ok' | 'not-modified' | 'precondition-failed';

/** RFC 7232 evaluation order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. */
export function evaluateConditions(
  get: (name: string) => string | undefined,
  object: Pick<ObjectRecord, 'etag' | 'lastModified'>,
  prefix = '',
): ConditionOutcome {
  const modifiedSeconds = Math.floor(object.lastModified / 1000);
  const ifMatch = get(`${prefix}if-match`);
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, object.etag)) return 'precondition-failed';
  } else {
    const since = parseHttpDate(get(`${prefix}if-unmodified-since`));
    if (since !== undefined && modifiedSeconds > Math.floor(since / 1000)) return 'precondition-failed';
  }
  const ifNoneMatch = get(`${prefix}if-none-match`);
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, object.etag)) return 'not-modified';
  } else {
    const since = parseHttpDate(get(`${prefix}if-modified-since`));
    if (since !== undefined && modifiedSeconds <= Math.floor(since / 1000)) return 'not-modified';
  }
  return 'ok';
}

/**
 * A single `bytes=` range (spec cos-api §2.2). Syntactically invalid or multiple ranges are ignored
 * (full 200); a valid range outside the object is 416 InvalidRange.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*bytes=(\d*)-(\d*)\s*$/.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = (): never => {
    throw new AppError('InvalidRange', 'The requested range is not satisfiable.', {
      details: { ObjectSize: size },
    });
  };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return undefined;
  if (start >= size) return unsatisfiable();
  return { start, end: Math.min(end, size - 1) };
}
