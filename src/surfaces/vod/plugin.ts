// The VOD media-task API (spec vod-tasks §1) as a fastify plugin: one route per row of the operation
// table. A row not implemented answers 501; an implemented one authenticates the SMH access token in
// X-Auth-Token, checks the query and the body's top-level fields against its schemas and runs its
// handler. Every response carries X-Request-Id; errors are `{error_code, error_msg}`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { applyCors, type CorsOptions, registerCors } from '../cors.ts';
import { sendError } from '../dialect.ts';
import { firstValues } from '../input-schema.ts';
import { registerJsonBody } from '../json-body.ts';
import { VOD_REQUEST_ID_HEADERS, vodDialect } from './errors.ts';
import { illegalField, type VodDeps, type VodImplementedOperation, vodInputError } from './operation.ts';
import { routePathOf, VOD_OPERATIONS } from './operations.ts';

export type { VodDeps } from './operation.ts';

/** What VOD clients read: the request id, and Date (clock skew). */
const EXPOSE = ['X-Request-Id', 'Content-Length', 'Date'];

/** 404 in VOD's shape, for the HTTP layer's not-found handler (paths under /v1/ and /v1.0/). */
export function vodNotFound(request: FastifyRequest, reply: FastifyReply, cors: CorsOptions): void {
  applyCors(cors, request, reply, EXPOSE.join(','));
  const path = request.url.split('?')[0];
  const message = `The API does not exist or has not been published: ${request.method} ${path}`;
  sendError(vodDialect, request, reply, new AppError('RouteNotFound', message));
}

function handlerOf(deps: VodDeps, operation: VodImplementedOperation) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const token = request.headers['x-auth-token'];
    const params = request.params as Record<string, string>;
    const access = await deps.tokens.authenticate({
      libraryId: params.project_id!,
      accessToken: Array.isArray(token) ? token[0] : token,
      librarySecret: undefined,
      userId: undefined,
    });
    const query = operation.query.decode(firstValues(request.query));
    if (!query.ok) throw vodInputError(operation, query.problem);
    const body = operation.body.decode(request.body ?? {});
    if (!body.ok) throw vodInputError(operation, body.problem);
    // The media service reads the body's nested fields itself; it gets the body as sent.
    return operation.handle({ deps, request, reply, params, query: query.value, body: request.body, access });
  };
}

export function vodApiPlugin(deps: VodDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      for (const name of VOD_REQUEST_ID_HEADERS) reply.header(name, request.id);
    });
    registerCors(app, deps.cors, { expose: EXPOSE, preflightPaths: ['/v1/*', '/v1.0/*'] });
    registerJsonBody(app, () => illegalField('body', 'not JSON'));
    app.setErrorHandler((err, request, reply) => sendError(vodDialect, request, reply, err));
    for (const operation of VOD_OPERATIONS) {
      const handler = operation.implemented
        ? handlerOf(deps, operation)
        : async () => {
            throw new AppError(
              'NotImplemented',
              `${operation.name} (${operation.method} ${operation.path}) is not implemented by this server.`,
            );
          };
      app.route({ method: operation.method, url: routePathOf(operation), handler });
    }
  };
}
