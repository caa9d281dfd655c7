// The SMH business API (/api/v1/…) as a fastify plugin: JSON bodies (an empty body is no body),
// route modules per resource, and errors rendered as `{code, message, requestId}` with the request id
// also in x-smh-request-id and x-request-id.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import { newRequestId } from '../../core/ids.ts';
import { corsOptions, registerCors } from '../cors.ts';
import type { SmhDeps } from './context.ts';
import { SMH_ERRORS } from './errors.ts';
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

declare module 'fastify' {
  interface FastifyRequest {
    smhRequestId: string;
  }
}

function renderError(request: FastifyRequest, reply: FastifyReply, err: unknown): void {
  const requestId = request.smhRequestId;
  let status = 500;
  let code = 'InternalServerError';
  let message = 'Internal server error.';
  if (isAppError(err)) {
    const form = SMH_ERRORS[err.code];
    status = form.status;
    code = form.code ?? err.code;
    message = form.message ?? err.message;
    if (status >= 500) request.log.error({ err, requestId }, 'SMH request failed');
  } else if ((err as FastifyError)?.statusCode !== undefined && (err as FastifyError).statusCode! < 500) {
    status = 400;
    code = 'BadRequest';
    message = (err as Error).message;
  } else {
    request.log.error({ err, requestId }, 'unexpected error in the SMH API');
  }
  reply.code(status);
  if (request.method === 'HEAD') reply.send();
  else reply.header('content-type', 'application/json; charset=utf-8').send({ code, message, requestId });
}

export function smhApiPlugin(deps: SmhDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.decorateRequest('smhRequestId', '');
    app.addHook('onRequest', async (request, reply) => {
      request.smhRequestId = newRequestId(deps.clock.now());
      reply.header('x-smh-request-id', request.smhRequestId).header('x-request-id', request.smhRequestId);
    });
    registerCors(app, corsOptions(deps.config), { expose: EXPOSE, preflightPaths: ['/*'] });
    // Bodies are JSON when present; SDKs send empty bodies with and without a JSON content type.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
      const source = String(text).trim();
      if (source === '') return done(null, undefined);
      try {
        done(null, JSON.parse(source));
      } catch {
        done(new AppError('InvalidArgument', 'The request body is not valid JSON.'), undefined);
      }
    });
    app.setErrorHandler((err, request, reply) => renderError(request, reply, err));
    app.setNotFoundHandler((request, reply) =>
      renderError(
        request,
        reply,
        new AppError('RouteNotFound', `No SMH route for ${request.method} ${request.url.split('?')[0]}.`),
      ),
    );
    tokenRoutes(app, deps);
    spaceRoutes(app, deps);
    quotaRoutes(app, deps);
    directoryRoutes(app, deps);
    fileRoutes(app, deps);
  };
}
