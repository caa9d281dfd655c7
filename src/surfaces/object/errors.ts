// The object API's rendering of AppError codes: HTTP status and wire code for each (spec cos-api §6.2).
// The table is exhaustive over ErrorCode, so a new code cannot ship without deciding its XML form.
import type { ErrorCode } from '../../core/errors.ts';

export interface XmlErrorForm {
  status: number;
  /** Wire code, when it differs from the domain code. */
  code?: string;
  /** Message used when the error's own text should not reach the client (5xx). */
  message?: string;
}

export const OBJECT_ERRORS: Record<ErrorCode, XmlErrorForm> = {
  InvalidArgument: { status: 400 },
  InvalidRequest: { status: 400 },
  NotImplemented: { status: 501 },
  MethodNotAllowed: { status: 405 },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  ServiceUnavailable: { status: 503 },
  AccessDenied: { status: 403 },
  // COS/S3: an out-of-window signature is AccessDenied with this exact message; the COS SDK keys its
  // clock correction on the pair.
  RequestExpired: { status: 403, code: 'AccessDenied', message: 'Request has expired' },
  SignatureDoesNotMatch: { status: 403 },
  InvalidAccessKeyId: { status: 403 },
  RequestTimeTooSkewed: { status: 403 },
  ExpiredToken: { status: 400 },
  InvalidToken: { status: 400 },
  AuthorizationHeaderMalformed: { status: 400 },
  AuthorizationQueryParametersError: { status: 400 },
  NoSuchBucket: { status: 404 },
  NoSuchKey: { status: 404 },
  InvalidBucketName: { status: 400 },
  BucketAlreadyExists: { status: 409 },
  KeyTooLong: { status: 400 },
  InvalidObjectName: { status: 400 },
  InvalidURI: { status: 400 },
  MetadataTooLarge: { status: 400 },
  RequestHeaderSectionTooLarge: { status: 431 },
  PreconditionFailed: { status: 412 },
  InvalidRange: { status: 416 },
  MissingContentLength: { status: 411 },
  IncompleteBody: { status: 400 },
  EntityTooLarge: { status: 400 },
  EntityTooSmall: { status: 400 },
  BadDigest: { status: 400 },
  InvalidDigest: { status: 400 },
  XAmzContentSHA256Mismatch: { status: 400 },
  MalformedXML: { status: 400 },
  MalformedPOSTRequest: { status: 400 },
  InvalidPolicyDocument: { status: 400 },
  NoSuchUpload: { status: 404 },
  InvalidPart: { status: 400 },
  InvalidPartOrder: { status: 400 },
};
