// What one row of the VOD operation table is: Huawei's operation name, the method and full path, and
// for an implemented operation its query and top-level body schemas and its handler (typed from the
// path and the schemas by vodOperation()). Each row is one fastify route.
import { type StaticDecode, type TObject, type TProperties, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import type { MediaService } from '../../core/media/media-service.ts';
import type { AccessContext } from '../../core/tokens/access.ts';
import type { TokenService } from '../../core/tokens/token-service.ts';
import type { CorsOptions } from '../cors.ts';
import { type InputProblem, InputSchema } from '../input-schema.ts';
import type { ParamsOf } from '../path-params.ts';

export interface VodDeps {
  tokens: TokenService;
  media: MediaService;
  cors: CorsOptions;
}

export type VodMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface VodSelector {
  /** Huawei's operation name where the SDKs give one. */
  readonly name: string;
  readonly method: VodMethod;
  /** Full path; `{name}` is one segment. */
  readonly path: string;
  /** What mediahost does, for docs/api-coverage.md and the OpenAPI document. */
  readonly summary?: string;
}

export interface VodCall<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  deps: VodDeps;
  request: FastifyRequest;
  reply: FastifyReply;
  params: P;
  query: Q;
  /** The body as sent (undefined when empty): its top-level fields are checked, the rest is the core's. */
  body: B;
  access: AccessContext;
}

export interface VodMissingOperation extends VodSelector {
  readonly implemented: false;
}

export interface VodImplementedOperation extends VodSelector {
  readonly implemented: true;
  readonly query: InputSchema;
  readonly body: InputSchema;
  readonly handle: (call: VodCall) => Promise<unknown>;
}

export type VodOperation = VodImplementedOperation | VodMissingOperation;

/**
 * Defines an implemented row. `query` lists the operation's parameters; `body` its top-level fields
 * (without it the body must be empty). Callers authenticate with X-Auth-Token before either is read.
 */
export function vodOperation<
  const Path extends string,
  Q extends TProperties = Record<never, never>,
  B extends TProperties = Record<never, never>,
>(
  def: VodSelector & {
    readonly path: Path;
    readonly query?: Q;
    readonly body?: B;
    handle(
      call: VodCall<ParamsOf<Path>, StaticDecode<TObject<Q>>, StaticDecode<TObject<B>> | undefined>,
    ): Promise<unknown>;
  },
): VodImplementedOperation {
  const { query, body, handle, ...selector } = def;
  return {
    ...selector,
    implemented: true,
    query: new InputSchema(Type.Object({ ...query }, { additionalProperties: false }), 'query'),
    body: new InputSchema(Type.Object({ ...body }, { additionalProperties: false }), 'body'),
    handle: handle as (call: VodCall) => Promise<unknown>,
  };
}

export function missing(selector: Omit<VodSelector, 'summary'>): VodMissingOperation {
  return { ...selector, implemented: false };
}

/** VOD.10053 wording (spec vod-tasks §3): "The request parameter is illegal, illegal field: {xx}." */
export function illegalField(field: string, why: string): AppError {
  return new AppError(
    'InvalidArgument',
    `The request parameter is illegal, illegal field: ${field} (${why}).`,
  );
}

/** Spec parameters refused whatever their value, and why. */
export const UNSUPPORTED_PARAMETERS: Readonly<Record<string, string>> = {
  asset_id: 'filtering by asset is not implemented',
  create_time_after: 'filtering by time is not implemented',
  create_time_before: 'filtering by time is not implemented',
  end_time_after: 'filtering by time is not implemented',
  end_time_before: 'filtering by time is not implemented',
  status: 'filtering by status is not implemented',
  subtitle_id: 'subtitles are not implemented',
  hls_storage_type: 'HLS storage modes are not implemented',
};

/** A request input problem as VOD words it: 400 VOD.10053 naming the field. */
export function vodInputError(operation: VodOperation, problem: InputProblem): AppError {
  const { field, kind } = problem;
  if (field === undefined) return illegalField('body', 'must be an object');
  const why =
    kind === 'unknown'
      ? (UNSUPPORTED_PARAMETERS[field] ??
        `not ${problem.location === 'query' ? 'a parameter' : 'a body field'} of ${operation.name}`)
      : kind === 'missing'
        ? 'required'
        : (problem.expects ?? 'invalid');
  return illegalField(field, why);
}
