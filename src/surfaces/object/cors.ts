// CORS of the object API (spec cos-api §7.2) on the shared rules of surfaces/cors.ts: preflight answered
// without authentication with 200, and the headers browsers need (ETag above all) exposed on actual
// responses, errors included.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { applyCors as applyShared, type CorsOptions, preflight as preflightShared } from '../cors.ts';

export type { CorsOptions } from '../cors.ts';

// Without ETag exposed, browser multipart uploads cannot build their Complete list; the SDKs correct
// their clock from Date.
const EXPOSE = [
  'ETag',
  'Content-Length',
  'Date',
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

export function applyCors(options: CorsOptions, request: FastifyRequest, reply: FastifyReply): void {
  applyShared(options, request, reply, EXPOSE);
}

/** OPTIONS preflight: 200, or 403 AccessDenied when no rule matches (COS behaviour). */
export function preflight(options: CorsOptions, request: FastifyRequest, reply: FastifyReply): void {
  preflightShared(options, request, reply, EXPOSE, 200);
}
