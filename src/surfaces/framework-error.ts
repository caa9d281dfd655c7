// Errors fastify raises before a handler runs (bad percent-encoding, an over-long path parameter, a
// body over the limit or shorter than its Content-Length), as the AppError each surface renders.
import { AppError, isAppError } from '../core/errors.ts';

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** The AppError for `err`: itself, a fastify client error translated, or undefined for a fault. */
export function asAppError(err: unknown): AppError | undefined {
  if (isAppError(err)) return err;
  const { code, statusCode, message } = (err ?? {}) as FrameworkError;
  switch (code) {
    case 'FST_ERR_BAD_URL':
      return new AppError('InvalidURI', 'The request path is not valid percent-encoded UTF-8.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('InvalidURI', 'A path segment of the request is longer than 100 characters.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('EntityTooLarge', 'The request body is larger than this API accepts (4 MiB).');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(
        'IncompleteBody',
        'The request body does not have the length its Content-Length says.',
      );
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new AppError('InvalidRequest', message ?? 'The request could not be read.');
  }
  return undefined;
}
