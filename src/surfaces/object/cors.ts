// CORS for browser uploads (spec cos-api §7.2): preflight answered without authentication, and the
// headers browsers need (ETag above all) exposed on actual responses, errors included.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';

const METHODS = 'GET,PUT,POST,DELETE,HEAD';

// Without ETag exposed, browser multipart uploads cannot build their Complete list.
const EXPOSE = [
  'ETag',
  'Content-Length',
  'x-cos-request-id',
  'x-cos-hash-crc64ecma',
  'x-cos-version-id',
  'x-cos-delete-marker',
  'x-cos-server-side-encryption',
  'x-amz-request-id',
  'x-amz-version-id',
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-sha256',
].join(',');

export interface CorsOptions {
  origins: readonly string[];
  maxAgeSeconds: number;
}

function allowedOrigin(options: CorsOptions, origin: string | undefined): string | undefined {
  if (origin === undefined || options.origins.length === 0) return undefined;
  if (options.origins.includes('*')) return '*';
  return options.origins.includes(origin) ? origin : undefined;
}

/** Adds CORS headers to an actual (non-preflight) response when the origin is allowed. */
export function applyCors(options: CorsOptions, request: FastifyRequest, reply: FastifyReply): void {
  const origin = allowedOrigin(options, request.headers.origin);
  if (origin === undefined) return;
  reply
    .header('access-control-allow-origin', origin)
    .header('access-control-expose-headers', EXPOSE)
    .header('vary', 'Origin');
}

/** OPTIONS preflight: 200 with the allowed method and headers, or 403 when no rule matches. */
export function preflight(options: CorsOptions, request: FastifyRequest, reply: FastifyReply): void {
  const origin = allowedOrigin(options, request.headers.origin);
  const method = String(request.headers['access-control-request-method'] ?? '').toUpperCase();
  if (origin === undefined || !METHODS.split(',').includes(method)) {
    throw new AppError('AccessDenied', 'CORSResponse: This CORS request is not allowed.');
  }
  reply
    .header('access-control-allow-origin', origin)
    .header('access-control-allow-methods', METHODS)
    .header('access-control-allow-headers', String(request.headers['access-control-request-headers'] ?? '*'))
    .header('access-control-expose-headers', EXPOSE)
    .header('access-control-max-age', String(options.maxAgeSeconds))
    .header('vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method')
    .header('content-length', '0')
    .code(200)
    .send();
}
