// One shape for the three error dialects (COS/S3 XML, SMH JSON, VOD JSON): each surface's errors.ts
// exports a Dialect, and every error a surface or the HTTP edge answers is rendered through one.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { noteFailure } from './request-outcome.ts';

export interface ErrorAnswer {
  status: number;
  /** The wire code. */
  code: string;
  message: string;
}

export interface RenderedError extends ErrorAnswer {
  /** Content type and the request-id headers. */
  headers: Record<string, string>;
  body: string;
}

export interface Dialect {
  /** Headers carrying the request id on every response of the surface. */
  readonly requestIdHeaders: readonly string[];
  /** Status, wire code and message for `err`; anything but a client error is the dialect's 500. */
  answer(err: unknown): ErrorAnswer;
  /** The whole error response; `resource` is the object API's `<Resource>`. */
  render(err: unknown, context: { requestId: string; resource?: string }): RenderedError;
}

/** Request-id headers of `dialect`, all carrying `requestId`. */
export function requestIdHeaders(dialect: Dialect, requestId: string): Record<string, string> {
  return Object.fromEntries(dialect.requestIdHeaders.map((name) => [name, requestId]));
}

/** Answers `err` in `dialect` through fastify and notes it for the request log; HEAD gets no body. */
export function sendError(
  dialect: Dialect,
  request: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  cause: unknown = err,
): void {
  const rendered = dialect.render(err, { requestId: request.id });
  const { status, code, message, headers } = rendered;
  noteFailure(request, { status, code, message, err: cause });
  reply.code(status);
  if (request.method === 'HEAD') {
    const { 'content-type': _type, ...ids } = headers;
    reply.headers(ids).send();
  } else reply.headers(headers).send(rendered.body);
}
