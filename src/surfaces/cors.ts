// CORS for the three APIs, from one setting (--cors-origins): which origins may call, the headers
// every response to them carries (errors included), and preflight answers. Each surface names the
// response headers its browser clients read and renders a refused preflight in its own dialect.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import { AppError } from '../core/errors.ts';

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

export interface CorsOptions {
  origins: readonly string[];
  maxAgeSeconds: number;
}

export function corsOptions(config: Pick<Config, 'corsOrigins' | 'corsMaxAgeSeconds'>): CorsOptions {
  return { origins: config.corsOrigins, maxAgeSeconds: config.corsMaxAgeSeconds };
}

function allowedOrigin(options: CorsOptions, origin: string | undefined): string | undefined {
  if (origin === undefined || options.origins.length === 0) return undefined;
  if (options.origins.includes('*')) return '*';
  return options.origins.includes(origin) ? origin : undefined;
}

/** Adds CORS headers to an actual (non-preflight) response when the origin is allowed. */
export function applyCors(
  options: CorsOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  expose: string,
): void {
  const origin = allowedOrigin(options, request.headers.origin);
  if (origin === undefined) return;
  reply
    .header('access-control-allow-origin', origin)
    .header('access-control-expose-headers', expose)
    .header('vary', 'Origin');
}

/**
 * OPTIONS preflight: `status` with the allowed methods and the requested headers, or AccessDenied
 * (rendered by the surface) when the origin or the method is not allowed; no allow header then.
 */
export function preflight(
  options: CorsOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  expose: string,
  status: number,
): void {
  const origin = allowedOrigin(options, request.headers.origin);
  const method = String(request.headers['access-control-request-method'] ?? '').toUpperCase();
  if (origin === undefined || !METHODS.includes(method)) {
    reply.removeHeader('access-control-allow-origin').removeHeader('access-control-expose-headers');
    throw new AppError('AccessDenied', 'CORSResponse: This CORS request is not allowed.');
  }
  reply
    .header('access-control-allow-origin', origin)
    .header('access-control-allow-methods', METHODS.join(','))
    .header('access-control-allow-headers', String(request.headers['access-control-request-headers'] ?? '*'))
    .header('access-control-expose-headers', expose)
    .header('access-control-max-age', String(options.maxAgeSeconds))
    .header('vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method')
    .header('content-length', '0')
    .code(status)
    .send();
}

/**
 * CORS on a JSON API plugin: headers on every response its context sends (its routes, its errors and
 * its not-found answers) and an OPTIONS route per path pattern answering preflights.
 */
export function registerCors(
  app: FastifyInstance,
  options: CorsOptions,
  surface: { expose: readonly string[]; preflightPaths: readonly string[] },
): void {
  const expose = surface.expose.join(',');
  app.addHook('onRequest', async (request, reply) => applyCors(options, request, reply, expose));
  for (const path of surface.preflightPaths) {
    app.options(path, async (request, reply) => preflight(options, request, reply, expose, 204));
  }
}
