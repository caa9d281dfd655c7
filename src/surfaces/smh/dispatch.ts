// The SMH API's one route: the operation table is the router. A request is resolved to its row, refused
// when the row is not implemented, its caller authenticated, its query and body checked against the
// row's schemas, and handed to the row's handler.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { firstValues, type InputProblem } from '../input-schema.ts';
import type { SmhDeps } from './context.ts';
import { describeSmhOperation, type SmhImplementedOperation, type SmhOperation } from './operation.ts';
import { UNSUPPORTED_PARAMETERS } from './params.ts';
import { paramsOf, resolveSmhOperation, segmentsOf } from './resolve.ts';

export function routeNotFound(request: FastifyRequest): AppError {
  return new AppError('RouteNotFound', `No SMH route for ${request.method} ${request.url.split('?')[0]}.`);
}

/** A request input problem as SMH words it: 400 ParamInvalid naming the field. */
export function smhInputError(operation: SmhOperation, problem: InputProblem): AppError {
  const { field, kind, location } = problem;
  if (field === undefined) return new AppError('InvalidArgument', 'The request body must be a JSON object.');
  const unsupported = UNSUPPORTED_PARAMETERS[field];
  const where = location === 'query' ? 'a parameter of' : 'a body field of';
  const message =
    kind === 'unknown'
      ? unsupported !== undefined
        ? `${field} is not supported: ${unsupported}.`
        : `${field} is not ${where} ${operation.name}.`
      : kind === 'missing'
        ? `${field} is required.`
        : `${field} must be ${problem.expects ?? 'valid'}.`;
  return new AppError(problem.code ?? 'InvalidArgument', message);
}

function notImplemented(operation: SmhOperation): AppError {
  return new AppError(
    'NotImplemented',
    `${operation.name} (${describeSmhOperation(operation)}) is not implemented by this server.`,
  );
}

async function run(
  deps: SmhDeps,
  operation: SmhImplementedOperation,
  segments: readonly string[],
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const params = paramsOf(operation, segments);
  const raw = firstValues(request.query);
  const access = operation.isAuthenticated
    ? await deps.tokens.authenticate({
        libraryId: params.lib as string,
        accessToken: raw.access_token,
        librarySecret: raw.library_secret,
        userId: raw.user_id,
      })
    : undefined;
  const query = operation.query.decode(raw);
  if (!query.ok) throw smhInputError(operation, query.problem);
  // An empty body is no body; a JSON null reads the same.
  const body = operation.body.decode(request.body ?? {});
  if (!body.ok) throw smhInputError(operation, body.problem);
  return operation.handle({
    deps,
    request,
    reply,
    params,
    query: query.value,
    body: body.value,
    access: access!,
  });
}

/** The handler of the catch-all route under `prefix` (/api/v1). */
export function smhDispatcher(deps: SmhDeps, prefix: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const path = request.url.split('?', 1)[0]!.slice(prefix.length);
    const operation = resolveSmhOperation({
      method: request.method,
      path,
      query: request.query as Record<string, unknown>,
      body: request.body,
    });
    if (!operation) throw routeNotFound(request);
    if (!operation.implemented) throw notImplemented(operation);
    return run(deps, operation, segmentsOf(path), request, reply);
  };
}
