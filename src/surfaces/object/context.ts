// What every object API command receives: the parsed target, the authenticated caller, the services
// and helpers for the common response headers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import type { CredentialService } from '../../core/objects/credential-service.ts';
import type { Dialect } from '../../core/objects/limits.ts';
import type { AccessKeyRecord } from '../../core/objects/model.ts';
import type { MultipartService } from '../../core/objects/multipart-service.ts';
import type { ObjectService } from '../../core/objects/object-service.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ObjectTarget } from './target.ts';

export interface ObjectSurfaceDeps {
  config: Config;
  clock: Clock;
  objects: ObjectService;
  multipart: MultipartService;
  credentials: CredentialService;
  /** Region reported in bucket locations and used when the client does not say. */
  region: string;
  /** Owner id shown in listings (COS: qcs::cam::uin/<uin>:uin/<uin>). */
  ownerId: string;
}

/** How the request body is framed and protected (spec cos-api §5.7). */
export type PayloadMode =
  | { kind: 'plain' }
  | { kind: 'signed'; sha256Hex: string }
  | {
      kind: 'aws-chunked';
      signing?: { signingKey: Buffer; amzDate: string; scope: string; seedSignature: string };
      signedTrailer: boolean;
    };

export interface Caller {
  /** null for an anonymous request. */
  key: AccessKeyRecord | null;
  dialect: Dialect;
  payload: PayloadMode;
}

export interface ObjectContext {
  request: FastifyRequest;
  reply: FastifyReply;
  target: ObjectTarget;
  requestId: string;
  caller: Caller;
  deps: ObjectSurfaceDeps;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export function header(ctx: Pick<ObjectContext, 'request'>, name: string): string | undefined {
  const value = ctx.request.headers[name];
  if (Array.isArray(value)) return value.join(',');
  return value;
}

/** A header that may come as x-cos-X or x-amz-X (spec cos-api §0, header aliases). */
export function vendorHeader(ctx: Pick<ObjectContext, 'request'>, suffix: string): string | undefined {
  return header(ctx, `x-cos-${suffix}`) ?? header(ctx, `x-amz-${suffix}`);
}

export function bucketOf(ctx: ObjectContext): string {
  // Routing only sends bucket-level and object-level commands here with a bucket present.
  return ctx.target.bucket!;
}

export function keyOf(ctx: ObjectContext): string {
  return ctx.target.key!;
}

export function sendXml(ctx: ObjectContext, status: number, xml: string): void {
  ctx.reply.code(status).header('content-type', 'application/xml').send(xml);
}

export function sendEmpty(ctx: ObjectContext, status: number): void {
  ctx.reply.code(status).header('content-length', '0').send();
}
