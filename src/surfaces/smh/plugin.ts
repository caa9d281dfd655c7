// The SMH business API (/api/v1/…) as a fastify plugin: JSON bodies (an empty body is no body),
// route modules per resource, and errors rendered as `{code, message, requestId}` with the request id
// also in x-smh-request-id and x-request-id. Every request is first resolved in the operation table:
// no route runs for an operation that is not implemented.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { corsOptions, registerCors } from '../cors.ts';
import { sendError } from '../dialect.ts';
import { registerJsonBody } from '../json-body.ts';
import type { SmhDeps } from './context.ts';
import { SMH_REQUEST_ID_HEADERS, smhDialect } from './errors.ts';
import {
  describeSmhOperation,
  methodsOf,
  resolveSmhOperation,
  routePathOf,
  SMH_OPERATIONS,
} from './operations.ts';
import { directoryRoutes } from './routes/directory.ts';
import { fileRoutes } from './routes/file.ts';
import { quotaRoutes } from './routes/quota.ts';
import { spaceRoutes } from './routes/space.ts';
import { tokenRoutes } from './routes/token.ts';

// What SMH clients read: request ids, the x-smh-* file headers of HEAD and download, Location, and Date
// (clock skew). `*` also exposes the x-smh-meta-* headers; CORS here never admits credentials.
const EXPOSE = [
  'x-smh-request-id',
  'x-request-id',
  'x-smh-type',
  'x-smh-creation-time',
  'x-smh-modification-time',
  'x-smh-content-type',
  'x-smh-size',
  'x-smh-etag',
  'x-smh-crc64',
  'ETag',
  'Location',
  'Content-Length',
  'Date',
  '*',
];

const renderError = (request: FastifyRequest, reply: FastifyReply, err: unknown): void =>
  sendError(smhDialect, request, reply, err);

export function smhApiPlugin(deps: SmhDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      for (const name of SMH_REQUEST_ID_HEADERS) reply.header(name, request.id);
    });
    registerCors(app, corsOptions(deps.config), { expose: EXPOSE, preflightPaths: ['/*'] });
    registerJsonBody(app, () => new AppError('InvalidArgument', 'The request body is not valid JSON.'));
    app.setErrorHandler((err, request, reply) => renderError(request, reply, err));
    const routeNotFound = (request: FastifyRequest) =>
      new AppError('RouteNotFound', `No SMH route for ${request.method} ${request.url.split('?')[0]}.`);
    app.setNotFoundHandler((request, reply) => renderError(request, reply, routeNotFound(request)));
    // preHandler: the body is parsed (body fields pick operations), and it also runs before the
    // not-found handler, so unrouted operations of the table get their answer too.
    app.addHook('preHandler', async (request) => {
      // CORS preflights are no operation.
      if (request.method === 'OPTIONS') return;
      const operation = resolveSmhOperation({
        method: request.method,
        path: request.url.split('?', 1)[0]!.slice(app.prefix.length),
        query: request.query as Record<string, unknown>,
        body: request.body,
      });
      if (!operation) throw routeNotFound(request);
      if (!operation.implemented) {
        throw new AppError(
          'NotImplemented',
          `${operation.name} (${describeSmhOperation(operation)}) is not implemented by this server.`,
        );
      }
    });
    tokenRoutes(app, deps);
    spaceRoutes(app, deps);
    quotaRoutes(app, deps);
    directoryRoutes(app, deps);
    fileRoutes(app, deps);
    assertRoutesExist(app);
  };
}

/** An implemented row without a route would answer RouteNotFound: refuse to start instead. */
function assertRoutesExist(app: FastifyInstance): void {
  for (const operation of SMH_OPERATIONS) {
    if (!operation.implemented) continue;
    for (const method of methodsOf(operation)) {
      const url = `${app.prefix}${routePathOf(operation)}`;
      if (!app.hasRoute({ method, url }))
        throw new Error(
          `SMH operation ${operation.name} is marked implemented but has no ${method} ${url} route`,
        );
    }
  }
}
