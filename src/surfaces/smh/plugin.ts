// The SMH business API (/api/v1/…) as a fastify plugin: JSON bodies (an empty body is no body), one
// route that dispatches through the operation table (dispatch.ts), CORS, and errors rendered as
// `{code, message, requestId}` with the request id also in x-smh-request-id and x-request-id.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { corsOptions, registerCors } from '../cors.ts';
import { sendError } from '../dialect.ts';
import { registerJsonBody } from '../json-body.ts';
import type { SmhDeps } from './context.ts';
import { routeNotFound, smhDispatcher } from './dispatch.ts';
import { SMH_REQUEST_ID_HEADERS, smhDialect } from './errors.ts';
import { SMH_METHODS } from './operation.ts';

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

export function smhApiPlugin(deps: SmhDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      for (const name of SMH_REQUEST_ID_HEADERS) reply.header(name, request.id);
    });
    registerCors(app, corsOptions(deps.config), { expose: EXPOSE, preflightPaths: ['/*'] });
    registerJsonBody(app, () => new AppError('InvalidArgument', 'The request body is not valid JSON.'));
    app.setErrorHandler((err, request, reply) => sendError(smhDialect, request, reply, err));
    app.setNotFoundHandler((request, reply) => sendError(smhDialect, request, reply, routeNotFound(request)));
    // Every method an operation may have reaches the table; CORS preflights (OPTIONS) are no operation.
    app.route({
      method: [...SMH_METHODS],
      url: '/*',
      exposeHeadRoute: false,
      handler: smhDispatcher(deps, app.prefix),
    });
  };
}
