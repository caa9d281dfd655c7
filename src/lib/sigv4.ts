// AWS Signature Version 4 (spec §5.5 header form, §5.6 presigned query form): parsing the auth
// fields, building the canonical request, deriving the signing key, and presigning URLs.

import { createHash, createHmac } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** hex SHA-256 of the empty string. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** X-Amz-Expires must lie in 1..604800 (§5.6). */
export const MAX_PRESIGN_EXPIRES_SECONDS = 604800;

export type QueryPairs = ReadonlyArray<readonly [string, string]>;

export class SigV4ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigV4ParseError';
  }
}

export interface SigV4Credential {
  accessKeyId: string;
  /** `yyyymmdd` scope date. */
  date: string;
  region: string;
  service: string;
}

export interface SigV4AuthorizationParams extends SigV4Credential {
  /** Lower-case, in the order the client sent them. */
  signedHeaders: string[];
  /** Lower-case hex. */
  signature: string;
}

export interface SigV4QueryParams extends SigV4AuthorizationParams {
  amzDate: string;
  expiresSeconds: number;
  securityToken?: string;
  contentSha256?: string;
}

const SCOPE_DATE = /^\d{8}$/;
const SIGNATURE = /^[0-9a-fA-F]{64}$/;

/** Parses `<AKID>/<yyyymmdd>/<region>/<service>/aws4_request`. */
export function parseCredential(value: string): SigV4Credential {
  const parts = value.split('/');
  // The fixed-position fields are counted from the end so an unusual access key id cannot shift them.
  if (parts.length < 5 || parts.at(-1) !== 'aws4_request') {
    throw new SigV4ParseError(`malformed credential: ${JSON.stringify(value)}`);
  }
  const accessKeyId = parts.slice(0, -4).join('/');
  const [date, region, service] = parts.slice(-4, -1) as [string, string, string];
  if (!accessKeyId || !SCOPE_DATE.test(date) || !region || !service) {
    throw new SigV4ParseError(`malformed credential: ${JSON.stringify(value)}`);
  }
  return { accessKeyId, date, region, service };
}

function parseSignedHeaders(value: string): string[] {
  const names = value.split(';').map((name) => name.trim().toLowerCase());
  if (names.some((name) => name === '')) {
    throw new SigV4ParseError(`malformed signed headers: ${JSON.stringify(value)}`);
  }
  return names;
}

function parseSignature(value: string): string {
  if (!SIGNATURE.test(value)) throw new SigV4ParseError('signature is not 64 hex digits');
  return value.toLowerCase();
}

/**
 * Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (§5.5): fields in any order,
 * separated by commas and/or whitespace.
 */
export function parseSigV4Authorization(header: string): SigV4AuthorizationParams {
  const trimmed = header.trim();
  if (!trimmed.startsWith(SIGV4_ALGORITHM) || !/^\s/.test(trimmed.slice(SIGV4_ALGORITHM.length))) {
    throw new SigV4ParseError(`not an ${SIGV4_ALGORITHM} authorization`);
  }
  const fields = new Map<string, string>();
  for (const field of trimmed.slice(SIGV4_ALGORITHM.length).split(/[\s,]+/)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    if (eq <= 0) throw new SigV4ParseError(`malformed authorization field: ${JSON.stringify(field)}`);
    const name = field.slice(0, eq);
    if (fields.has(name)) throw new SigV4ParseError(`repeated authorization field ${name}`);
    fields.set(name, field.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw new SigV4ParseError('authorization needs Credential, SignedHeaders and Signature');
  }
  return {
    ...parseCredential(credential),
    signedHeaders: parseSignedHeaders(signedHeaders),
    signature: parseSignature(signature),
  };
}

/**
 * Reads the presigned-URL fields (§5.6) from decoded query pairs; undefined when X-Amz-Algorithm is
 * absent. Parameter names are matched exactly, as S3 does. The range check of X-Amz-Expires is left
 * to the caller, which owns the error code.
 */
export function parseSigV4Query(query: QueryPairs): SigV4QueryParams | undefined {
  const fields = new Map<string, string>();
  for (const [name, value] of query) {
    if (!name.startsWith('X-Amz-')) continue;
    if (fields.has(name)) throw new SigV4ParseError(`repeated query parameter ${name}`);
    fields.set(name, value);
  }
  const algorithm = fields.get('X-Amz-Algorithm');
  if (algorithm === undefined) return undefined;
  if (algorithm !== SIGV4_ALGORITHM) throw new SigV4ParseError(`unsupported algorithm ${algorithm}`);
  const required = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined || value === '') throw new SigV4ParseError(`missing ${name}`);
    return value;
  };
  const amzDate = required('X-Amz-Date');
  if (!parseAmzDate(amzDate)) throw new SigV4ParseError(`malformed X-Amz-Date: ${JSON.stringify(amzDate)}`);
  const expires = required('X-Amz-Expires');
  if (!/^\d{1,10}$/.test(expires))
    throw new SigV4ParseError(`malformed X-Amz-Expires: ${JSON.stringify(expires)}`);
  const params: SigV4QueryParams = {
    ...parseCredential(required('X-Amz-Credential')),
    signedHeaders: parseSignedHeaders(required('X-Amz-SignedHeaders')),
    signature: parseSignature(required('X-Amz-Signature')),
    amzDate,
    expiresSeconds: Number(expires),
  };
  const securityToken = fields.get('X-Amz-Security-Token');
  if (securityToken !== undefined) params.securityToken = securityToken;
  const contentSha256 = fields.get('X-Amz-Content-Sha256');
  if (contentSha256 !== undefined) params.contentSha256 = contentSha256;
  return params;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const UNRESERVED_OR_SLASH = /^[A-Za-z0-9\-._~/]*$/;

function isUnreservedByte(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x30 && b <= 0x39) ||
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x7e
  );
}

const HEX = '0123456789ABCDEF';

function encodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    out += isUnreservedByte(b) ? String.fromCharCode(b) : `%${HEX[b >>> 4]}${HEX[b & 15]}`;
  }
  return out;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * One path segment, percent-decoded to bytes then re-encoded. Working on bytes keeps invalid UTF-8
 * escapes intact; a `%` not followed by two hex digits stands for itself.
 */
function canonicalSegment(segment: string): string {
  if (UNRESERVED.test(segment)) return segment;
  const raw = Buffer.from(segment, 'utf8');
  const bytes = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x25 && i + 2 < raw.length) {
      const hi = hexValue(raw[i + 1]!);
      const lo = hexValue(raw[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        bytes[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    bytes[n++] = b;
  }
  return encodeBytes(bytes.subarray(0, n));
}

/**
 * CanonicalURI (§5.5 item 2) from the raw request path: each segment decoded and re-encoded once,
 * `/` kept, and no normalisation of `.`, `..` or empty segments (S3 rule). The empty path is `/`.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  if (UNRESERVED_OR_SLASH.test(rawPath)) return rawPath;
  return rawPath.split('/').map(canonicalSegment).join('/');
}

/** RFC 3986 encoding of a decoded string (space → %20, never `+`). */
export function uriEncode(s: string): string {
  if (UNRESERVED.test(s)) return s;
  const encoded = encodeURIComponent(s.isWellFormed() ? s : s.toWellFormed());
  return encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * CanonicalQueryString (§5.5 item 3) from decoded pairs: names and values re-encoded, sorted by name
 * then value, joined as `k=v` with `&`. Names in `exclude` are matched exactly.
 */
export function canonicalQuery(pairs: QueryPairs, options: { exclude?: readonly string[] } = {}): string {
  const exclude = options.exclude ?? [];
  const encoded: [string, string][] = [];
  for (const [name, value] of pairs) {
    if (!exclude.includes(name)) encoded.push([uriEncode(name), uriEncode(value)]);
  }
  // Encoded text is ASCII, so code-unit order is byte order.
  encoded.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return encoded.map(([name, value]) => `${name}=${value}`).join('&');
}

/** A header value as signed: trimmed, inner whitespace runs collapsed to one space (§5.5 item 4). */
function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export interface CanonicalRequestInput {
  method: string;
  /** The path as it appeared on the request line, still percent-encoded. */
  rawPath: string;
  /** Decoded query pairs. `X-Amz-Signature` is always left out (§5.6). */
  query: QueryPairs;
  /** Lower-case name → value, repeated headers already joined with `,`. A missing header signs as empty. */
  headers: Readonly<Record<string, string | undefined>>;
  signedHeaders: readonly string[];
  payloadHash: string;
}

/** The canonical request text (§5.5). */
export function canonicalRequest(input: CanonicalRequestInput): string {
  const names = input.signedHeaders.map((name) => name.toLowerCase()).sort();
  let headerLines = '';
  for (const name of names) headerLines += `${name}:${canonicalHeaderValue(input.headers[name] ?? '')}\n`;
  return [
    input.method.toUpperCase(),
    canonicalUri(input.rawPath),
    canonicalQuery(input.query, { exclude: ['X-Amz-Signature'] }),
    headerLines,
    names.join(';'),
    input.payloadHash,
  ].join('\n');
}

/** `<yyyymmdd>/<region>/<service>/aws4_request`. */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC chain over date, region, service and `aws4_request` (§5.5). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** `AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex SHA-256(canonical request)>` (§5.5). */
export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  const hash = createHash('sha256').update(canonicalRequestText, 'utf8').digest('hex');
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${hash}`;
}

/** hex HMAC-SHA256(signing key, string to sign). */
export function sigV4Signature(key: Buffer, toSign: string): string {
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

/** `yyyymmddThhmmssZ` in UTC. */
export function amzDateFromDate(d: Date): string {
  // 2013-05-24T00:00:00.000Z → 20130524T000000Z
  return `${d.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** Builds a UTC date and rejects field values that would roll over (Feb 30, 25:00). */
function utcDate(
  year: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
): Date | undefined {
  const d = new Date(Date.UTC(year, month - 1, day, h, m, s));
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== h ||
    d.getUTCMinutes() !== m ||
    d.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return d;
}

/** Parses `yyyymmddThhmmssZ`; undefined when malformed. */
export function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  return utcDate(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Splits `name=value&…` and percent-decodes both sides; no `+` to space (§0). */
function decodeQueryString(search: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of search.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([decodeURIComponent(name), decodeURIComponent(value)]);
  }
  return pairs;
}

export interface PresignSigV4Options {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Default `s3`. */
  service?: string;
  method: string;
  /** Full URL; its path is signed exactly as written, without dot-segment normalisation. */
  url: string;
  expiresSeconds: number;
  now: Date;
  sessionToken?: string;
  /** Headers besides `host` that the request will carry and that are to be signed (name → value). */
  signedHeaders?: Readonly<Record<string, string>>;
  /** The signing key of `now`'s date, when the caller signs many URLs at once (derived otherwise). */
  signingKey?: Buffer;
}

/** A presigned URL (§5.6) with payload hash UNSIGNED-PAYLOAD. */
export function presignSigV4(options: PresignSigV4Options): string {
  const service = options.service ?? 's3';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*)([^?#]*)(?:\?([^#]*))?/.exec(options.url);
  if (!m) throw new TypeError(`not an absolute URL: ${options.url}`);
  const origin = m[1]!;
  const rawPath = m[2] || '/';
  const host = new URL(options.url).host;

  const headers: Record<string, string> = { host };
  for (const [name, value] of Object.entries(options.signedHeaders ?? {}))
    headers[name.toLowerCase()] = value;
  const signedHeaderNames = Object.keys(headers).sort();

  const amzDate = amzDateFromDate(options.now);
  const date = amzDate.slice(0, 8);
  const scope = credentialScope(date, options.region, service);
  const query = decodeQueryString(m[3] ?? '');
  query.push(
    ['X-Amz-Algorithm', SIGV4_ALGORITHM],
    ['X-Amz-Credential', `${options.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(options.expiresSeconds)],
    ['X-Amz-SignedHeaders', signedHeaderNames.join(';')],
  );
  if (options.sessionToken !== undefined) query.push(['X-Amz-Security-Token', options.sessionToken]);

  const canonical = canonicalRequest({
    method: options.method,
    rawPath,
    query,
    headers,
    signedHeaders: signedHeaderNames,
    payloadHash: UNSIGNED_PAYLOAD,
  });
  const key = options.signingKey ?? signingKey(options.secretAccessKey, date, options.region, service);
  const signature = sigV4Signature(key, stringToSign(amzDate, scope, canonical));
  return `${origin}${rawPath}?${canonicalQuery(query)}&X-Amz-Signature=${signature}`;
}
