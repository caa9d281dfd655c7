// The SMH business API (/api/v1/…) as a fastify plugin: JSON bodies (an empty body is no body),
// route modules per resource, and errors rendered as `{code, message, requestId}` with the request id
// also in x-smh-request-id and x-request-id.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { noteFailure } from '../request-outcome.ts';
import type { SmhDeps } from './context.ts';
import { SMH_REQUEST_ID_HEADERS, smhErrorAnswer } from './errors.ts';
import { directoryRoutes } from './routes/directory.ts';
import { fileRoutes } from './routes/file.ts';
import { spaceRoutes } from './routes/space.ts';
import { tokenRoutes } from './routes/token.ts';

function renderError(request: FastifyRequest, reply: FastifyReply, err: unknown): void {
  const requestId = request.id;
  const { status, code, message } = smhErrorAnswer(err);
  noteFailure(request, { status, code, message, err });
  reply.code(status);
  if (request.method === 'HEAD') reply.send();
  else reply.header('content-type', 'application/json; charset=utf-8').send({ code, message, requestId });
}

export function smhApiPlugin(deps: SmhDeps): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      for (const name of SMH_REQUEST_ID_HEADERS) reply.header(name, request.id);
    });
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
    directoryRoutes(app, deps);
    fileRoutes(app, deps);
  };
}
