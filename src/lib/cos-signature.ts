// COS `q-sign-algorithm=sha1` request signatures: parsing the Authorization header or presigned query,
// rebuilding HttpString / StringToSign exactly as spec §5.1 describes, signing requests, and the
// POST Object policy signature (§2.5 step 7).

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The auth fields of a COS-signed request. List entries are lower-cased, as they were signed. */
export interface CosAuthParams {
  algorithm: string;
  accessKeyId: string;
  signTime: string;
  keyTime: string;
  headerList: string[];
  urlParamList: string[];
  signature: string;
}

/**
 * COS auth is present but cannot be used. `missingField` is set when a name listed in q-header-list
 * or q-url-param-list is absent from the request, which §5.1 step 5 maps to SignatureDoesNotMatch
 * (other cases are malformed auth).
 */
export class CosAuthParseError extends Error {
  readonly missingField: string | undefined;

  constructor(message: string, missingField?: string) {
    super(message);
    this.name = 'CosAuthParseError';
    this.missingField = missingField;
  }
}

export type CosHeaderValue = string | readonly string[] | undefined;
export type CosHeaders = Readonly<Record<string, CosHeaderValue>>;
export type QueryPairs = ReadonlyArray<readonly [string, string]>;

/**
 * COS UrlEncode (§5.1 step 3): UTF-8, then every byte except `A-Z a-z 0-9 - _ . ~` as upper-case %XX.
 * Lone surrogates become U+FFFD rather than throwing.
 */
export function cosUrlEncode(s: string): string {
  const encoded = encodeURIComponent(s.isWellFormed() ? s : s.toWellFormed());
  return encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Parses `start;end` (Unix seconds) as used by q-sign-time and q-key-time. */
export function parseKeyTime(s: string): { start: number; end: number } {
  const m = /^\s*(\d{1,15})\s*;\s*(\d{1,15})\s*$/.exec(s);
  if (!m) throw new CosAuthParseError(`invalid key time: ${JSON.stringify(s)}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new CosAuthParseError(`key time ends before it starts: ${JSON.stringify(s)}`);
  return { start, end };
}

function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(';')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
}

/** A time field as signed; tolerates a `;` left percent-encoded (`a%3Bb`, §5.1 verification step 1). */
function timeField(value: string): string {
  return value.trim().replace(/%3b/gi, ';');
}

function paramsFromFields(fields: ReadonlyMap<string, string>): CosAuthParams {
  const required = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined || value === '') throw new CosAuthParseError(`missing ${name}`);
    return value;
  };
  const params: CosAuthParams = {
    algorithm: required('q-sign-algorithm').toLowerCase(),
    accessKeyId: required('q-ak'),
    signTime: timeField(required('q-sign-time')),
    keyTime: timeField(required('q-key-time')),
    headerList: splitList(fields.get('q-header-list')),
    urlParamList: splitList(fields.get('q-url-param-list')),
    signature: required('q-signature').toLowerCase(),
  };
  // §5.1 verification step 4: both times must be `s;e` integers.
  parseKeyTime(params.signTime);
  parseKeyTime(params.keyTime);
  return params;
}

/**
 * Reads COS auth from an Authorization header value (§5.1 verification step 1: trim, split on `&`,
 * split each field at the first `=`). Undefined when the header is not COS auth.
 */
export function parseCosAuthorization(header: string): CosAuthParams | undefined {
  const trimmed = header.trim();
  if (!/(^|&)\s*q-sign-algorithm=/i.test(trimmed)) return undefined;
  const fields = new Map<string, string>();
  for (const field of trimmed.split('&')) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const name = field.slice(0, eq).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, field.slice(eq + 1).trim());
  }
  return paramsFromFields(fields);
}

/**
 * Reads COS auth from presigned query parameters (§5.3), values already percent-decoded by the
 * caller. Undefined when `q-sign-algorithm` is absent. The first occurrence of a field wins.
 */
export function parseCosQueryAuth(query: QueryPairs): CosAuthParams | undefined {
  const fields = new Map<string, string>();
  for (const [rawName, value] of query) {
    const name = rawName.toLowerCase();
    if (name.startsWith('q-') && !fields.has(name)) fields.set(name, value);
  }
  if (!fields.has('q-sign-algorithm')) return undefined;
  return paramsFromFields(fields);
}

function hmacSha1Hex(key: string, message: string): string {
  return createHmac('sha1', key).update(message, 'utf8').digest('hex');
}

/** SignKey = hex(HMAC-SHA1(SecretKey, KeyTime)) (§5.1 step 2). */
export function cosSignKey(secretKey: string, keyTime: string): string {
  return hmacSha1Hex(secretKey, keyTime);
}

/** hex(HMAC-SHA1(key = SignKey as its ASCII hex text, msg)) (§5.1 step 8, §2.5 step 7). */
export function cosSignWithKey(signKey: string, stringToSign: string): string {
  return hmacSha1Hex(signKey, stringToSign);
}

/**
 * A list entry in canonical form, lower(UrlEncode(name)). Entries normally already are; decoding
 * first also accepts a list whose entries arrived unencoded (a query value decoded once too often).
 */
export function canonicalListEntry(entry: string): string {
  if (!entry.includes('%')) return cosUrlEncode(entry).toLowerCase();
  try {
    return cosUrlEncode(decodeURIComponent(entry)).toLowerCase();
  } catch {
    return entry.toLowerCase();
  }
}

function headerText(value: CosHeaderValue): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

/**
 * Builds `k1=v1&k2=v2…` over exactly the listed names, in list order (§5.1 steps 4-5). `available`
 * maps lower(UrlEncode(name)) to the raw value; a listed name it lacks is a CosAuthParseError.
 */
function signedPairs(list: readonly string[], available: ReadonlyMap<string, string>, kind: string): string {
  const parts: string[] = [];
  for (const entry of list) {
    const key = canonicalListEntry(entry);
    const value = available.get(key);
    // §5.1 verification step 5: a listed name missing from the request → SignatureDoesNotMatch.
    if (value === undefined) throw new CosAuthParseError(`signed ${kind} ${key} is missing`, key);
    parts.push(`${key}=${cosUrlEncode(value)}`);
  }
  return parts.join('&');
}

export interface CosSignatureInput {
  secretKey: string;
  method: string;
  /** The decoded request path, starting with `/` (§5.1 step 6). */
  path: string;
  /** Decoded query pairs; the first occurrence of a name is the one signed. */
  query: QueryPairs;
  /** Request headers keyed by lower-case name. */
  headers: CosHeaders;
  headerList: readonly string[];
  urlParamList: readonly string[];
  keyTime: string;
  signTime: string;
}

/**
 * The q-sign-algorithm=sha1 StringToSign (§5.1 steps 4-7). Throws CosAuthParseError with `missingField`
 * set when a listed name is absent.
 */
export function cosStringToSign(input: Omit<CosSignatureInput, 'secretKey' | 'keyTime'>): string {
  const queryByKey = new Map<string, string>();
  for (const [name, value] of input.query) {
    const key = cosUrlEncode(name).toLowerCase();
    if (!queryByKey.has(key)) queryByKey.set(key, value);
  }
  const headerByKey = new Map<string, string>();
  for (const [name, raw] of Object.entries(input.headers)) {
    const value = headerText(raw);
    if (value !== undefined) headerByKey.set(cosUrlEncode(name).toLowerCase(), value);
  }
  const httpString =
    `${input.method.toLowerCase()}\n${input.path}\n` +
    `${signedPairs(input.urlParamList, queryByKey, 'parameter')}\n` +
    `${signedPairs(input.headerList, headerByKey, 'header')}\n`;
  const httpHash = createHash('sha1').update(httpString, 'utf8').digest('hex');
  return `sha1\n${input.signTime}\n${httpHash}\n`;
}

/**
 * The hex signature the server expects (§5.1 verification algorithm): SignKey from q-key-time,
 * StringToSign from q-sign-time. Throws CosAuthParseError with `missingField` set when a listed
 * parameter or header is absent from the request.
 */
export function computeCosSignature(input: CosSignatureInput): string {
  return cosSignWithKey(cosSignKey(input.secretKey, input.keyTime), cosStringToSign(input));
}

/** Verifies `signature` in constant time; false on mismatch or when a listed name is missing. */
export function verifyCosSignature(input: CosSignatureInput & { signature: string }): boolean {
  let expected: string;
  try {
    expected = computeCosSignature(input);
  } catch (err) {
    if (err instanceof CosAuthParseError && err.missingField !== undefined) return false;
    throw err;
  }
  return timingSafeEqualHex(expected, input.signature);
}

export interface CosSignRequestOptions {
  secretId: string;
  secretKey: string;
  method: string;
  /** Decoded path starting with `/`. */
  path: string;
  query?: QueryPairs;
  /** Header names in any case. */
  headers?: Readonly<Record<string, string>>;
  startSeconds: number;
  endSeconds: number;
  /** Header names to sign; default: every given header. */
  signHeaders?: readonly string[];
  /** Query parameter names to sign; default: every given parameter. */
  signParams?: readonly string[];
}

function sortedList(names: Iterable<string>): string[] {
  const keys = new Set<string>();
  for (const name of names) keys.add(cosUrlEncode(name).toLowerCase());
  return [...keys].sort();
}

/** Produces a full COS Authorization value (§5.1 step 9) with q-sign-time equal to q-key-time. */
export function signCosRequest(options: CosSignRequestOptions): string {
  const query = options.query ?? [];
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  const headerList = sortedList(options.signHeaders ?? Object.keys(headers));
  const urlParamList = sortedList(options.signParams ?? query.map(([name]) => name));
  const keyTime = `${options.startSeconds};${options.endSeconds}`;
  const signature = computeCosSignature({
    secretKey: options.secretKey,
    method: options.method,
    path: options.path,
    query,
    headers,
    headerList,
    urlParamList,
    keyTime,
    signTime: keyTime,
  });
  return [
    'q-sign-algorithm=sha1',
    `q-ak=${options.secretId}`,
    `q-sign-time=${keyTime}`,
    `q-key-time=${keyTime}`,
    `q-header-list=${headerList.join(';')}`,
    `q-url-param-list=${urlParamList.join(';')}`,
    `q-signature=${signature}`,
  ].join('&');
}

/**
 * POST Object policy signature (§2.5 step 7): HMAC-SHA1 keyed by SignKey over hex(SHA1(policy JSON
 * bytes as decoded from base64)).
 */
export function cosPolicySignature(secretKey: string, keyTime: string, policyJsonBytes: Buffer): string {
  const stringToSign = createHash('sha1').update(policyJsonBytes).digest('hex');
  return cosSignWithKey(cosSignKey(secretKey, keyTime), stringToSign);
}

/** Constant-time comparison of two hex strings, ignoring letter case. */
export function timingSafeEqualHex(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase(), 'latin1');
  const right = Buffer.from(b.toLowerCase(), 'latin1');
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}
