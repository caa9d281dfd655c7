// The VOD API's rendering of AppError codes (spec vod-tasks §3): `{error_code, error_msg}` with
// Huawei's codes. Exhaustive over ErrorCode.
import type { ErrorCode } from '../../core/errors.ts';
import { type Dialect, requestIdHeaders } from '../dialect.ts';
import { asAppError } from '../framework-error.ts';

/** The header carrying the request id on every VOD response. */
export const VOD_REQUEST_ID_HEADERS = ['x-request-id'] as const;

export interface VodErrorForm {
  status: number;
  code: string;
  /** Message used instead of the error's own (internal faults). */
  message?: string;
}

const ILLEGAL: VodErrorForm = { status: 400, code: 'VOD.10053' };
const AUTH: VodErrorForm = { status: 401, code: 'APIGW.0301' };
const DENIED: VodErrorForm = { status: 403, code: 'VOD.10054' };
const NOT_FOUND: VodErrorForm = { status: 400, code: 'VOD.10062' };
const INTERNAL: VodErrorForm = { status: 500, code: 'VOD.10051', message: 'Internal system error.' };

export const VOD_ERRORS: Record<ErrorCode, VodErrorForm> = {
  InvalidArgument: ILLEGAL,
  InvalidRequest: ILLEGAL,
  // Outside Huawei's VOD.nnnnn numbering, like mediahost's task error codes (ADR 0003 §18).
  NotImplemented: { status: 501, code: 'NOT_IMPLEMENTED' },
  MethodNotAllowed: { status: 404, code: 'APIGW.0101' },
  InternalError: INTERNAL,
  ServiceUnavailable: { status: 503, code: 'VOD.10052' },
  // Huawei's internal-fault code with status 507 and a message that says the disk is full.
  InsufficientStorage: { status: 507, code: 'VOD.10051' },
  AccessDenied: DENIED,
  RequestExpired: AUTH,
  SignatureDoesNotMatch: AUTH,
  InvalidAccessKeyId: AUTH,
  RequestTimeTooSkewed: AUTH,
  ExpiredToken: AUTH,
  InvalidToken: AUTH,
  AuthorizationHeaderMalformed: AUTH,
  AuthorizationQueryParametersError: AUTH,
  NoSuchBucket: NOT_FOUND,
  NoSuchKey: NOT_FOUND,
  InvalidBucketName: ILLEGAL,
  BucketAlreadyExists: ILLEGAL,
  KeyTooLong: ILLEGAL,
  InvalidObjectName: ILLEGAL,
  InvalidURI: ILLEGAL,
  MetadataTooLarge: ILLEGAL,
  RequestHeaderSectionTooLarge: ILLEGAL,
  PreconditionFailed: ILLEGAL,
  InvalidRange: ILLEGAL,
  MissingContentLength: ILLEGAL,
  IncompleteBody: ILLEGAL,
  // The API gateway's request-error code, with the HTTP status of a timeout (ADR 0003).
  RequestTimeout: { status: 408, code: 'APIGW.0201' },
  EntityTooLarge: ILLEGAL,
  EntityTooSmall: ILLEGAL,
  BadDigest: ILLEGAL,
  InvalidDigest: ILLEGAL,
  XAmzContentSHA256Mismatch: ILLEGAL,
  MalformedXML: ILLEGAL,
  MalformedPOSTRequest: ILLEGAL,
  InvalidPolicyDocument: ILLEGAL,
  NoSuchUpload: NOT_FOUND,
  InvalidPart: ILLEGAL,
  InvalidPartOrder: ILLEGAL,
  RouteNotFound: { status: 404, code: 'APIGW.0101' },
  EmptyLibraryIdOrSecret: AUTH,
  EmptyLibraryId: AUTH,
  EmptyLibrarySecret: AUTH,
  WrongLibraryIdOrSecret: AUTH,
  LibraryNotFound: NOT_FOUND,
  EmptyAccessToken: AUTH,
  InvalidAccessToken: AUTH,
  AccessTokenNotMatchLibrary: DENIED,
  AccessTokenNotMatchSpace: DENIED,
  NoPermission: DENIED,
  UserIdLengthExceed: ILLEGAL,
  ClientIdLengthExceed: ILLEGAL,
  NotMultiSpaceLibrary: ILLEGAL,
  SpaceIdInvalid: ILLEGAL,
  SpaceNotFound: NOT_FOUND,
  SpaceNotEmpty: ILLEGAL,
  SpaceAlreadyExists: ILLEGAL,
  QuotaLimitReached: ILLEGAL,
  QuotaCapacityLessThanSize: ILLEGAL,
  DuplicateQuota: ILLEGAL,
  NoQuota: NOT_FOUND,
  QuotaNotFound: NOT_FOUND,
  DirectoryNotFound: NOT_FOUND,
  DirectoryNotEmpty: ILLEGAL,
  FileNotFound: NOT_FOUND,
  SourceFileNotFound: NOT_FOUND,
  SourceDirectoryNotFound: NOT_FOUND,
  EmptyFileName: ILLEGAL,
  FileNameLengthExceed: ILLEGAL,
  IllegalFileName: ILLEGAL,
  DirectoryNameLengthExceed: ILLEGAL,
  RootDirectoryNotAllowed: ILLEGAL,
  SameNameDirectoryOrFileExists: ILLEGAL,
  RenameTooManyTimes: ILLEGAL,
  InvalidConflictResolutionStrategy: ILLEGAL,
  SourceDirectoryIsParentOfDestination: ILLEGAL,
  FileTypeNotMatched: ILLEGAL,
  CosObjectNonexistent: NOT_FOUND,
  ConfirmKeyNotFound: NOT_FOUND,
  NotMultipartUpload: ILLEGAL,
  UploadComplete: ILLEGAL,
  UploadIncomplete: ILLEGAL,
  MultipartUploadIncomplete: ILLEGAL,
  MultipartUploadPartTooSmall: ILLEGAL,
  BadCrc64: ILLEGAL,
  PathConflict: ILLEGAL,
  // VOD: unknown asset or task → VOD.10062; cancelling a task that is not WAITING → VOD.10083.
  AssetNotFound: NOT_FOUND,
  TaskNotFound: NOT_FOUND,
  TaskNotCancellable: { status: 400, code: 'VOD.10083' },
};

/** How the VOD API answers `err`: `{error_code, error_msg}` and a status; anything else is a 500. */
export function vodErrorAnswer(err: unknown): { status: number; code: string; message: string } {
  const appError = asAppError(err);
  if (!appError) return { status: INTERNAL.status, code: INTERNAL.code, message: INTERNAL.message! };
  const form = VOD_ERRORS[appError.code];
  return { status: form.status, code: form.code, message: form.message ?? appError.message };
}

export const vodDialect: Dialect = {
  requestIdHeaders: VOD_REQUEST_ID_HEADERS,
  answer: vodErrorAnswer,
  render(err, { requestId }) {
    const { status, code, message } = vodErrorAnswer(err);
    return {
      status,
      code,
      message,
      headers: { 'content-type': 'application/json; charset=UTF-8', ...requestIdHeaders(this, requestId) },
      body: JSON.stringify({ error_code: code, error_msg: message }),
    };
  },
};
