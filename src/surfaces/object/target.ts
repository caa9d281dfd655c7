// Finding bucket and key in a request (spec cos-api §1.2): real COS host names and configured suffixes
// select virtual-host style, anything else is path style. The key comes from the raw request target,
// percent-decoded as UTF-8 and never normalised: `..`, `//` and a trailing `/` are part of the key.
import { AppError } from '../../core/errors.ts';

export type AddressingStyle = 'virtual-host' | 'path';

export interface ObjectTarget {
  style: AddressingStyle;
  /** Host header without the port, lower case. */
  hostname: string;
  /** Host header as sent (with port), for Location and Resource values. */
  host: string;
  /** The encoded path as sent, e.g. `/bucket/a%20b`. */
  rawPath: string;
  /** The decoded path, e.g. `/bucket/a b`. */
  path: string;
  bucket: string | undefined;
  /** Undefined for bucket- and service-level requests. */
  key: string | undefined;
  /** Decoded query pairs in the order sent; a parameter without `=` has the value "". */
  query: [string, string][];
}

const COS_HOST =
  /^([a-z0-9][a-z0-9-]*-\d+)\.cos(?:-internal|-cdc|v6)?\.([a-z0-9-]+)\.(?:myqcloud\.com|tencentcos\.cn)$/;

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new AppError(
      'InvalidURI',
      `Couldn't parse the specified URI: the ${what} is not valid percent-encoded UTF-8.`,
    );
  }
}

export function parseQuery(raw: string): [string, string][] {
  if (raw === '') return [];
  const out: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    out.push([decode(name, 'query'), decode(value, 'query')]);
  }
  return out;
}

/** The bucket a Host header names in virtual-host style, or undefined for path style. */
export function virtualHostBucket(hostname: string, vhostSuffixes: readonly string[]): string | undefined {
  const cos = COS_HOST.exec(hostname);
  if (cos) return cos[1];
  for (const suffix of vhostSuffixes) {
    const s = suffix.toLowerCase();
    if (hostname.length > s.length + 1 && hostname.endsWith(`.${s}`))
      return hostname.slice(0, hostname.length - s.length - 1);
  }
  return undefined;
}

export function hostnameOf(hostHeader: string | undefined): string {
  return (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
}

export function resolveTarget(
  rawUrl: string,
  hostHeader: string | undefined,
  vhostSuffixes: readonly string[],
): ObjectTarget {
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = parseQuery(q < 0 ? '' : rawUrl.slice(q + 1));
  if (!rawPath.startsWith('/')) throw new AppError('InvalidURI', "Couldn't parse the specified URI.");
  const host = hostHeader ?? '';
  const hostname = hostnameOf(host);
  const path = decode(rawPath, 'path');

  const vhostBucket = virtualHostBucket(hostname, vhostSuffixes);
  if (vhostBucket !== undefined) {
    const key = rawPath.length > 1 ? decode(rawPath.slice(1), 'path') : undefined;
    return { style: 'virtual-host', hostname, host, rawPath, path, bucket: vhostBucket, key, query };
  }
  // Path style: the first segment is the bucket, everything after the next "/" is the key.
  const rest = rawPath.slice(1);
  if (rest === '')
    return { style: 'path', hostname, host, rawPath, path, bucket: undefined, key: undefined, query };
  const slash = rest.indexOf('/');
  const bucket = decode(slash < 0 ? rest : rest.slice(0, slash), 'bucket');
  const rawKey = slash < 0 ? '' : rest.slice(slash + 1);
  const key = rawKey === '' ? undefined : decode(rawKey, 'path');
  return { style: 'path', hostname, host, rawPath, path, bucket, key, query };
}

/** First value of a query parameter (names compared exactly, as S3 does). */
export function queryValue(target: ObjectTarget, name: string): string | undefined {
  for (const [k, v] of target.query) if (k === name) return v;
  return undefined;
}

export function hasQuery(target: ObjectTarget, name: string): boolean {
  return target.query.some(([k]) => k === name);
}
