// Plain per-dialect SQL migrations (`NNN_name.sql` beside each adapter), applied at start under a
// lock so that several processes may start at once. A database that has a migration this code does
// not know was written by newer code: refuse to run on it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const version = Number(file.slice(0, file.indexOf('_')));
      return { version, name: file.replace(/\.sql$/, ''), sql: readFileSync(join(dir, file), 'utf8') };
    });
}

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/** What a dialect provides to apply migrations; `run` holds the dialect's migration lock. */
export interface MigrationTarget {
  run<T>(fn: (session: MigrationSession) => Promise<T>): Promise<T>;
}

export interface MigrationSession {
  exec(sql: string): Promise<void>;
  appliedVersions(): Promise<number[]>;
  /** Applies one migration and records it, atomically. */
  apply(migration: Migration, appliedAt: number): Promise<void>;
}

export const MIGRATIONS_TABLE_SQL =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';

/** Applies what is missing; returns the names of the migrations applied by this call, in order. */
export async function migrate(target: MigrationTarget, migrations: readonly Migration[]): Promise<string[]> {
  return target.run(async (session) => {
    await session.exec(MIGRATIONS_TABLE_SQL);
    const applied = new Set(await session.appliedVersions());
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new SchemaTooNewError(
        `the database has migrations this version of mediahost does not know (${unknown.join(', ')}); run a newer mediahost`,
      );
    }
    const done: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await session.apply(m, Date.now());
      done.push(m.name);
    }
    return done;
  });
}
