// MetadataStore: every row mediahost keeps, behind repositories with one implementation over kysely
// and two databases (SQLite, PostgreSQL). The contract (test/contract/metadata-store.test.ts):
// - transaction() runs its callback atomically: all writes commit or none do, and concurrent
//   transactions that lock the same upload (multipart.lock) run one after the other;
// - conditional updates (setState) report whether they won, so racing state changes have one winner;
// - listings order keys by their UTF-8 bytes, the S3 order.
import type { AccessKeyId, BlobKey, BucketName, LibraryId, ObjectId, UploadId } from '../core/ids.ts';

export interface LibraryRecord {
  id: LibraryId;
  name: string;
  /** SHA-256 (hex) of the library secret; the secret itself is shown once and never stored. */
  secretHash: string;
  isMultiTenant: boolean;
  bucket: BucketName;
  createdAt: number;
}

export type BucketAcl = 'private' | 'public-read' | 'public-read-write';

export interface BucketRecord {
  name: BucketName;
  libraryId: LibraryId;
  acl: BucketAcl;
  createdAt: number;
}

/** What a temporary credential may do; absent fields do not restrict. */
export interface CredentialScope {
  /** Exact object key the credential is limited to. */
  key?: string;
  /** Multipart upload the credential is limited to. */
  uploadId?: string;
  /** Object API operations allowed, e.g. ["PutObject"] or ["UploadPart", "ListParts"]. */
  actions?: string[];
  /** Bytes per second the holder may use; enforced by the object endpoint when set. */
  trafficLimit?: number;
}

export interface AccessKeyRecord {
  id: AccessKeyId;
  /** Kept in clear: HMAC signatures cannot be checked against a hash. */
  secret: string;
  libraryId: LibraryId;
  bucket: BucketName;
  /** SHA-256 (hex) of the session token of a temporary credential; null for a permanent key. */
  sessionTokenHash: string | null;
  expiresAt: number | null;
  scope: CredentialScope | null;
  createdAt: number;
}

/** Content headers stored with an object and returned on GET/HEAD. */
export interface ObjectHeaders {
  contentType: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: string;
  storageClass: string;
  /** User metadata, lower-case names without the x-cos-meta-/x-amz-meta- prefix. */
  meta: Record<string, string>;
}

export interface ObjectRecord {
  id: ObjectId;
  bucket: BucketName;
  key: string;
  size: number;
  /** Without quotes: md5 hex, or md5-of-md5s hex + "-" + part count. */
  etag: string;
  /** CRC-64/XZ, unsigned decimal. */
  crc64: string;
  headers: ObjectHeaders;
  /** Full-object S3 checksums (algorithm lower-case -> base64) when the client sent them. */
  checksums: Record<string, string>;
  partsCount: number;
  lastModified: number;
}

export interface SegmentRecord {
  blobKey: BlobKey;
  size: number;
}

export type UploadState = 'active' | 'completed' | 'aborted';

export interface CompletedUpload {
  etag: string;
  crc64: string;
  size: number;
  /** Digest of the part list Complete was called with, to recognise a retry. */
  partsDigest: string;
  completedAt: number;
}

export interface UploadRecord {
  id: UploadId;
  bucket: BucketName;
  key: string;
  state: UploadState;
  initiatedAt: number;
  owner: string;
  headers: ObjectHeaders;
  checksumAlgorithm: string | null;
  result: CompletedUpload | null;
}

export interface PartRecord {
  uploadId: UploadId;
  partNumber: number;
  blobKey: BlobKey;
  size: number;
  /** md5 hex, without quotes. */
  etag: string;
  crc64: string;
  checksums: Record<string, string>;
  lastModified: number;
}

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

export interface SettingsRepo {
  get(name: string): Promise<string | undefined>;
  /** Stores the value unless one exists; returns whichever value is stored afterwards. */
  putIfAbsent(name: string, value: string): Promise<string>;
}

export interface LibraryRepo {
  insert(library: LibraryRecord): Promise<void>;
  get(id: LibraryId): Promise<LibraryRecord | undefined>;
  list(): Promise<LibraryRecord[]>;
}

export interface BucketRepo {
  insert(bucket: BucketRecord): Promise<boolean>;
  get(name: BucketName): Promise<BucketRecord | undefined>;
  list(libraryId?: LibraryId): Promise<BucketRecord[]>;
}

export interface AccessKeyRepo {
  insert(key: AccessKeyRecord): Promise<void>;
  get(id: AccessKeyId): Promise<AccessKeyRecord | undefined>;
  delete(id: AccessKeyId): Promise<void>;
  /** Temporary keys scoped to an upload: removed when the upload ends. */
  deleteForUpload(uploadId: string): Promise<number>;
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
  /** Deletes all parts of the upload and returns their blobs. */
  deleteParts(id: UploadId): Promise<BlobKey[]>;
  listActive(query: UploadListQuery): Promise<UploadRecord[]>;
  /** Uploads to reclaim: active ones initiated before `activeBefore`, finished ones older than `finishedBefore`. */
  listStale(activeBefore: number, finishedBefore: number, limit: number): Promise<UploadRecord[]>;
  delete(id: UploadId): Promise<void>;
}

export interface BlobRefRepo {
  /** The subset of `keys` that some part or object segment still points to. */
  referenced(keys: readonly BlobKey[]): Promise<Set<BlobKey>>;
}

export interface Repositories {
  readonly settings: SettingsRepo;
  readonly libraries: LibraryRepo;
  readonly buckets: BucketRepo;
  readonly accessKeys: AccessKeyRepo;
  readonly objects: ObjectRepo;
  readonly multipart: MultipartRepo;
  readonly blobRefs: BlobRefRepo;
}

export interface MetadataStore extends Repositories {
  readonly kind: 'sqlite' | 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
