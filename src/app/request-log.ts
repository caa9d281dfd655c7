// One log line per answered request: method, URL (secrets masked by the logger), status, duration
// and, for errors, the code and reason the client got. Client errors are warnings without a stack;
// server faults are errors with the stack. Healthy /healthz probes stay out unless asked for.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { failureOf, isServerFault } from '../surfaces/request-outcome.ts';
import { surfaceOf } from './surface-of.ts';

export interface RequestLogOptions {
  logHealthChecks: boolean;
  vhostSuffixes: readonly string[];
}

/** Writes the request line of an answered request (fastify's onResponse, or by hand where it does not run). */
export function requestLogger(options: RequestLogOptions) {
  return (request: FastifyRequest, reply: FastifyReply): void => {
    const status = reply.statusCode;
    const url = request.originalUrl;
    const surface = surfaceOf(url, request.headers.host, options.vhostSuffixes);
    if (surface === 'health' && status < 400 && !options.logHealthChecks) return;
    const failure = failureOf(request);
    const line = {
      surface,
      method: request.method,
      url,
      status,
      ...(Number.isFinite(reply.elapsedTime) ? { ms: Math.round(reply.elapsedTime) } : {}),
      ...(failure ? { code: failure.code, reason: failure.message } : {}),
      ...(failure?.err !== undefined ? { err: failure.err } : {}),
    };
    if (isServerFault(status)) request.log.error(line, 'request');
    else if (status >= 400) request.log.warn(line, 'request');
    else request.log.info(line, 'request');
  };
}
