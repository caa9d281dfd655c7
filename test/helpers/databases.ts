// The databases every metadata contract suite runs against, behind one interface: SQLite (a temp file),
// PGlite (in memory) and a real PostgreSQL server started by test/helpers/postgres.ts. A suite loops
// over databaseImplementations() and opens as many empty databases as it likes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PGlite } from '@electric-sql/pglite';
import type { KyselyMetadataStore } from '../../src/adapters/metadata/kysely-metadata-store.ts';
import { openPgliteStore, openPostgresStore } from '../../src/adapters/metadata/postgres/store.ts';
import { openSqliteStore } from '../../src/adapters/metadata/sqlite/store.ts';
import { type ApartResult, type ApartTask, apartTasks } from './apart-tasks.ts';
import { type PostgresServer, postgresSkipReason, startPostgres } from './postgres.ts';

const METADATA_DIR = join(import.meta.dirname, '..', '..', 'src', 'adapters', 'metadata');
/** A child session that neither connects nor finishes in this long is killed (a loaded machine is slow). */
const CHILD_TIMEOUT_MS = 120_000;

/** One empty database that stores can be opened on, as often as a test likes. */
export interface TestDatabase {
  open(): Promise<KyselyMetadataStore>;
  /** Connections or handles to this database still open (0 once every store on it is closed). */
  openHandles(): Promise<number>;
  /**
   * Runs `task` from `count` separate sessions (processes on SQLite, since node:sqlite is synchronous
   * and one process would only take turns; own pools on PostgreSQL), all started once every session
   * has opened its store; each session's result, by index. Undefined where the database has a single
   * session (PGlite).
   */
  apart?: <T extends ApartTask>(count: number, task: T) => Promise<ApartResult<T['name']>[]>;
}

export interface DatabaseImplementation {
  name: 'sqlite' | 'pglite' | 'postgres';
  /** Why this variant cannot run here; undefined when it must run. */
  skip?: string;
  migrationsDir: string;
  /** Whether separate sessions can use one database at once (its databases have `apart`). */
  separateSessions: boolean;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  database(): Promise<TestDatabase>;
  /**
   * A database whose text columns collate by an ICU locale unless the schema says otherwise, as a
   * server initialised under a language locale makes them; only where the database has collations.
   */
  localeDatabase?: (icuLocale: string) => Promise<TestDatabase>;
}

function sqliteImplementation(): DatabaseImplementation {
  let dir: string | undefined;
  let n = 0;
  return {
    name: 'sqlite',
    separateSessions: true,
    migrationsDir: join(METADATA_DIR, 'sqlite', 'migrations'),
    async setUp() {
      dir = mkdtempSync(join(tmpdir(), 'mediahost-sqlite-'));
    },
    async tearDown() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    async database() {
      const path = join(dir!, `metadata-${++n}.db`);
      return {
        open: () => openSqliteStore({ path }),
        // SQLite removes the write-ahead log when the last connection to the database closes.
        openHandles: async () => (existsSync(`${path}-wal`) ? 1 : 0),
        apart: (count, task) => runInChildren(path, count, task),
      };
    },
  };
}

function pgliteImplementation(): DatabaseImplementation {
  const instances: PGlite[] = [];
  return {
    name: 'pglite',
    separateSessions: false,
    migrationsDir: join(METADATA_DIR, 'postgres', 'migrations'),
    async setUp() {},
    async tearDown() {
      for (const db of instances) if (!db.closed) await db.close();
    },
    async database() {
      const db = new PGlite();
      instances.push(db);
      // No apart: one in-process instance is one session, which every opener would share.
      return { open: () => openPgliteStore(db), openHandles: async () => (db.closed ? 0 : 1) };
    },
  };
}

function postgresImplementation(): DatabaseImplementation {
  let server: PostgresServer | undefined;
  const skip = postgresSkipReason();
  return {
    name: 'postgres',
    separateSessions: true,
    ...(skip === undefined ? {} : { skip }),
    migrationsDir: join(METADATA_DIR, 'postgres', 'migrations'),
    async setUp() {
      // Under CI a missing server is not skipped: this throws the reason and the suite fails.
      server = await startPostgres();
    },
    async tearDown() {
      await server?.stop();
    },
    database: () => postgresDatabase(),
    localeDatabase: (icuLocale) => postgresDatabase({ icuLocale }),
  };

  async function postgresDatabase(options: { icuLocale?: string } = {}): Promise<TestDatabase> {
    const url = await server!.createDatabase(options);
    return {
      open: () => openPostgresStore({ url, poolSize: 8 }),
      openHandles: () => server!.connectionsTo(url),
      async apart(count, task) {
        const opened = await Promise.allSettled(
          Array.from({ length: count }, () => openPostgresStore({ url, poolSize: 2 })),
        );
        try {
          for (const s of opened) if (s.status === 'rejected') throw s.reason;
          const stores = opened.map((s) => (s as PromiseFulfilledResult<KyselyMetadataStore>).value);
          return await Promise.all(stores.map((store, i) => runTask(store, task, i)));
        } finally {
          for (const s of opened) if (s.status === 'fulfilled') await s.value.close();
        }
      },
    };
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the task's input type is checked by ApartTask at the call
type AnyTask = (store: KyselyMetadataStore, input: any, index: number) => Promise<unknown>;

function runTask<T extends ApartTask>(
  store: KyselyMetadataStore,
  task: T,
  index: number,
): Promise<ApartResult<T['name']>> {
  return (apartTasks[task.name] as AnyTask)(store, task.input, index) as Promise<ApartResult<T['name']>>;
}

/**
 * Runs a task in `count` child processes on the SQLite file at `path`: each opens its store and says
 * "ready"; once all are, each is told to go, and prints its result as JSON.
 */
async function runInChildren<T extends ApartTask>(
  path: string,
  count: number,
  task: T,
): Promise<ApartResult<T['name']>[]> {
  const script = `
    import { createInterface } from 'node:readline';
    import { openSqliteStore } from ${JSON.stringify(join(METADATA_DIR, 'sqlite', 'store.ts'))};
    import { apartTasks } from ${JSON.stringify(join(import.meta.dirname, 'apart-tasks.ts'))};
    const { path, name, input, index } = JSON.parse(process.env.MEDIAHOST_TEST_APART);
    const store = await openSqliteStore({ path });
    const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    process.stdout.write('ready\\n');
    await lines.next();
    const result = await apartTasks[name](store, input, index);
    await store.close();
    process.stdout.write(JSON.stringify(result) + '\\n');
    process.exit(0);
  `;
  const children = Array.from({ length: count }, (_, index) => {
    const env = { ...process.env, MEDIAHOST_TEST_APART: JSON.stringify({ path, ...task, index }) };
    const child = spawn(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const lines: string[] = [];
    let onLine = () => {};
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      onLine();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    const exited = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      // 'close', not 'exit': by then the child's output has been read to the end.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`session ${index} exited with ${code ?? signal}:\n${stderr}`));
      });
    });
    const ready = new Promise<void>((resolve) => {
      onLine = () => {
        if (lines[0] === 'ready') resolve();
      };
    });
    return { child, lines, exited, ready };
  });
  try {
    // A child that fails before it is ready rejects here instead of leaving the others waiting.
    await Promise.race([
      Promise.all(children.map((c) => c.ready)),
      Promise.all(children.map((c) => c.exited)),
    ]);
    for (const c of children) c.child.stdin.end('go\n');
    await Promise.all(children.map((c) => c.exited));
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  }
  return children.map((c) => JSON.parse(c.lines[1]!) as ApartResult<T['name']>);
}

export function databaseImplementations(): DatabaseImplementation[] {
  return [sqliteImplementation(), pgliteImplementation(), postgresImplementation()];
}
