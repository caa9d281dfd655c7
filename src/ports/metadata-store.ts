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
  /** Key prefix the credential is limited to (the SMH keys, for the key that signs download URLs). */
  prefix?: string;
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
  /**
   * Session token of a temporary credential (null for a permanent key). Kept in clear like the
   * secret: both are needed to sign grants again, and reading the database already gives the data.
   */
  sessionToken: string | null;
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

export type PartSummary = Pick<PartRecord, 'partNumber' | 'etag' | 'size' | 'lastModified'>;

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

// --- SMH business data ---

export interface SpaceExtension {
  isPublicRead?: boolean;
  isMultiAlbum?: boolean;
  allowPhoto?: boolean;
  allowVideo?: boolean;
  allowPhotoExtname?: string[];
  allowVideoExtname?: string[];
  allowFileExtname?: string[];
  recognizeSensitiveContent?: boolean;
  spaceTag?: string;
}

export interface SpaceRecord {
  libraryId: LibraryId;
  /** `-` for the one space of a single-tenant library. */
  id: string;
  /** The user whose token created the space ("" for the implicit one). */
  userId: string;
  extension: SpaceExtension;
  quotaId: number | null;
  usedBytes: number;
  createdAt: number;
}

export interface QuotaRecord {
  id: number;
  libraryId: LibraryId;
  capacity: number;
  removeWhenExceed: boolean;
  removeAfterDays: number;
  removeNewest: boolean;
  createdAt: number;
}

export interface TokenRecord {
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  hash: string;
  libraryId: LibraryId;
  /** Spaces the token may touch; null means every space (admin tokens) or the single space. */
  spaceIds: string[] | null;
  userId: string;
  clientId: string;
  sessionId: string;
  grants: string[];
  /** Seconds: initial validity, and how far each use pushes the expiry. */
  period: number;
  expiresAt: number;
  createdAt: number;
}

export type InodeType = 'dir' | 'file';

/** Labels, category and client times carried by files and directories. */
export interface InodeAttributes {
  labels?: string[];
  category?: string;
  localCreationTime?: string;
  localModificationTime?: string;
}

export interface InodeRecord {
  id: string;
  libraryId: LibraryId;
  spaceId: string;
  /** "" for entries of the space root. */
  parentId: string;
  name: string;
  type: InodeType;
  size: number;
  contentType: string | null;
  /** Without quotes; "0" for directories. */
  etag: string;
  crc64: string | null;
  /** Key of the file's bytes in the library's bucket; null for directories. */
  objectKey: string | null;
  /** x-smh-meta-* headers, keys with their prefix. */
  meta: Record<string, string>;
  attributes: InodeAttributes;
  /** Instant-upload hashes (spec smh §3.2), when known. */
  beginningHash: string | null;
  fullHash: string | null;
  userId: string;
  createdAt: number;
  modifiedAt: number;
}

export type InodeOrder = 'name' | 'modificationTime' | 'size' | 'creationTime';

/** Position of an entry in a listing order: its type, sort value, then name and id as tie-breakers. */
export interface InodeCursor {
  type: InodeType;
  value: string | number;
  name: string;
  id: string;
}

export interface InodeListQuery {
  libraryId: LibraryId;
  spaceId: string;
  parentId: string;
  filter?: 'onlyDir' | 'onlyFile';
  orderBy: InodeOrder;
  descending: boolean;
  /** Directories first (default) or mixed with files ("union"). */
  union: boolean;
  /** Keyset cursor: list entries strictly after this one in the chosen order. */
  after?: InodeCursor;
  offset?: number;
  limit: number;
}

export type UploadFlavour = 'simple' | 'form' | 'multipart';
export type ConflictStrategy = 'ask' | 'rename' | 'overwrite';
export type UploadTaskState = 'uploading' | 'confirming' | 'confirmed' | 'cancelled' | 'expired';

/** What the client sent at begin and the file gets at confirm. */
export interface UploadTaskOptions {
  meta: Record<string, string>;
  attributes: InodeAttributes;
  filesize?: number;
  trafficLimit?: number;
  beginningHash?: string;
  fullHash?: string;
  /**
   * The task's object key is a staging key (a store whose grants cannot be withdrawn): confirm copies
   * the bytes to a key of their own, so a grant used again later cannot touch the file.
   */
  staged?: boolean;
}

export interface UploadTaskRecord {
  confirmKey: string;
  libraryId: LibraryId;
  spaceId: string;
  /** Requested path, name last. */
  path: string[];
  flavour: UploadFlavour;
  strategy: ConflictStrategy;
  /** Begun with a grant that may overwrite. */
  force: boolean;
  objectKey: string;
  uploadId: string | null;
  /** Credential of the latest grant, signed again by status. */
  credentialId: string | null;
  state: UploadTaskState;
  /** The bytes are complete in the object store (a multipart upload was completed). */
  objectReady: boolean;
  credentialExpiresAt: number;
  userId: string;
  options: UploadTaskOptions;
  /** Inode id of the confirmed file. */
  result: string | null;
  createdAt: number;
  updatedAt: number;
  /** While `confirming`: the process confirming it ("node/boot"), which renews the lease until it ends. */
  leaseOwner: string | null;
  /** Epoch ms the confirm lease runs out; past it, any process may hand the task back (0: none). */
  leaseUntil: number;
}

export interface TokenRepo {
  insert(token: TokenRecord): Promise<void>;
  get(hash: string): Promise<TokenRecord | undefined>;
  /** Pushes the expiry (sliding renewal); false when the token is gone or already expired. */
  extend(hash: string, expiresAt: number, now: number): Promise<boolean>;
  delete(hash: string): Promise<boolean>;
  deleteForUser(
    libraryId: LibraryId,
    userId: string,
    filter: { clientIds?: string[]; sessionIds?: string[] },
  ): Promise<number>;
  deleteExpired(now: number): Promise<number>;
  /** Every token of the library; returns how many there were. */
  deleteForLibrary(libraryId: LibraryId): Promise<number>;
  /**
   * Revokes a space from every token of the library scoped to it: a token scoped to it alone is
   * deleted, one scoped to several loses it from its list. Returns the tokens changed.
   */
  removeSpace(libraryId: LibraryId, spaceId: string): Promise<number>;
}

export interface SpaceRepo {
  /** Inserts unless the id is taken or was ever used by a space since deleted; false then. */
  insert(space: SpaceRecord): Promise<boolean>;
  get(libraryId: LibraryId, id: string): Promise<SpaceRecord | undefined>;
  /** By id; with `ids` and/or `userId`, only spaces listed in `ids` or created by `userId`. */
  list(
    libraryId: LibraryId,
    query: { after: string; limit: number; ids?: readonly string[]; userId?: string; prefix?: string },
  ): Promise<SpaceRecord[]>;
  count(libraryId: LibraryId): Promise<number>;
  /** Bytes of every file of every space of the library. */
  totalUsedBytes(libraryId: LibraryId): Promise<number>;
  /** Deletes the space; its id stays used (never inserted again). */
  delete(libraryId: LibraryId, id: string, now: number): Promise<void>;
  setExtension(libraryId: LibraryId, id: string, extension: SpaceExtension): Promise<void>;
  setQuota(libraryId: LibraryId, ids: readonly string[], quotaId: number | null): Promise<void>;
  addUsedBytes(libraryId: LibraryId, id: string, delta: number): Promise<void>;
  forQuota(quotaId: number): Promise<SpaceRecord[]>;
}

export interface QuotaRepo {
  insert(quota: Omit<QuotaRecord, 'id'>): Promise<number>;
  get(libraryId: LibraryId, id: number): Promise<QuotaRecord | undefined>;
  /** get, holding the row until the transaction ends (PostgreSQL; SQLite has one writer anyway). */
  lock(libraryId: LibraryId, id: number): Promise<QuotaRecord | undefined>;
  update(quota: QuotaRecord): Promise<void>;
}

export interface InodeRepo {
  get(libraryId: LibraryId, spaceId: string, id: string): Promise<InodeRecord | undefined>;
  /** An inode by id anywhere in the library (VOD asset ids are inode ids). */
  find(libraryId: LibraryId, id: string): Promise<InodeRecord | undefined>;
  child(
    libraryId: LibraryId,
    spaceId: string,
    parentId: string,
    name: string,
  ): Promise<InodeRecord | undefined>;
  /** Names in a directory starting with `prefix` (for choosing a free "name (n)"). */
  childNames(libraryId: LibraryId, spaceId: string, parentId: string, prefix: string): Promise<string[]>;
  list(query: InodeListQuery): Promise<InodeRecord[]>;
  count(libraryId: LibraryId, spaceId: string, parentId: string): Promise<{ dirs: number; files: number }>;
  /** Inserts unless the name is taken in that directory; false when taken. */
  insert(inode: InodeRecord): Promise<boolean>;
  /** Replaces every field of the inode with this id. */
  update(inode: InodeRecord): Promise<void>;
  /** Records a file's instant-upload hashes if it still holds the bytes of `objectKey`. */
  setHashes(
    libraryId: LibraryId,
    spaceId: string,
    id: string,
    objectKey: string,
    hashes: { beginningHash: string; fullHash: string },
  ): Promise<boolean>;
  delete(ids: readonly string[]): Promise<void>;
  /** Ids of every descendant of a directory (not the directory itself). */
  descendants(libraryId: LibraryId, spaceId: string, id: string): Promise<InodeRecord[]>;
  /** Directories and files of a whole space. */
  countInSpace(libraryId: LibraryId, spaceId: string): Promise<{ dirs: number; files: number }>;
  findByHash(
    libraryId: LibraryId,
    spaceId: string,
    size: number,
    beginningHash: string,
  ): Promise<InodeRecord[]>;
}

/** Extra conditions of a task update on its confirm lease. */
export interface LeaseCondition {
  /** The lease holder the task must still have (null: none). */
  owner: string | null;
  /** Also require the lease to have run out before this time (epoch ms). */
  expiredBefore?: number;
}

export interface UploadTaskRepo {
  insert(task: UploadTaskRecord): Promise<void>;
  get(confirmKey: string): Promise<UploadTaskRecord | undefined>;
  /** Conditional state change with optional field updates; true when this call made it. */
  transition(
    confirmKey: string,
    from: UploadTaskState,
    to: UploadTaskState,
    patch?: Partial<
      Pick<
        UploadTaskRecord,
        | 'objectReady'
        | 'result'
        | 'credentialExpiresAt'
        | 'credentialId'
        | 'strategy'
        | 'leaseOwner'
        | 'leaseUntil'
      >
    >,
    now?: number,
    lease?: LeaseCondition,
  ): Promise<boolean>;
  /** Updates fields of a task still in `state` (and holding `lease`); true when it was. */
  update(
    confirmKey: string,
    state: UploadTaskState,
    patch: Partial<
      Pick<UploadTaskRecord, 'objectReady' | 'credentialExpiresAt' | 'credentialId' | 'leaseUntil'>
    >,
    now: number,
    lease?: LeaseCondition,
  ): Promise<boolean>;
  /**
   * Tasks in `state` whose credentials expired before `before` (uploading), whose confirm lease ran
   * out before it (confirming), or updated before it (the others).
   */
  listStale(state: UploadTaskState, before: number, limit: number): Promise<UploadTaskRecord[]>;
  /** Every task of a space, whatever its state. */
  listInSpace(libraryId: LibraryId, spaceId: string): Promise<UploadTaskRecord[]>;
  /**
   * Hands tasks in `confirming` whose lease owner starts with `ownerPrefix` back to `uploading`, except
   * those of `keepOwner`: a restarted process recovers the confirms its previous run left. Returns them.
   */
  reopenConfirmsOf(ownerPrefix: string, keepOwner: string, now: number): Promise<number>;
  delete(confirmKey: string): Promise<void>;
}

// --- the job queue ---

/** VOD's task states, shared by every job kind. */
export type JobState = 'WAITING' | 'PROCESSING' | 'SUCCEED' | 'FAILED' | 'CANCEL';

export interface JobRecord {
  id: string;
  /** What runs it: 'edit', 'transcode', 'snapshot', 'callback'. */
  kind: string;
  libraryId: LibraryId;
  /** The space the job works in (its output's), to keep tenants apart; null for library-wide jobs. */
  spaceId: string | null;
  state: JobState;
  /** Higher runs first (-10..10). */
  priority: number;
  payload: unknown;
  /** 0..100. */
  progress: number;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** Not claimable before this time (retry backoff). */
  runAfter: number;
  /** A forced cancel of a running job was asked for; its worker stops it. */
  cancelRequested: boolean;
  /** The VOD asset the job is about (its output for edits, its source for processing). */
  assetId: string | null;
  result: unknown;
  errorCode: string | null;
  errorMsg: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt: number;
}

export interface JobEnd {
  result?: unknown;
  errorCode?: string;
  errorMsg?: string;
  progress?: number;
}

export interface JobRepo {
  insert(job: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Takes the most urgent claimable job of these kinds: WAITING → PROCESSING with a lease. */
  claim(input: {
    kinds: readonly string[];
    owner: string;
    leaseUntil: number;
    now: number;
  }): Promise<JobRecord | undefined>;
  /** Renews the lease (and records progress) while `owner` still holds the job. */
  heartbeat(
    id: string,
    owner: string,
    leaseUntil: number,
    progress: number | undefined,
  ): Promise<{ owned: boolean; cancelRequested: boolean }>;
  /** PROCESSING → an end state, if `owner` still holds it. */
  finish(
    id: string,
    owner: string,
    state: 'SUCCEED' | 'FAILED' | 'CANCEL',
    end: JobEnd,
    now: number,
  ): Promise<boolean>;
  /** PROCESSING → WAITING (retry later, or handed back at shutdown without counting the attempt). */
  release(
    id: string,
    owner: string,
    input: { runAfter: number; refundAttempt: boolean; errorMsg?: string },
    now: number,
  ): Promise<boolean>;
  /** WAITING → CANCEL; false when the job is in any other state. */
  cancelWaiting(id: string, now: number): Promise<boolean>;
  /** Flags a PROCESSING job for its worker to stop; false when it is not processing. */
  requestCancel(id: string, now: number): Promise<boolean>;
  /** Jobs whose worker vanished (lease expired): back to WAITING, or FAILED once out of attempts. */
  reclaimExpired(now: number): Promise<JobRecord[]>;
  list(query: {
    libraryId: LibraryId;
    kinds: readonly string[];
    /** Only jobs of these spaces (a space-scoped token); undefined for all. */
    spaceIds?: readonly string[];
    id?: string;
    offset: number;
    limit: number;
  }): Promise<{ total: number; jobs: JobRecord[] }>;
  forAsset(
    libraryId: LibraryId,
    assetId: string,
    kinds: readonly string[],
    states: readonly JobState[],
  ): Promise<JobRecord[]>;
}

export interface SettingsRepo {
  get(name: string): Promise<string | undefined>;
  /** Stores the value unless one exists; returns whichever value is stored afterwards. */
  putIfAbsent(name: string, value: string): Promise<string>;
  /** Stores the value, replacing any. */
  put(name: string, value: string): Promise<void>;
  /** Removes the setting (nothing when there is none). */
  delete(name: string): Promise<void>;
}

/** What a library holds: shown by `library list`, and what `library delete` refuses to drop unforced. */
export interface LibraryContents {
  /** Every space, the implicit "-" of a single-tenant library included. */
  spaces: number;
  files: number;
  directories: number;
  /** Objects in the library's buckets (in embedded mode SMH files are objects there too). */
  objects: number;
  /** Multipart uploads of the library's buckets still active. */
  multipartUploads: number;
  /** SMH upload tasks not yet confirmed, cancelled or expired. */
  uploadTasks: number;
  /** Media tasks waiting or running. */
  mediaTasks: number;
}

export interface LibraryRepo {
  /** False when the name is taken (by a concurrent create too); the existing library stays. */
  insert(library: LibraryRecord): Promise<boolean>;
  get(id: LibraryId): Promise<LibraryRecord | undefined>;
  list(): Promise<LibraryRecord[]>;
  contents(id: LibraryId): Promise<LibraryContents>;
  /** Replaces the hash of the library secret; false when there is no such library. */
  setSecretHash(id: LibraryId, secretHash: string): Promise<boolean>;
  /**
   * Deletes the library and every row that belongs to it: buckets with their objects and multipart
   * uploads, keys, tokens, spaces, quotas, inodes, upload tasks and media tasks. The blobs those
   * objects and parts pointed to are left for the sweeper. Run it in a transaction; false when there
   * was no such library.
   */
  deleteWithContents(id: LibraryId): Promise<boolean>;
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

/** A row that points to a blob: an object's segment, or a part of a multipart upload. */
export interface BlobRef {
  blobKey: BlobKey;
  size: number;
  bucket: BucketName;
  key: string;
  /** Set when the row is a part. */
  part?: { uploadId: UploadId; partNumber: number };
}

export interface BlobRefRepo {
  /** The subset of `keys` that some part or object segment still points to. */
  referenced(keys: readonly BlobKey[]): Promise<Set<BlobKey>>;
  /** The rows that point to blobs, in blob-key order, with keys after `after` (for `mediahost verify`). */
  list(after: string, limit: number): Promise<BlobRef[]>;
}

export interface Repositories {
  readonly settings: SettingsRepo;
  readonly libraries: LibraryRepo;
  readonly buckets: BucketRepo;
  readonly accessKeys: AccessKeyRepo;
  readonly objects: ObjectRepo;
  readonly multipart: MultipartRepo;
  readonly blobRefs: BlobRefRepo;
  readonly tokens: TokenRepo;
  readonly spaces: SpaceRepo;
  readonly quotas: QuotaRepo;
  readonly inodes: InodeRepo;
  readonly uploadTasks: UploadTaskRepo;
  readonly jobs: JobRepo;
}

export interface MetadataStore extends Repositories {
  readonly kind: 'sqlite' | 'postgres' | 'pglite';
  /** Names of the migrations that opening this store applied (empty when the schema was current). */
  readonly migrationsApplied: readonly string[];
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
