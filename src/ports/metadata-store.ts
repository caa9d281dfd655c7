// MetadataStore: every row mediahost keeps, behind repositories with one implementation over kysely
// and two databases (SQLite, PostgreSQL). The contract (test/contract/metadata-store.test.ts):
// - transaction() runs its callback atomically: all writes commit or none do, and concurrent
//   transactions that lock the same upload (multipart.lock) run one after the other;
// - conditional updates (setState) report whether they won, so racing state changes have one winner;
// - listings order keys by their UTF-8 bytes, the S3 order.
import type { JobRepo } from './job-queue.ts';
import type {
  InodeRepo,
  LibraryRepo,
  QuotaRepo,
  SettingsRepo,
  SpaceRepo,
  TokenRepo,
  UploadTaskRepo,
} from './library-store.ts';
import type { AccessKeyRepo, BlobRefRepo, BucketRepo, MultipartRepo, ObjectRepo } from './object-metadata.ts';

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
