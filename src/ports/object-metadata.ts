// Repositories of the object engine: buckets, access keys, objects, multipart uploads and blob references.
// Listings order keys by their UTF-8 bytes, the S3 order; multipart.lock holds an upload until commit.
import type { AccessKeyId, BlobKey, BucketName, LibraryId, ObjectId, UploadId } from '../core/ids.ts';
import type {
  AccessKeyRecord,
  BlobRef,
  BucketRecord,
  CompletedUpload,
  ObjectRecord,
  PartRecord,
  PartSummary,
  SegmentRecord,
  UploadRecord,
  UploadState,
} from '../core/objects/model.ts';

export interface ObjectListQuery {
  bucket: BucketName;
  prefix: string;
  /** Only keys strictly greater than this (UTF-8 byte order). */
  after: string;
  limit: number;
}

export interface UploadListQuery {
  bucket: BucketName;
  prefix: string;
  keyMarker: string;
  /** With keyMarker: also uploads of that same key whose id is greater. */
  uploadIdMarker: string;
  limit: number;
}

export interface BucketRepo {
  insert(bucket: BucketRecord): Promise<boolean>;
  get(name: BucketName): Promise<BucketRecord | undefined>;
  list(libraryId?: LibraryId): Promise<BucketRecord[]>;
}

export interface AccessKeyRepo {
  insert(key: AccessKeyRecord): Promise<void>;
  get(id: AccessKeyId): Promise<AccessKeyRecord | undefined>;
  /**
   * The library's oldest permanent key confined to a prefix (no session token, a scope): the key that
   * signs SMH download URLs, never handed out. The library's own key pair has no scope.
   */
  smhReaderFor(libraryId: LibraryId): Promise<AccessKeyRecord | undefined>;
  /** The library's own key pairs (permanent, no scope): neither the SMH reader nor temporary keys. */
  keyPairsFor(libraryId: LibraryId): Promise<AccessKeyRecord[]>;
  delete(id: AccessKeyId): Promise<void>;
  /** Temporary keys scoped to an upload: removed when the upload ends. */
  deleteForUpload(uploadId: string): Promise<number>;
  /** Temporary keys scoped to one object (simple and form upload grants). */
  deleteForObject(bucket: BucketName, key: string): Promise<number>;
  deleteExpired(now: number): Promise<number>;
}

export interface ObjectRepo {
  get(bucket: BucketName, key: string): Promise<ObjectRecord | undefined>;
  segments(objectId: ObjectId): Promise<SegmentRecord[]>;
  /** Inserts or replaces the object under (bucket, key); returns the blobs of the replaced version. */
  put(object: ObjectRecord, segments: readonly SegmentRecord[]): Promise<BlobKey[]>;
  /** Removes the object; returns its blobs (empty when there was none). */
  delete(bucket: BucketName, key: string): Promise<BlobKey[]>;
  list(query: ObjectListQuery): Promise<ObjectRecord[]>;
  countInBucket(bucket: BucketName): Promise<number>;
}

export interface MultipartRepo {
  insert(upload: UploadRecord): Promise<void>;
  get(id: UploadId): Promise<UploadRecord | undefined>;
  /** Reads the upload and, inside a transaction, holds it against concurrent lockers until commit. */
  lock(id: UploadId): Promise<UploadRecord | undefined>;
  /** Conditional state change; true when this call made it. */
  setState(id: UploadId, from: UploadState, to: UploadState, result?: CompletedUpload): Promise<boolean>;
  /** Inserts or replaces a part; returns the blob of the part it replaced. */
  putPart(part: PartRecord): Promise<BlobKey | undefined>;
  listParts(id: UploadId, afterPartNumber: number, limit: number): Promise<PartRecord[]>;
  /** Every part of the upload, in order, with only what a status needs (the hot path of SMH status). */
  partSummaries(id: UploadId): Promise<PartSummary[]>;
  /** Deletes all parts of the upload and returns their blobs. */
  deleteParts(id: UploadId): Promise<BlobKey[]>;
  listActive(query: UploadListQuery): Promise<UploadRecord[]>;
  /**
   * Uploads to reclaim: active ones initiated before `activeBefore`, finished ones older than
   * `finishedBefore`. An active upload behind an SMH upload task that is still uploading or
   * confirming is not listed: it ends with its task.
   */
  listStale(activeBefore: number, finishedBefore: number, limit: number): Promise<UploadRecord[]>;
  delete(id: UploadId): Promise<void>;
}

export interface BlobRefRepo {
  /** The subset of `keys` that some part or object segment still points to. */
  referenced(keys: readonly BlobKey[]): Promise<Set<BlobKey>>;
  /** The rows that point to blobs, in blob-key order, with keys after `after` (for `mediahost verify`). */
  list(after: string, limit: number): Promise<BlobRef[]>;
}
