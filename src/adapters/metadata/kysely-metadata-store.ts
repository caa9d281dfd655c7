// MetadataStore over any kysely dialect: repositories bound to the root handle for single
// statements, and to a transaction handle inside transaction().
import type { Kysely } from 'kysely';
import type { MetadataStore, Repositories } from '../../ports/metadata-store.ts';
import { KyselyAccessKeyRepo } from './repositories/kysely-access-key-repo.ts';
import { KyselyBlobRefRepo } from './repositories/kysely-blob-ref-repo.ts';
import { KyselyBucketRepo } from './repositories/kysely-bucket-repo.ts';
import type { Db, DialectTraits } from './repositories/kysely-db.ts';
import { KyselyInodeRepo } from './repositories/kysely-inode-repo.ts';
import { KyselyJobRepo } from './repositories/kysely-job-repo.ts';
import { KyselyLibraryRepo } from './repositories/kysely-library-repo.ts';
import { KyselyMultipartRepo } from './repositories/kysely-multipart-repo.ts';
import { KyselyObjectRepo } from './repositories/kysely-object-repo.ts';
import { KyselyQuotaRepo } from './repositories/kysely-quota-repo.ts';
import { KyselySettingsRepo } from './repositories/kysely-settings-repo.ts';
import { KyselySpaceRepo } from './repositories/kysely-space-repo.ts';
import { KyselyTokenRepo } from './repositories/kysely-token-repo.ts';
import { KyselyUploadTaskRepo } from './repositories/kysely-upload-task-repo.ts';
import type { Database } from './tables.ts';

function createRepositories(db: Db, traits: DialectTraits): Repositories {
  return {
    settings: new KyselySettingsRepo(db),
    libraries: new KyselyLibraryRepo(db),
    buckets: new KyselyBucketRepo(db),
    accessKeys: new KyselyAccessKeyRepo(db),
    objects: new KyselyObjectRepo(db, traits),
    multipart: new KyselyMultipartRepo(db, traits),
    blobRefs: new KyselyBlobRefRepo(db),
    tokens: new KyselyTokenRepo(db),
    spaces: new KyselySpaceRepo(db),
    quotas: new KyselyQuotaRepo(db, traits),
    inodes: new KyselyInodeRepo(db),
    uploadTasks: new KyselyUploadTaskRepo(db),
    jobs: new KyselyJobRepo(db, traits),
  };
}

export interface KyselyMetadataStoreOptions {
  kind: MetadataStore['kind'];
  db: Kysely<Database>;
  traits: DialectTraits;
  /** What opening the store applied. */
  migrationsApplied: readonly string[];
  /**
   * Releases what the opener created (pool, database handle). Needed besides Kysely#destroy(), which
   * does nothing when no query has run yet: a store closed unused would leak its connections.
   */
  release: () => Promise<void>;
}

export class KyselyMetadataStore implements MetadataStore {
  readonly kind: MetadataStore['kind'];
  readonly migrationsApplied: readonly string[];
  declare readonly settings: Repositories['settings'];
  declare readonly libraries: Repositories['libraries'];
  declare readonly buckets: Repositories['buckets'];
  declare readonly accessKeys: Repositories['accessKeys'];
  declare readonly objects: Repositories['objects'];
  declare readonly multipart: Repositories['multipart'];
  declare readonly blobRefs: Repositories['blobRefs'];
  declare readonly tokens: Repositories['tokens'];
  declare readonly spaces: Repositories['spaces'];
  declare readonly quotas: Repositories['quotas'];
  declare readonly inodes: Repositories['inodes'];
  declare readonly uploadTasks: Repositories['uploadTasks'];
  declare readonly jobs: Repositories['jobs'];
  readonly #db: Kysely<Database>;
  readonly #traits: DialectTraits;
  readonly #release: () => Promise<void>;

  constructor({ kind, db, traits, migrationsApplied, release }: KyselyMetadataStoreOptions) {
    this.kind = kind;
    this.migrationsApplied = migrationsApplied;
    this.#db = db;
    this.#traits = traits;
    this.#release = release;
    // The store is its own non-transactional set of repositories.
    Object.assign(this, createRepositories(db, traits));
  }

  /** The kysely handle, for adapters that share this database (job queue, locks). */
  get db(): Kysely<Database> {
    return this.#db;
  }

  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => fn(createRepositories(trx, this.#traits)));
  }

  async close(): Promise<void> {
    try {
      await this.#db.destroy();
    } finally {
      await this.#release();
    }
  }
}
