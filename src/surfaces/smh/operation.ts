// What one row of the SMH operation table is: the method, the path below /api/v1 and the action flag
// or JSON body field that select it, and for an implemented operation its query and body schemas and
// its handler. smhOperation() defines a row so that the handler's params, query and body are typed
// from the path pattern and the schemas; operations.ts lists the rows in dispatch order.
import { type StaticDecode, type TObject, type TProperties, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessContext } from '../../core/tokens/access.ts';
import { InputSchema } from '../input-schema.ts';
import type { ParamsOf } from '../path-params.ts';
import type { SmhDeps } from './context.ts';
import { COMMON_QUERY } from './params.ts';

export type SmhMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export const SMH_METHODS: readonly SmhMethod[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];

interface SmhSelector {
  /** Unique name of the operation (OpenAPI operationId style). */
  readonly name: string;
  /** `ANY` only for families the spec lists by path alone (§2.12). */
  readonly method: SmhMethod | readonly SmhMethod[] | 'ANY';
  /**
   * Below /api/v1: literal segments, `{name}` for one segment, `{name:digits}` for one all-digit
   * segment, `{name*}` (last) for zero or more segments.
   */
  readonly path: string;
  /** An action flag (query key, any value) that must be present. */
  readonly flag?: string;
  /** A field the JSON body must have. */
  readonly bodyField?: string;
  /** What mediahost does, for docs/api-coverage.md and the OpenAPI document. */
  readonly summary?: string;
}

/** A spec operation mediahost does not implement: it answers FunctionNotEnabled. */
export interface SmhMissingOperation extends SmhSelector {
  readonly implemented: false;
}

/** What a handler gets: the typed request input, and the caller when the row authenticates. */
export interface SmhCall<P = Record<string, string | string[]>, Q = Record<string, unknown>, B = unknown> {
  deps: SmhDeps;
  request: FastifyRequest;
  reply: FastifyReply;
  params: P;
  query: Q;
  body: B;
  access: AccessContext;
}

export interface SmhImplementedOperation extends SmhSelector {
  readonly implemented: true;
  /**
   * Whether the dispatcher authenticates the caller of the path's library (access_token or
   * library_secret) before the handler; token operations authenticate themselves.
   */
  readonly isAuthenticated: boolean;
  readonly query: InputSchema;
  readonly body: InputSchema;
  readonly handle: (call: SmhCall) => Promise<unknown>;
}

export type SmhOperation = SmhImplementedOperation | SmhMissingOperation;

type Query<Q extends TProperties> = StaticDecode<TObject<typeof COMMON_QUERY & Q>>;
type Body<B extends TProperties> = StaticDecode<TObject<B>>;

interface Definition<Path extends string, Q extends TProperties, B extends TProperties>
  extends Omit<SmhSelector, 'path'> {
  readonly path: Path;
  /** The operation's own query parameters; access_token, library_secret and user_id are added. */
  readonly query?: Q;
  /** The JSON body's fields; without them the body must be absent or `{}`. */
  readonly body?: B;
}

function implemented(
  def: Definition<string, TProperties, TProperties>,
  isAuthenticated: boolean,
  handle: (call: never) => Promise<unknown>,
): SmhImplementedOperation {
  const { query, body, ...selector } = def;
  return {
    ...selector,
    implemented: true,
    isAuthenticated,
    query: new InputSchema(
      Type.Object({ ...COMMON_QUERY, ...query }, { additionalProperties: false }),
      'query',
    ),
    body: new InputSchema(Type.Object({ ...body }, { additionalProperties: false }), 'body'),
    handle: handle as (call: SmhCall) => Promise<unknown>,
  };
}

/** An operation on a library's resources (its path names `{lib}`): the caller is authenticated first. */
export function smhOperation<
  const Path extends `${string}{lib}${string}`,
  Q extends TProperties = Record<never, never>,
  B extends TProperties = Record<never, never>,
>(
  def: Definition<Path, Q, B> & {
    handle(call: SmhCall<ParamsOf<Path>, Query<Q>, Body<B>>): Promise<unknown>;
  },
): SmhImplementedOperation {
  return implemented(def, true, def.handle);
}

/** An access-token operation: the token service checks the library secret or the token itself. */
export function tokenOperation<
  const Path extends string,
  Q extends TProperties = Record<never, never>,
  B extends TProperties = Record<never, never>,
>(
  def: Definition<Path, Q, B> & {
    handle(call: Omit<SmhCall<ParamsOf<Path>, Query<Q>, Body<B>>, 'access'>): Promise<unknown>;
  },
): SmhImplementedOperation {
  return implemented(def, false, def.handle);
}

/** A row of the spec that mediahost does not implement. */
export function missing(selector: Omit<SmhSelector, 'summary'>): SmhMissingOperation {
  return { ...selector, implemented: false };
}

export function methodsOf(operation: SmhOperation): readonly SmhMethod[] {
  const { method } = operation;
  return method === 'ANY' ? SMH_METHODS : typeof method === 'string' ? [method as SmhMethod] : method;
}

/** How a row reads in messages and docs: `PUT /api/v1/file/{lib}/{space}/{path}` with its flag or body field. */
export function describeSmhOperation(operation: SmhOperation): string {
  const method = operation.method === 'ANY' ? 'any method' : methodsOf(operation).join(', ');
  const flag = operation.flag !== undefined ? `?${operation.flag}` : '';
  const body = operation.bodyField !== undefined ? ` with body {${operation.bodyField}}` : '';
  return `${method} ${smhPathTemplate(operation)}${flag}${body}`;
}

/** The row's full path with plain `{name}` placeholders: `/api/v1/file/{lib}/{space}/{path}`. */
export function smhPathTemplate(operation: SmhOperation): string {
  return `/api/v1/${operation.path.replace(/\{(\w+)[:*][^}]*\}/g, '{$1}')}`;
}
