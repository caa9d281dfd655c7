// The SMH API's rendering of AppError codes (spec smh §4): JSON `{code, message, requestId}` with the
// status of each code. Exhaustive over ErrorCode, so a new code needs a decision here.
import type { ErrorCode } from '../../core/errors.ts';
import { type Dialect, requestIdHeaders } from '../dialect.ts';
import { asAppError } from '../framework-error.ts';

/** Headers carrying the request id on every SMH response (SDKs read either). */
export const SMH_REQUEST_ID_HEADERS = ['x-smh-request-id', 'x-request-id'] as const;

export interface JsonErrorForm {
  status: number;
  /** Wire code when it differs from the domain code. */
  code?: string;
  /** Message used instead of the error's own (5xx). */
  message?: string;
}

const INTERNAL: JsonErrorForm = {
  status: 500,
  code: 'InternalServerError',
  message: 'Internal server error.',
};

export const SMH_ERRORS: Record<ErrorCode, JsonErrorForm> = {
  InvalidArgument: { status: 400, code: 'ParamInvalid' },
  InvalidRequest: { status: 400, code: 'BadRequest' },
  NotImplemented: { status: 400, code: 'FunctionNotEnabled' },
  MethodNotAllowed: { status: 404, code: 'RouteNotFound' },
  InternalError: INTERNAL,
  ServiceUnavailable: { status: 503, code: 'ServerOverloaded' },
  // SMH has no code for a full disk; 507 with a code of our own (docs/adr/0001 §18).
  InsufficientStorage: { status: 507 },
  // Object-store codes can reach SMH through the business layer.
  AccessDenied: { status: 403, code: 'NoPermission' },
  RequestExpired: { status: 403, code: 'NoPermission' },
  SignatureDoesNotMatch: INTERNAL,
  InvalidAccessKeyId: INTERNAL,
  RequestTimeTooSkewed: INTERNAL,
  ExpiredToken: INTERNAL,
  InvalidToken: INTERNAL,
  AuthorizationHeaderMalformed: INTERNAL,
  AuthorizationQueryParametersError: INTERNAL,
  NoSuchBucket: { status: 404, code: 'LibraryNotFound' },
  NoSuchKey: { status: 404, code: 'CosObjectNonexistent' },
  InvalidBucketName: INTERNAL,
  BucketAlreadyExists: { status: 409, code: 'SameNameDirectoryOrFileExists' },
  KeyTooLong: { status: 400, code: 'FileNameLengthExceed' },
  InvalidObjectName: { status: 400, code: 'IllegalFileName' },
  InvalidURI: { status: 400, code: 'BadRequest' },
  MetadataTooLarge: { status: 431, code: 'HeaderFieldsTooLarge' },
  RequestHeaderSectionTooLarge: { status: 431, code: 'HeaderFieldsTooLarge' },
  PreconditionFailed: { status: 412, code: 'PreconditionFailed' },
  InvalidRange: { status: 416, code: 'InvalidRange' },
  MissingContentLength: { status: 400, code: 'BadRequest' },
  IncompleteBody: { status: 400, code: 'BadRequest' },
  RequestTimeout: { status: 408, code: 'ReadRequestTimeout' },
  EntityTooLarge: { status: 413, code: 'RequestEntityTooLarge' },
  EntityTooSmall: { status: 400, code: 'MultipartUploadPartTooSmall' },
  BadDigest: { status: 400, code: 'BadRequest' },
  InvalidDigest: { status: 400, code: 'BadRequest' },
  XAmzContentSHA256Mismatch: { status: 400, code: 'BadRequest' },
  MalformedXML: { status: 400, code: 'BadRequest' },
  MalformedPOSTRequest: { status: 400, code: 'BadRequest' },
  InvalidPolicyDocument: { status: 400, code: 'BadRequest' },
  NoSuchUpload: { status: 404, code: 'ConfirmKeyNotFound' },
  InvalidPart: { status: 400, code: 'UploadIncomplete' },
  InvalidPartOrder: { status: 400, code: 'UploadIncomplete' },
  RouteNotFound: { status: 404 },
  EmptyLibraryIdOrSecret: { status: 400 },
  EmptyLibraryId: { status: 400 },
  EmptyLibrarySecret: { status: 400 },
  WrongLibraryIdOrSecret: { status: 404 },
  LibraryNotFound: { status: 404 },
  EmptyAccessToken: { status: 400 },
  // SDKs refresh their token and retry on exactly 403 + InvalidAccessToken.
  InvalidAccessToken: { status: 403 },
  AccessTokenNotMatchLibrary: { status: 403 },
  AccessTokenNotMatchSpace: { status: 403 },
  NoPermission: { status: 403 },
  UserIdLengthExceed: { status: 400 },
  ClientIdLengthExceed: { status: 400 },
  NotMultiSpaceLibrary: { status: 400 },
  SpaceIdInvalid: { status: 400 },
  SpaceNotFound: { status: 404 },
  SpaceNotEmpty: { status: 409 },
  SpaceAlreadyExists: { status: 409, code: 'SameNameDirectoryOrFileExists' },
  QuotaLimitReached: { status: 400 },
  QuotaCapacityLessThanSize: { status: 400 },
  DuplicateQuota: { status: 409 },
  NoQuota: { status: 404 },
  QuotaNotFound: { status: 404 },
  DirectoryNotFound: { status: 404 },
  DirectoryNotEmpty: { status: 409 },
  FileNotFound: { status: 404 },
  SourceFileNotFound: { status: 404 },
  SourceDirectoryNotFound: { status: 404 },
  EmptyFileName: { status: 400 },
  FileNameLengthExceed: { status: 400 },
  IllegalFileName: { status: 400 },
  DirectoryNameLengthExceed: { status: 400 },
  RootDirectoryNotAllowed: { status: 400 },
  SameNameDirectoryOrFileExists: { status: 409 },
  RenameTooManyTimes: { status: 409 },
  InvalidConflictResolutionStrategy: { status: 400 },
  SourceDirectoryIsParentOfDestination: { status: 400 },
  FileTypeNotMatched: { status: 400 },
  CosObjectNonexistent: { status: 404 },
  ConfirmKeyNotFound: { status: 404 },
  NotMultipartUpload: { status: 404 },
  UploadComplete: { status: 409 },
  UploadIncomplete: { status: 400 },
  MultipartUploadIncomplete: { status: 400 },
  MultipartUploadPartTooSmall: { status: 400 },
  BadCrc64: { status: 400 },
  PathConflict: { status: 409 },
  AssetNotFound: { status: 404, code: 'FileNotFound' },
  TaskNotFound: { status: 404 },
  TaskNotCancellable: { status: 409, code: 'PathConflict' },
};

/** How the SMH API answers `err`: `{code, message}` and a status; anything but a client error is a 500. */
export function smhErrorAnswer(err: unknown): { status: number; code: string; message: string } {
  const appError = asAppError(err);
  if (!appError) return { status: INTERNAL.status, code: INTERNAL.code!, message: INTERNAL.message! };
  const form = SMH_ERRORS[appError.code];
  return { status: form.status, code: form.code ?? appError.code, message: form.message ?? appError.message };
}

export const smhDialect: Dialect = {
  requestIdHeaders: SMH_REQUEST_ID_HEADERS,
  answer: smhErrorAnswer,
  render(err, { requestId }) {
    const { status, code, message } = smhErrorAnswer(err);
    return {
      status,
      code,
      message,
      headers: { 'content-type': 'application/json; charset=utf-8', ...requestIdHeaders(this, requestId) },
      body: JSON.stringify({ code, message, requestId }),
    };
  },
};
