// Raw signed requests for tests that need exact control over what goes on the wire.
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
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
export async function cosFetch(
  baseUrl: string,
  creds: Credentials,
  options: SignedRequestOptions,
): Promise<Response> {
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
  const sendHeaders: Record<string, string> = { ...headers, authorization };
  if (options.sessionToken) sendHeaders['x-cos-security-token'] = options.sessionToken;
  return rawFetch(`${baseUrl}${options.path}${search ? `?${search}` : ''}`, {
    method: options.method,
    headers: sendHeaders,
    body: options.body,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * fetch() over node:http that sends the path exactly as given: WHATWG fetch would resolve `..` and
 * `%2e%2e` segments, which are legal characters of object keys.
 */
export function rawFetch(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: RequestInit['body']; signal?: AbortSignal },
): Promise<Response> {
  const target = new URL(url);
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  const path = pathStart < 0 ? '/' : url.slice(pathStart);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: init.method,
        path,
        headers: init.headers,
        signal: init.signal,
      },
      (res) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const status = res.statusCode ?? 0;
        const body =
          NULL_BODY.has(status) || init.method === 'HEAD' ? null : (Readable.toWeb(res) as ReadableStream);
        if (body === null) res.resume();
        resolve(new Response(body, { status, headers }));
      },
    );
    req.on('error', reject);
    const body = init.body;
    if (body === undefined || body === null) req.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
    else if (body instanceof ReadableStream) {
      Readable.fromWeb(body as import('node:stream/web').ReadableStream)
        .on('error', (err) => req.destroy(err))
        .pipe(req);
    } else reject(new TypeError('rawFetch supports string, Uint8Array and ReadableStream bodies'));
  });
}
