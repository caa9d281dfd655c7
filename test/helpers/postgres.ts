// A throwaway PostgreSQL server for tests: Debian's initdb and postgres binaries on a free port in a
// temp dir, run as the `postgres` user when the tests run as root. Also decides whether a suite that
// needs one skips (with the reason) or fails (under CI, where the server must be available).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

export interface PostgresServer {
  /** Connection URL of the `postgres` database, as superuser `postgres` (trust auth). */
  url: string;
  /** The postmaster's process id (its backends are its children). */
  pid: number;
  /**
   * Creates an empty database and returns its URL. With `icuLocale`, the database collates text by that
   * ICU locale instead of by bytes (as databases created under a language locale do).
   */
  createDatabase(options?: { icuLocale?: string }): Promise<string>;
  /**
   * Client connections to the database of `url`, once the server has seen every disconnect that
   * happened before the call (a backend exits a moment after its client goes).
   */
  connectionsTo(url: string): Promise<number>;
  /** Terminates every client backend connected to the database of `url` (pg_terminate_backend). */
  terminateConnections(url: string): Promise<number>;
  /**
   * Fast shutdown, then the same data dir started again on the same port, like an operator's restart.
   * `whileDown` runs between the two, while nothing listens.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Fast shutdown (SIGINT), wait for exit, remove the temp dir. */
  stop(): Promise<void>;
}

const INITDB_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;
const SETTLE_TIMEOUT_MS = 2_000;
const ADMIN_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;
const DEBIAN_VERSIONED_DIR = '/usr/lib/postgresql';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Directories to search, in order: PATH, then /usr/lib/postgresql/<N>/bin with the highest N first. */
function candidateDirs(): string[] {
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  let versions: number[] = [];
  try {
    versions = readdirSync(DEBIAN_VERSIONED_DIR)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .map(Number)
      .sort((a, b) => b - a);
  } catch {
    // no Debian server package installed
  }
  return [...fromPath, ...versions.map((v) => join(DEBIAN_VERSIONED_DIR, String(v), 'bin'))];
}

/** Both binaries from one directory, so that initdb and the server are the same version. */
export function findPostgresBinaries(): PostgresBinaries | { reason: string } {
  for (const dir of candidateDirs()) {
    const initdb = join(dir, 'initdb');
    const postgres = join(dir, 'postgres');
    if (isExecutable(initdb) && isExecutable(postgres)) return { initdb, postgres };
  }
  return {
    reason:
      `PostgreSQL server binaries (initdb, postgres) not found on PATH or in ${DEBIAN_VERSIONED_DIR}/<N>/bin; ` +
      'install the Debian package "postgresql" (.ci/run does)',
  };
}

interface RunAs {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: then run it as the `postgres` system user. */
function serverUser(): RunAs | undefined | { reason: string } {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    const uid = id('-u');
    const gid = id('-g');
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  } catch {
    // fall through to the reason below
  }
  return {
    reason:
      'tests run as root, PostgreSQL refuses to run as root, and there is no "postgres" system user to run it as',
  };
}

/** Why startPostgres() cannot work here, or undefined when it can. */
export function postgresUnavailableReason(): string | undefined {
  const binaries = findPostgresBinaries();
  if ('reason' in binaries) return binaries.reason;
  const user = serverUser();
  if (user && 'reason' in user) return user.reason;
  return undefined;
}

/**
 * The `skip` option for a suite that needs a server: the reason when none can start, except under CI
 * (CI is set), where the suite must run and fail instead of skipping.
 */
export function postgresSkipReason(): string | undefined {
  if (process.env.CI) return undefined;
  return postgresUnavailableReason();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not get a free port'));
      });
    });
  });
}

/** Keeps the last lines a child printed, for error messages. */
function captureOutput(child: ChildProcess): () => string {
  const lines: string[] = [];
  const keep = (data: Buffer) => {
    lines.push(
      ...data
        .toString()
        .split('\n')
        .filter((l) => l !== ''),
    );
    if (lines.length > 50) lines.splice(0, lines.length - 50);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => lines.join('\n');
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const ac = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: ac.signal }).then(() => {
        throw new Error(`${what} did not finish within ${ms} ms`);
      }),
    ]);
  } finally {
    ac.abort();
  }
}

async function runInitdb(initdb: string, dataDir: string, cwd: string, user: RunAs | undefined) {
  // --no-sync: a test cluster need not survive an OS crash (the server runs with fsync=off too).
  const args = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'];
  const child = spawn(initdb, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...user });
  const output = captureOutput(child);
  let code: number | null;
  try {
    code = await withTimeout(exitOf(child), INITDB_TIMEOUT_MS, 'initdb');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  if (code !== 0) throw new Error(`initdb exited with ${code}:\n${output()}`);
}

function childEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
}

async function acceptsConnections(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Polls until the server answers, or rejects when it exits or the timeout passes. */
async function waitReady(child: ChildProcess, url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited with ${child.exitCode ?? child.signalCode}:\n${output()}`);
    }
    if (await acceptsConnections(url)) return;
    await sleep(100);
  }
  throw new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, no checkpoint wait for them.
  child.kill('SIGINT');
  try {
    await withTimeout(exitOf(child), STOP_TIMEOUT_MS, 'postgres shutdown');
  } catch {
    // SIGQUIT (immediate shutdown) makes the postmaster take its backends down with it.
    child.kill('SIGQUIT');
    await withTimeout(exitOf(child), STOP_TIMEOUT_MS, 'postgres immediate shutdown');
  }
}

/**
 * Client connections (to one database, or to any), polled for a moment until those that are closing
 * have gone: a backend exits a little after its client disconnects.
 */
async function settledConnections(
  admin: <T>(fn: (client: pg.Client) => Promise<T>) => Promise<T>,
  database?: string,
): Promise<number> {
  const count = () =>
    admin(async (client) => {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND ($1::text IS NULL OR datname = $1)`,
        [database ?? null],
      );
      return rows[0]?.n ?? 0;
    });
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let n = await count();
  while (n > 0 && Date.now() < deadline) {
    await sleep(50);
    n = await count();
  }
  return n;
}

/** Starts a fresh server; the caller must stop() it. Throws with the reason when it cannot start. */
export async function startPostgres(): Promise<PostgresServer> {
  const binaries = findPostgresBinaries();
  if ('reason' in binaries) throw new Error(binaries.reason);
  const user = serverUser();
  if (user && 'reason' in user) throw new Error(user.reason);

  const root = mkdtempSync(join(tmpdir(), 'mediahost-pg-'));
  const dataDir = join(root, 'data');
  try {
    if (user) chownSync(root, user.uid, user.gid);
    await runInitdb(binaries.initdb, dataDir, root, user);
    const launch = (port: number) => {
      const child = spawn(
        binaries.postgres,
        [
          ['-D', dataDir],
          ['-p', String(port)],
          ['-k', root],
          ['-c', 'listen_addresses=127.0.0.1'],
          ['-c', 'fsync=off'],
          ['-c', 'full_page_writes=off'],
          ['-c', 'synchronous_commit=off'],
        ].flat(),
        { cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...user },
      );
      const output = captureOutput(child);
      // If the test process dies without stop(), do not leave a server behind.
      const killOnExit = () => child.kill('SIGQUIT');
      process.once('exit', killOnExit);
      return { child, output, forget: () => process.off('exit', killOnExit) };
    };
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      let { child, output, forget } = launch(port);
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      try {
        await waitReady(child, url, output);
      } catch (err) {
        await stopChild(child).catch(() => child.kill('SIGKILL'));
        forget();
        // Another process may have taken the port between freePort() and bind: try another one.
        if (attempt < START_ATTEMPTS && /could not bind|already in use/i.test(output())) continue;
        throw err;
      }
      let databases = 0;
      const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
        const client = new pg.Client({
          connectionString: url,
          connectionTimeoutMillis: ADMIN_TIMEOUT_MS,
          query_timeout: ADMIN_TIMEOUT_MS,
        });
        await client.connect();
        try {
          return await fn(client);
        } finally {
          await client.end();
        }
      };
      return {
        url,
        get pid() {
          return child.pid!;
        },
        async createDatabase(options = {}) {
          const name = `test_${process.pid}_${++databases}`;
          const locale = options.icuLocale
            ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${options.icuLocale.replace(/'/g, "''")}'`
            : '';
          await admin((client) => client.query(`CREATE DATABASE ${name}${locale}`));
          return `postgres://postgres@127.0.0.1:${port}/${name}`;
        },
        connectionsTo(databaseUrl) {
          return settledConnections(admin, decodeURIComponent(new URL(databaseUrl).pathname.slice(1)));
        },
        terminateConnections(databaseUrl) {
          const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
          return admin(async (client) => {
            const { rows } = await client.query<{ n: number }>(
              `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
               WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = $1`,
              [name],
            );
            return rows[0]?.n ?? 0;
          });
        },
        async restart(whileDown) {
          await stopChild(child);
          forget();
          await whileDown?.();
          ({ child, output, forget } = launch(port));
          try {
            await waitReady(child, url, output);
          } catch (err) {
            await stopChild(child).catch(() => child.kill('SIGKILL'));
            throw err;
          }
        },
        async stop() {
          try {
            // pg's Pool#end() resolves before its sockets close; a shutdown in that moment sends the
            // closing clients an error nobody listens to any more. Let them finish going first.
            if (child.exitCode === null) await settledConnections(admin).catch(() => {});
            await stopChild(child);
          } finally {
            forget();
            rmSync(root, { recursive: true, force: true });
          }
        },
      };
    }
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
