// Raw signed requests for tests that need exact control over what goes on the wire.
import { signCosRequest } from '../../src/lib/cos-signature.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequestOptions {
  method: string;
  /** Path as sent, e.g. `/bucket/key%20name`; the decoded form is what COS signs. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: RequestInit['body'];
  /** Signature window in seconds around now (default -60..+900). */
  window?: { start: number; end: number };
  sessionToken?: string;
  signal?: AbortSignal;
}

/** A fetch signed with a COS q-sign header covering host and the given headers and params. */
export async function cosFetch(baseUrl: string, creds: Credentials, options: SignedRequestOptions): Promise<Response> {
  const url = new URL(baseUrl);
  const now = Math.floor(Date.now() / 1000);
  const window = options.window ?? { start: -60, end: 900 };
  const headers: Record<string, string> = { host: url.host, ...(options.headers ?? {}) };
  const query = options.query ?? {};
  const authorization = signCosRequest({
    secretId: creds.accessKeyId,
    secretKey: creds.secretAccessKey,
    method: options.method,
    path: decodeURIComponent(options.path),
    query: Object.entries(query),
    headers,
    startSeconds: now + window.start,
    endSeconds: now + window.end,
  });
  const search = new URLSearchParams(query).toString().replace(/\+/g, '%20');
  const target = `${baseUrl}${options.path}${search ? `?${search}` : ''}`;
  const sendHeaders: Record<string, string> = { ...headers, authorization };
  delete sendHeaders.host;
  if (options.sessionToken) sendHeaders['x-cos-security-token'] = options.sessionToken;
  return fetch(target, {
    method: options.method,
    headers: sendHeaders,
    body: options.body ?? null,
    ...(options.signal ? { signal: options.signal } : {}),
    // Node's fetch needs duplex for streamed request bodies.
    duplex: 'half',
  } as RequestInit);
}
