// SQLite metadata store: a WAL database file in the data dir, opened with node:sqlite.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely } from 'kysely';
import { KyselyMetadataStore } from '../kysely-metadata-store.ts';
import { type MigrationTarget, migrate, readMigrations } from '../migrations.ts';
import type { Database } from '../tables.ts';
import { NodeSqliteDialect } from './node-sqlite-dialect.ts';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');

function migrationTarget(db: DatabaseSync): MigrationTarget {
  return {
    async run(fn) {
      // BEGIN IMMEDIATE takes the database write lock: a second process migrating at the same time
      // waits here (busy timeout), then sees the work already done.
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn({
          async exec(sql) {
            db.exec(sql);
          },
          async appliedVersions() {
            const rows = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
            return rows.map((r) => Number(r.version));
          },
          async apply(m, appliedAt) {
            db.exec(m.sql);
            db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
              m.version,
              m.name,
              appliedAt,
            );
          },
        });
        db.exec('COMMIT');
        return result;
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
  };
}

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  busyTimeoutMs?: number;
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<KyselyMetadataStore> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 10_000 });
  let migrationsApplied: string[];
  try {
    // WAL lets readers run while one writer commits; synchronous=NORMAL in WAL mode loses nothing
    // when the process dies (only an OS crash can drop the last transactions).
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    migrationsApplied = await migrate(migrationTarget(db), readMigrations(MIGRATIONS_DIR));
  } catch (err) {
    db.close();
    throw err;
  }
  const kysely = new Kysely<Database>({ dialect: new NodeSqliteDialect(db) });
  return new KyselyMetadataStore({
    kind: 'sqlite',
    db: kysely,
    traits: { rowLocks: false },
    migrationsApplied,
    async release() {
      if (db.isOpen) db.close();
    },
  });
}

export function sqlitePathFor(dataDir: string): string {
  return join(dataDir, 'mediahost.db');
}
