// Limits and dialect rules of the object store (spec cos-api §4), configurable so tests can shrink them.

/** COS and S3 differ only cosmetically and in a few limits; each request is handled in one of them. */
export type Dialect = 'cos' | 's3';

export interface ObjectLimits {
  maxPutSize: number;
  maxPartSize: number;
  minPartSizeCos: number;
  minPartSizeS3: number;
  cosRequireConsecutiveParts: boolean;
  completedUploadReplayMs: number;
}

export const MAX_PART_NUMBER = 10_000;
export const MAX_KEY_BYTES: Record<Dialect, number> = { cos: 850, s3: 1024 };
export const MAX_METADATA_BYTES = 2048;
export const MAX_LIST_PARTS = 1000;
export const MAX_LIST_KEYS = 1000;
export const MAX_DELETE_KEYS = 1000;
