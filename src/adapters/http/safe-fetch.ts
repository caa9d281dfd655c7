// Outbound HTTP requests to URLs users give (VOD callbacks; later, uploads by URL), guarded against
// server-side request forgery: the host is resolved by us and each address checked against the
// OutboundPolicy, and the socket connects to the address that was checked (a custom `lookup`, so a
// second DNS answer cannot swap in another). Redirects are never followed; every request has a time
// limit and a cap on the response bytes.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { parseAddress } from '../../lib/ip-address.ts';
import type { OutboundPolicy } from '../../lib/outbound-policy.ts';
import {
  type OutboundHttp,
  OutboundRefusedError,
  type OutboundRequest,
  type OutboundResponse,
  ResponseTooLargeError,
} from '../../ports/outbound-http.ts';

/** Resolves like dns.lookup, but hands the socket only addresses the policy allows. */
function checkedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      const allowed = list.filter((a) => policy.refusal(a.address, hostname) === undefined);
      if (allowed.length === 0) {
        const why = list[0] ? policy.refusal(list[0].address, hostname) : 'it has no address';
        return callback(new OutboundRefusedError(`${hostname}: ${why}`), '', 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

function capped(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) done(new ResponseTooLargeError(`the response is larger than ${limit} bytes`));
      else done(null, chunk);
    },
  });
}

/**
 * Sends one request to `url` (http or https) if its destination is allowed, and resolves with the
 * status, headers and a capped body stream once the response head arrives. A 3xx is returned as it is.
 */
export function safeRequest(
  policy: OutboundPolicy,
  url: string,
  request: OutboundRequest,
): Promise<OutboundResponse> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return reject(new OutboundRefusedError(`"${url}" is not a URL`));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      return reject(new OutboundRefusedError(`${target.protocol} URLs are not fetched`));
    // Sockets skip the lookup for literal addresses: those are checked here.
    const literal = parseAddress(target.hostname);
    const refused = literal && policy.refusal(target.hostname.replace(/^\[|\]$/g, ''));
    if (refused) return reject(new OutboundRefusedError(refused));
    const signal = AbortSignal.any([
      AbortSignal.timeout(request.timeoutMs),
      ...(request.signal ? [request.signal] : []),
    ]);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(target, {
      method: request.method ?? 'GET',
      headers: request.headers ?? {},
      lookup: checkedLookup(policy),
      // A connection of its own: nothing pooled was checked for this request.
      agent: false,
      signal,
    });
    req.once('error', reject);
    req.once('response', (res) => {
      // pipeline destroys both on an error, which the body then keeps for whoever reads it.
      const body = capped(request.maxResponseBytes);
      pipeline(res, body, () => {});
      signal.addEventListener('abort', () => body.destroy(signal.reason as Error), { once: true });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
    });
    req.end(request.body);
  });
}

/** safeRequest with the body read whole (within the cap). */
export async function safeFetch(
  policy: OutboundPolicy,
  url: string,
  request: OutboundRequest,
): Promise<{ status: number; headers: OutboundResponse['headers']; body: Buffer }> {
  const res = await safeRequest(policy, url, request);
  const chunks: Buffer[] = [];
  for await (const chunk of res.body as AsyncIterable<Buffer>) chunks.push(chunk);
  return { status: res.status, headers: res.headers, body: Buffer.concat(chunks) };
}

/** The OutboundHttp port over safeRequest. */
export class SafeHttpClient implements OutboundHttp {
  readonly #policy: OutboundPolicy;

  constructor(policy: OutboundPolicy) {
    this.#policy = policy;
  }

  request(url: string, request: OutboundRequest): Promise<OutboundResponse> {
    return safeRequest(this.#policy, url, request);
  }
}
