// Media-task queue benchmark (npm run bench:queue). In one run, on SQLite (and on PostgreSQL when the
// server binaries are present):
//  - queue overhead per task: jobs drained by a JobRunner whose handler does nothing (claim, heartbeat
//    timer, complete and the end transaction), beside a baseline of the bare INSERT + UPDATE a task needs;
//  - listing 1,000 queued editing tasks over HTTP (GET …/asset/editing/tasks, 100 per page, with total).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContainer } from '../src/app/container.ts';
import { startServer } from '../src/app/lifecycle.ts';
import { defaultConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';
import { newJobRecord } from '../src/core/jobs/job-record.ts';
import type { JobRecord } from '../src/core/jobs/model.ts';
import type { MetadataStore } from '../src/ports/metadata-store.ts';
import { JobRunner } from '../src/worker/job-runner.ts';
import { findPostgresBinaries, startPostgres } from '../test/helpers/postgres.ts';
import { machineLine } from './lib.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const JOBS = Number(args.get('jobs') ?? 2000);
const LISTED = Number(args.get('listed') ?? 1000);

function job(libraryId: string, kind: string, now: number): JobRecord {
  return newJobRecord({
    kind,
    libraryId: libraryId as JobRecord['libraryId'],
    spaceId: '-',
    payload: { note: 'benchmark' },
    priority: 0,
    maxAttempts: 3,
    assetId: null,
    now,
  });
}

async function queueOverhead(store: MetadataStore, libraryId: string, concurrency: number): Promise<number> {
  const now = Date.now();
  await store.transaction(async (tx) => {
    for (let i = 0; i < JOBS; i++) await tx.jobs.insert(job(libraryId, 'noop', now));
  });
  let done = 0;
  let finished: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const runner = new JobRunner({
    store,
    clock: { now: () => Date.now() },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    concurrency,
    leaseMs: 30_000,
    pollMs: 1,
    handlers: {
      noop: {
        async run() {
          return null;
        },
        async onEnd() {
          if (++done === JOBS) finished();
        },
      },
    },
  });
  const started = performance.now();
  runner.start();
  await all;
  const ms = performance.now() - started;
  await runner.stop();
  return ms / JOBS;
}

/** The floor: the two statements any queue needs per task (insert it, mark it done). */
async function bareStatements(store: MetadataStore, libraryId: string): Promise<number> {
  const now = Date.now();
  const started = performance.now();
  for (let i = 0; i < JOBS; i++) {
    const j = job(libraryId, 'bare', now);
    await store.jobs.insert(j);
    await store.transaction(async (tx) => {
      await tx.jobs.claim({ kinds: ['bare'], owner: 'bench', leaseUntil: now + 30_000, now });
      await tx.jobs.finish(j.id, 'bench', 'SUCCEED', { progress: 100 }, Date.now());
    });
  }
  return (performance.now() - started) / JOBS;
}

async function measureStore(name: string, overrides: Partial<Config>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mediahost-bench-queue-'));
  try {
    const container = await createContainer(
      defaultConfig({ dataDir, logLevel: 'silent', workerConcurrency: 0, ...overrides }),
    );
    const lib = await container.libraries.create({ name: `bench${Date.now() % 100000}`, multiTenant: false });
    const bare = await bareStatements(container.store, lib.library.id);
    const one = await queueOverhead(container.store, lib.library.id, 1);
    const four = await queueOverhead(container.store, lib.library.id, 4);
    await container.close();
    process.stdout.write(
      `${name}: bare insert+claim+finish ${bare.toFixed(2)} ms/task; JobRunner no-op: ${one.toFixed(2)} ms/task (1 slot), ${four.toFixed(2)} ms/task (4 slots) (target < 10 ms)\n`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureListing(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mediahost-bench-list-'));
  const server = await startServer(
    defaultConfig({ dataDir, port: 0, logLevel: 'warn', workerConcurrency: 0 }),
  );
  try {
    const lib = server.createdLibrary!;
    const token = (
      (await (
        await fetch(
          `${server.url}/api/v1/token?library_id=${lib.library.id}&library_secret=${lib.librarySecret}&grant=admin`,
        )
      ).json()) as { accessToken: string }
    ).accessToken;
    const now = Date.now();
    await server.container.store.transaction(async (tx) => {
      for (let i = 0; i < LISTED; i++) await tx.jobs.insert(job(lib.library.id, 'edit', now + i));
    });
    const page = (offset: number) =>
      fetch(`${server.url}/v1/${lib.library.id}/asset/editing/tasks?limit=100&offset=${offset}`, {
        headers: { 'x-auth-token': token },
      }).then((r) => r.json() as Promise<{ total: number; tasks: unknown[] }>);
    for (let i = 0; i < 20; i++) await page(0);
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      const first = await page(0);
      times.push(performance.now() - t0);
      if (first.total !== LISTED) throw new Error(`listed ${first.total} of ${LISTED}`);
    }
    const t0 = performance.now();
    let seen = 0;
    for (let offset = 0; offset < LISTED; offset += 100) seen += (await page(offset)).tasks.length;
    const walk = performance.now() - t0;
    times.sort((a, b) => a - b);
    process.stdout.write(
      `listing ${LISTED} queued tasks: first page of 100 with total p50 ${times[25]!.toFixed(1)} ms, p99 ${times[49]!.toFixed(1)} ms; all ${seen} in 10 pages ${walk.toFixed(1)} ms (target < 50 ms)\n`,
    );
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

process.stdout.write(machineLine());
await measureStore('SQLite', {});
if ('reason' in findPostgresBinaries()) {
  process.stdout.write('PostgreSQL: skipped, server binaries not found\n');
} else {
  const pg = await startPostgres();
  try {
    await measureStore('PostgreSQL', { databaseUrl: pg.url });
  } finally {
    await pg.stop();
  }
}
await measureListing();
