// The object API's rendering of AppError codes: HTTP status and wire code for each (spec cos-api §6.2).
// The table is exhaustive over ErrorCode, so a new code cannot ship without deciding its XML form.
import type { ErrorCode } from '../../core/errors.ts';
import { type Dialect, requestIdHeaders } from '../dialect.ts';
import { asAppError } from '../framework-error.ts';
import { renderXml } from './xml.ts';

/** Headers carrying the request id on every object API response (spec cos-api §6.3). */
export const OBJECT_REQUEST_ID_HEADERS = ['x-cos-request-id', 'x-amz-request-id'] as const;

export interface XmlErrorForm {
  status: number;
  /** Wire code, when it differs from the domain code. */
  code?: string;
  /** Message used when the error's own text should not reach the client (5xx). */
  message?: string;
}

const SMH_ONLY: XmlErrorForm = {
  status: 500,
  code: 'InternalError',
  message: 'We encountered an internal error. Please try again.',
};

export const OBJECT_ERRORS: Record<ErrorCode, XmlErrorForm> = {
  InvalidArgument: { status: 400 },
  InvalidRequest: { status: 400 },
  NotImplemented: { status: 501 },
  MethodNotAllowed: { status: 405 },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  ServiceUnavailable: { status: 503 },
  // S3 has no code for a full disk: 507 (RFC 4918) with a code of our own, which SDKs do not take
  // for the transient 500/503 they retry without end.
  InsufficientStorage: { status: 507 },
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
  // S3: a body that stops arriving is 400 RequestTimeout with this message.
  RequestTimeout: {
    status: 400,
    message:
      'Your socket connection to the server was not read from or written to within the timeout period.',
  },
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
  // Codes of the SMH business API: the object API never raises them, so meeting one here is a bug.
  RouteNotFound: { status: 404, code: 'NoSuchKey', message: 'The specified resource does not exist.' },
  EmptyLibraryIdOrSecret: SMH_ONLY,
  EmptyLibraryId: SMH_ONLY,
  EmptyLibrarySecret: SMH_ONLY,
  WrongLibraryIdOrSecret: SMH_ONLY,
  LibraryNotFound: { status: 404, code: 'NoSuchBucket' },
  EmptyAccessToken: SMH_ONLY,
  InvalidAccessToken: SMH_ONLY,
  AccessTokenNotMatchLibrary: SMH_ONLY,
  AccessTokenNotMatchSpace: SMH_ONLY,
  NoPermission: { status: 403, code: 'AccessDenied' },
  UserIdLengthExceed: SMH_ONLY,
  ClientIdLengthExceed: SMH_ONLY,
  NotMultiSpaceLibrary: SMH_ONLY,
  SpaceIdInvalid: SMH_ONLY,
  SpaceNotFound: SMH_ONLY,
  SpaceNotEmpty: SMH_ONLY,
  SpaceAlreadyExists: SMH_ONLY,
  QuotaLimitReached: SMH_ONLY,
  QuotaCapacityLessThanSize: SMH_ONLY,
  DuplicateQuota: SMH_ONLY,
  NoQuota: SMH_ONLY,
  QuotaNotFound: SMH_ONLY,
  DirectoryNotFound: SMH_ONLY,
  DirectoryNotEmpty: SMH_ONLY,
  FileNotFound: SMH_ONLY,
  SourceFileNotFound: SMH_ONLY,
  SourceDirectoryNotFound: SMH_ONLY,
  EmptyFileName: SMH_ONLY,
  FileNameLengthExceed: SMH_ONLY,
  IllegalFileName: SMH_ONLY,
  DirectoryNameLengthExceed: SMH_ONLY,
  RootDirectoryNotAllowed: SMH_ONLY,
  SameNameDirectoryOrFileExists: SMH_ONLY,
  RenameTooManyTimes: SMH_ONLY,
  InvalidConflictResolutionStrategy: SMH_ONLY,
  SourceDirectoryIsParentOfDestination: SMH_ONLY,
  FileTypeNotMatched: SMH_ONLY,
  CosObjectNonexistent: { status: 404, code: 'NoSuchKey' },
  ConfirmKeyNotFound: SMH_ONLY,
  NotMultipartUpload: SMH_ONLY,
  UploadComplete: SMH_ONLY,
  UploadIncomplete: SMH_ONLY,
  MultipartUploadIncomplete: SMH_ONLY,
  MultipartUploadPartTooSmall: SMH_ONLY,
  BadCrc64: SMH_ONLY,
  PathConflict: SMH_ONLY,
  AssetNotFound: SMH_ONLY,
  TaskNotFound: SMH_ONLY,
  TaskNotCancellable: SMH_ONLY,
};

export interface ObjectErrorAnswer {
  status: number;
  code: string;
  message: string;
  details: Record<string, string | number | undefined>;
}

/** How the object API answers `err`; anything but a client error is 500 InternalError. */
export function objectErrorAnswer(err: unknown): ObjectErrorAnswer {
  const appError = asAppError(err);
  if (!appError) {
    return { status: 500, code: 'InternalError', message: OBJECT_ERRORS.InternalError.message!, details: {} };
  }
  const form = OBJECT_ERRORS[appError.code];
  return {
    status: form.status,
    code: form.code ?? appError.code,
    message: form.message ?? appError.message,
    details: appError.details,
  };
}

export const objectDialect: Dialect = {
  requestIdHeaders: OBJECT_REQUEST_ID_HEADERS,
  answer: objectErrorAnswer,
  render(err, { requestId, resource }) {
    const { status, code, message, details } = objectErrorAnswer(err);
    // ObjectSize goes to Content-Range (InvalidRange), not into the document.
    const extra: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(details)) if (v !== undefined && k !== 'ObjectSize') extra[k] = v;
    return {
      status,
      code,
      message,
      headers: { 'content-type': 'application/xml', ...requestIdHeaders(this, requestId) },
      body: renderXml('Error', {
        Code: code,
        Message: message,
        Resource: resource,
        RequestId: requestId,
        TraceId: requestId,
        ...extra,
      }),
    };
  },
};
