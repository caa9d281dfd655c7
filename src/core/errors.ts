// The one error type of the domain. Codes form a closed union; every surface keeps an exhaustive
// table from code to its own dialect (status, wire code), so adding a code breaks the build until each
// surface says how to render it. Core never picks an HTTP status.

export const ERROR_CODES = [
  // generic
  'InvalidArgument',
  'InvalidRequest',
  'NotImplemented',
  'MethodNotAllowed',
  'InternalError',
  'ServiceUnavailable',
  // the data dir's disk is full or below its reserve (docs/adr/0001 §18)
  'InsufficientStorage',
  // authentication and authorisation (object API)
  'AccessDenied',
  'RequestExpired',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'RequestTimeTooSkewed',
  'ExpiredToken',
  'InvalidToken',
  'AuthorizationHeaderMalformed',
  'AuthorizationQueryParametersError',
  // buckets and objects
  'NoSuchBucket',
  'NoSuchKey',
  'InvalidBucketName',
  'BucketAlreadyExists',
  'KeyTooLong',
  'InvalidObjectName',
  'MetadataTooLarge',
  'RequestHeaderSectionTooLarge',
  'InvalidURI',
  'PreconditionFailed',
  'InvalidRange',
  // bodies and integrity
  'MissingContentLength',
  'IncompleteBody',
  'RequestTimeout',
  'EntityTooLarge',
  'EntityTooSmall',
  'BadDigest',
  'InvalidDigest',
  'XAmzContentSHA256Mismatch',
  'MalformedXML',
  'MalformedPOSTRequest',
  'InvalidPolicyDocument',
  // multipart
  'NoSuchUpload',
  'InvalidPart',
  'InvalidPartOrder',
  // libraries, tokens and spaces (SMH)
  'RouteNotFound',
  'EmptyLibraryIdOrSecret',
  'EmptyLibraryId',
  'EmptyLibrarySecret',
  'WrongLibraryIdOrSecret',
  'LibraryNotFound',
  'EmptyAccessToken',
  'InvalidAccessToken',
  'AccessTokenNotMatchLibrary',
  'AccessTokenNotMatchSpace',
  'NoPermission',
  'UserIdLengthExceed',
  'ClientIdLengthExceed',
  'NotMultiSpaceLibrary',
  'SpaceIdInvalid',
  'SpaceNotFound',
  'SpaceNotEmpty',
  'SpaceAlreadyExists',
  // quota
  'QuotaLimitReached',
  'QuotaCapacityLessThanSize',
  'DuplicateQuota',
  'NoQuota',
  'QuotaNotFound',
  // namespace
  'DirectoryNotFound',
  'DirectoryNotEmpty',
  'FileNotFound',
  'SourceFileNotFound',
  'SourceDirectoryNotFound',
  'EmptyFileName',
  'FileNameLengthExceed',
  'IllegalFileName',
  'DirectoryNameLengthExceed',
  'RootDirectoryNotAllowed',
  'SameNameDirectoryOrFileExists',
  'RenameTooManyTimes',
  'InvalidConflictResolutionStrategy',
  'SourceDirectoryIsParentOfDestination',
  'FileTypeNotMatched',
  'CosObjectNonexistent',
  // upload tasks
  'ConfirmKeyNotFound',
  'NotMultipartUpload',
  'UploadComplete',
  'UploadIncomplete',
  'MultipartUploadIncomplete',
  'MultipartUploadPartTooSmall',
  'BadCrc64',
  'PathConflict',
  // media tasks (VOD)
  'AssetNotFound',
  'TaskNotFound',
  'TaskNotCancellable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  /** Extra facts a surface may render (part number, upload id, object size for a 416...). */
  details?: Record<string, string | number | undefined>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, string | number | undefined>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
