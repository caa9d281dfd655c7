// Errors raised before a surface's plugin runs — Node's HTTP parser (bad request lines, oversized
// headers, header timeouts), fastify's router (bad percent-encoding, over-long parameters) and paths
// no route serves — answered in the dialect of the surface the request's path belongs to.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { AppError } from '../core/errors.ts';
import { type Dialect, type RenderedError, sendError } from '../surfaces/dialect.ts';
import { asAppError } from '../surfaces/framework-error.ts';
import { objectDialect } from '../surfaces/object/errors.ts';
import { smhDialect } from '../surfaces/smh/errors.ts';
import { vodDialect } from '../surfaces/vod/errors.ts';
import { type Surface, surfaceOf } from './surface-of.ts';

/** The dialect each surface answers in; the health check and the OpenAPI document answer like SMH (JSON). */
const DIALECTS: Record<Surface, Dialect> = {
  object: objectDialect,
  smh: smhDialect,
  vod: vodDialect,
  health: smhDialect,
  openapi: smhDialect,
};

/** The answer `surface` gives to `err`. */
export function surfaceErrorResponse(surface: Surface, err: AppError, requestId: string): RenderedError {
  return DIALECTS[surface].render(err, { requestId });
}

/** Answers through fastify (router errors, unrouted paths), noting the failure for the request log. */
export function sendSurfaceError(
  request: FastifyRequest,
  reply: FastifyReply,
  surface: Surface,
  err: AppError,
  cause: unknown = err,
): void {
  sendError(DIALECTS[surface], request, reply, err, cause);
}

/**
 * The error handler outside the surface plugins (body parsing for unrouted paths, the health check,
 * hooks): the answer is in the dialect of the request's path all the same.
 */
export function rootErrorHandler(vhostSuffixes: readonly string[]) {
  return (err: Error, request: FastifyRequest, reply: FastifyReply): void => {
    const surface = surfaceOf(request.originalUrl, request.headers.host, vhostSuffixes);
    const appError = asAppError(err) ?? new AppError('InternalError', 'The server failed to answer.');
    sendSurfaceError(request, reply, surface, appError, err);
  };
}

/**
 * fastify's frameworkErrors: its router's own 400/414 in the dialect of the request's surface. No
 * route means no onResponse hook, so `logRequest` is called once the answer is out.
 */
export function frameworkErrorHandler(options: {
  vhostSuffixes: readonly string[];
  logRequest: (request: FastifyRequest, reply: FastifyReply) => void;
}) {
  return (err: Error, request: FastifyRequest, reply: FastifyReply): void => {
    const surface = surfaceOf(request.originalUrl, request.headers.host, options.vhostSuffixes);
    const appError = asAppError(err) ?? new AppError('InvalidRequest', 'The request could not be routed.');
    reply.raw.once('finish', () => options.logRequest(request, reply));
    sendSurfaceError(request, reply, surface, appError);
  };
}

interface ParserError extends Error {
  code?: string;
  rawPacket?: unknown;
  reason?: string;
}

/** Request line and Host of the bytes Node failed to parse, when they start a request. */
export function requestHead(packet: unknown): { method: string; target: string; host?: string } | undefined {
  if (!Buffer.isBuffer(packet)) return undefined;
  const text = packet.subarray(0, 16 * 1024).toString('latin1');
  const line = /^([^\s]+) +(\/[^\s]*|https?:\/\/[^\s]*)/.exec(text);
  if (!line) return undefined;
  const host = /\r?\nhost:[ \t]*([^\r\n]*)/i.exec(text)?.[1]?.trim();
  return { method: line[1]!, target: line[2]!, ...(host ? { host } : {}) };
}

function parserAppError(err: ParserError): AppError {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return new AppError(
      'RequestHeaderSectionTooLarge',
      'Your request header section exceeds the maximum allowed size.',
    );
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new AppError('RequestTimeout', 'The request headers did not arrive in time.');
  }
  return new AppError(
    'InvalidRequest',
    `The request is not valid HTTP/1.1: ${err.reason ?? err.code ?? 'unreadable'}.`,
  );
}

/**
 * Node's clientError handler: it sees a socket, not a request, so the surface comes from the request
 * line in the bytes that failed to parse; without one (the error came in a later packet) the object
 * API, whose paths are everything the other surfaces do not claim, answers.
 */
export function clientErrorHandler(options: {
  vhostSuffixes: readonly string[];
  logger: PinoLogger;
  newRequestId: () => string;
}) {
  return (err: ParserError, socket: Socket): void => {
    // As Node's own handler: never write into a response whose headers are already out.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const requestId = options.newRequestId();
    const head = requestHead(err.rawPacket);
    const surface = head ? surfaceOf(head.target, head.host, options.vhostSuffixes) : 'object';
    const answer = surfaceErrorResponse(surface, parserAppError(err), requestId);
    options.logger.warn(
      {
        reqId: requestId,
        surface,
        ...(head ? { method: head.method, url: head.target } : {}),
        status: answer.status,
        code: answer.code,
        reason: answer.message,
        parserError: err.code,
      },
      'request',
    );
    const headers = {
      date: new Date().toUTCString(),
      connection: 'close',
      ...answer.headers,
      'content-length': String(Buffer.byteLength(answer.body)),
    };
    socket.end(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n` +
        Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        `\r\n${answer.body}`,
    );
  };
}
