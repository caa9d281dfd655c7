// The one JSON body parser of the SMH and VOD APIs: every content type is read as text, an empty body
// is no body (SDKs send empty bodies with and without a JSON content type), anything else must parse.
import type { FastifyInstance } from 'fastify';
import type { AppError } from '../core/errors.ts';

/** Replaces the plugin's parsers; `invalid` is the surface's error for a body that is not JSON. */
export function registerJsonBody(app: FastifyInstance, invalid: () => AppError): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
    const source = String(text).trim();
    if (source === '') return done(null, undefined);
    try {
      done(null, JSON.parse(source));
    } catch {
      done(invalid(), undefined);
    }
  });
}
