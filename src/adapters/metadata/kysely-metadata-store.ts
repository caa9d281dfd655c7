// MetadataStore over any kysely dialect: repositories bound to the root handle for single
// statements, and to a transaction handle inside transaction().
import type { Kysely } from 'kysely';
import type { MetadataStore, Repositories } from '../../ports/metadata-store.ts';
import { createRepositories, type DialectTraits } from './kysely-repositories.ts';
import type { Database } from './tables.ts';

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
