// OutboundHttp: requests the server sends on its own to URLs users give (VOD callbacks; uploads by
// URL). The contract: a destination the operator's policy does not allow fails with
// OutboundRefusedError before any byte is sent to it, and the address checked is the address
// connected to; redirects are returned, never followed; `timeoutMs` bounds the whole exchange; the body
// fails with ResponseTooLargeError past `maxResponseBytes`.
import type { Readable } from 'node:stream';

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** For the whole exchange, from connecting to the last byte read. */
  timeoutMs: number;
  maxResponseBytes: number;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body, failing with ResponseTooLargeError past the cap. */
  body: Readable;
}

/** The destination is not one this server may reach (the message says which address and why). */
export class OutboundRefusedError extends Error {
  override name = 'OutboundRefusedError';
}

/** The response was larger than the request's cap. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
}

export interface OutboundHttp {
  /** Resolves with the status, headers and body stream once the response head arrives. */
  request(url: string, request: OutboundRequest): Promise<OutboundResponse>;
}
