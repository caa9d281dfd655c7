// PostgreSQL metadata store (pg driver), and the same schema on PGlite for in-process tests.
// Migrations run under a session advisory lock, so several nodes may start at once.
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { KyselyMetadataStore } from '../kysely-metadata-store.ts';
import { type MigrationSession, type MigrationTarget, migrate, readMigrations } from '../migrations.ts';
import type { Database } from '../tables.ts';
import { PgliteDialect } from './pglite-dialect.ts';
import { unavailableAware } from './unavailable-dialect.ts';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
/** Arbitrary constant naming mediahost's migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 7_310_462_118;

interface SqlClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

function sessionFor(client: SqlClient): MigrationSession {
  return {
    async exec(sql) {
      await client.query(sql);
    },
    async appliedVersions() {
      const { rows } = await client.query('SELECT version FROM schema_migrations');
      return rows.map((r) => Number(r.version));
    },
    async apply(m, appliedAt) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          appliedAt,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    },
  };
}

function advisoryLockTarget(client: SqlClient): MigrationTarget {
  return {
    async run(fn) {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        return await fn(sessionFor(client));
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    },
  };
}

const int8AsNumber = (value: string): number => Number(value);

export interface PostgresStoreOptions {
  url: string;
  poolSize?: number;
  /** Told about connections that broke (a restart, a terminated backend); the pool replaces them. */
  onConnectionError?: (err: Error) => void;
}

/** How long a request waits for a connection before it fails with 503 (the database may be gone). */
const CONNECT_TIMEOUT_MS = 5000;

export async function openPostgresStore(options: PostgresStoreOptions): Promise<KyselyMetadataStore> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Detects a peer that vanished without closing (a failover) on idle connections.
    keepAlive: true,
    // BIGINT columns hold milliseconds and byte counts, all below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? int8AsNumber : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // Without these listeners a connection that breaks (idle in the pool, or checked out between two
  // statements) emits an unhandled 'error' and ends the process; the pool drops it and connects anew.
  // An idle one is reported by the pool; a checked-out one by the statement that finds it broken.
  pool.on('error', (err) => options.onConnectionError?.(err));
  pool.on('connect', (client) => client.on('error', () => {}));
  let migrationsApplied: string[];
  try {
    const client = await pool.connect();
    try {
      migrationsApplied = await migrate(advisoryLockTarget(client), readMigrations(MIGRATIONS_DIR));
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end();
    throw err;
  }
  const kysely = new Kysely<Database>({ dialect: unavailableAware(new PostgresDialect({ pool })) });
  return new KyselyMetadataStore({
    kind: 'postgres',
    db: kysely,
    traits: { rowLocks: true },
    migrationsApplied,
    async release() {
      if (!pool.ended) await pool.end();
    },
  });
}

export async function openPgliteStore(db: PGlite): Promise<KyselyMetadataStore> {
  const client: SqlClient = {
    async query(sql, params) {
      if (params === undefined) {
        const results = await db.exec(sql);
        return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] };
      }
      return db.query<Record<string, unknown>>(sql, params);
    },
  };
  const migrationsApplied = await migrate(advisoryLockTarget(client), readMigrations(MIGRATIONS_DIR));
  const kysely = new Kysely<Database>({ dialect: new PgliteDialect(db) });
  return new KyselyMetadataStore({
    kind: 'pglite',
    db: kysely,
    traits: { rowLocks: true },
    migrationsApplied,
    async release() {
      if (!db.closed) await db.close();
    },
  });
}
