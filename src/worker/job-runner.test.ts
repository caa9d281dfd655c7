// JobRunner on a real (in-memory SQLite) queue with stub handlers: the lease races a single runner can
// get into with itself — a lapsed lease claimed again by another of its slots, and stop() arriving while
// a claim is in flight.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WAIT_MS, waitFor, within } from '../../test/helpers/wait.ts';
import type { KyselyMetadataStore } from '../adapters/metadata/kysely-metadata-store.ts';
import { openSqliteStore } from '../adapters/metadata/sqlite/store.ts';
import { AppError } from '../core/errors.ts';
import type { LibraryId } from '../core/ids.ts';
import { newJobRecord } from '../core/jobs/job-record.ts';
import type { JobRecord } from '../core/jobs/model.ts';
import type { JobRepo } from '../ports/job-queue.ts';
import { silentLogger } from '../ports/logger.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import { type JobContext, JobRunner } from './job-runner.ts';

const LEASE_MS = 2000;

function waitingJob(kind: string, now: number): JobRecord {
  return newJobRecord({
    kind,
    libraryId: 'smhrunner' as LibraryId,
    spaceId: '-',
    payload: {},
    priority: 0,
    maxAttempts: 3,
    assetId: null,
    now,
  });
}

/** The store with some of its job-queue methods replaced (the rest still reach the database). */
function withJobs(store: KyselyMetadataStore, jobs: Partial<JobRepo>): MetadataStore {
  return {
    ...store,
    kind: store.kind,
    jobs: Object.assign(Object.create(store.jobs) as JobRepo, jobs),
    transaction: (fn) => store.transaction(fn),
    close: () => store.close(),
  };
}

/** A handler run that lasts until its signal aborts or the test lets it finish. */
interface Run {
  ctx: JobContext;
  finish(): void;
}

function blockingHandler(runs: Run[]): { run(ctx: JobContext): Promise<unknown> } {
  return {
    run: (ctx) =>
      new Promise((resolve, reject) => {
        runs.push({ ctx, finish: () => resolve({ run: runs.length }) });
        if (ctx.signal.aborted) reject(new Error('aborted'));
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
  };
}

describe('JobRunner', { timeout: 180_000 }, () => {
  let store: KyselyMetadataStore;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };

  before(async () => {
    store = await openSqliteStore({ path: ':memory:' });
  });

  after(async () => {
    await store.close();
  });

  it('a run whose lease lapsed is stopped once another slot of the same runner claims the job', async () => {
    const job = waitingJob('lapse', clock.now());
    await store.jobs.insert(job);
    const runs: Run[] = [];
    let beats = 0;
    const runner = new JobRunner({
      store: withJobs(store, {
        heartbeat: (...args) => {
          beats++;
          return store.jobs.heartbeat(...args);
        },
      }),
      clock,
      logger: silentLogger,
      handlers: { lapse: blockingHandler(runs) },
      concurrency: 2,
      leaseMs: LEASE_MS,
      pollMs: 10,
    });
    runner.start();
    try {
      await waitFor(() => runs.length === 1, WAIT_MS, 'the first run');
      // Just after a heartbeat, the lease lapses (a stalled event loop, a database outage): the idle slot
      // reclaims and claims the job long before the next heartbeat.
      const seen = beats;
      await waitFor(() => beats > seen, WAIT_MS, 'a heartbeat');
      offset += 10 * LEASE_MS;
      await waitFor(() => runs.length === 2, WAIT_MS, 'the second run');
      await waitFor(() => runs[0]!.ctx.signal.aborted, WAIT_MS, 'the first run stopping');
      assert.equal(runs[1]!.ctx.signal.aborted, false, 'the run holding the lease goes on');
      runs[1]!.finish();
      await waitFor(
        async () => (await store.jobs.get(job.id))?.state === 'SUCCEED',
        WAIT_MS,
        'the job ending',
      );
      const ended = await store.jobs.get(job.id);
      assert.equal(ended?.attempts, 2);
      assert.deepEqual(ended?.result, { run: 2 });
    } finally {
      await runner.stop();
    }
  });

  it('stop() during a claim hands the claimed job back, refunded, without running it to the end', async () => {
    const job = waitingJob('stop', clock.now());
    await store.jobs.insert(job);
    const runs: Run[] = [];
    let enterClaim!: () => void;
    const claimEntered = new Promise<void>((resolve) => {
      enterClaim = resolve;
    });
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const runner = new JobRunner({
      store: withJobs(store, {
        claim: async (input) => {
          enterClaim();
          await gate;
          return store.jobs.claim(input);
        },
      }),
      clock,
      logger: silentLogger,
      handlers: { stop: blockingHandler(runs) },
      concurrency: 1,
      leaseMs: LEASE_MS,
      pollMs: 10,
    });
    runner.start();
    await claimEntered;
    const stopped = runner.stop();
    openGate();
    // The run blocks until finish(): a stop() waiting for it to end would never resolve.
    const inTime = await within(stopped, 30_000, 'stop()').then(
      () => true,
      () => false,
    );
    runs[0]?.finish();
    await stopped;
    assert.equal(inTime, true, 'stop() waited for a job claimed meanwhile to run to its end');
    assert.equal(runs[0]?.ctx.signal.aborted ?? true, true, 'the job claimed meanwhile is stopped at once');
    const handed = await store.jobs.get(job.id);
    assert.equal(handed?.state, 'WAITING');
    assert.equal(handed?.attempts, 0, 'the attempt is refunded');
    assert.equal(handed?.leaseOwner, null);
  });

  it('a run that ends while the database is unavailable is recorded once it is back, not run again', async () => {
    const job = waitingJob('outage', clock.now());
    await store.jobs.insert(job);
    const runs: Run[] = [];
    let down = false;
    let refused = 0;
    const unavailable = (): never => {
      refused++;
      throw new AppError('ServiceUnavailable', 'The metadata database is unavailable; retry later.');
    };
    const base = withJobs(store, {
      heartbeat: (...args) => (down ? unavailable() : store.jobs.heartbeat(...args)),
      claim: (input) => (down ? unavailable() : store.jobs.claim(input)),
    });
    const runner = new JobRunner({
      store: { ...base, transaction: (fn) => (down ? unavailable() : store.transaction(fn)) },
      clock,
      logger: silentLogger,
      handlers: { outage: blockingHandler(runs) },
      concurrency: 1,
      leaseMs: LEASE_MS,
      pollMs: 10,
    });
    runner.start();
    try {
      await waitFor(() => runs.length === 1, WAIT_MS, 'the run');
      down = true;
      runs[0]!.finish();
      await waitFor(() => refused >= 3, WAIT_MS, 'tries to record the end');
      assert.equal((await store.jobs.get(job.id))?.state, 'PROCESSING');
      down = false;
      await waitFor(
        async () => (await store.jobs.get(job.id))?.state === 'SUCCEED',
        WAIT_MS,
        'the job ending',
      );
      const ended = await store.jobs.get(job.id);
      assert.equal(runs.length, 1, 'the job ran once');
      assert.equal(ended?.attempts, 1);
      assert.deepEqual(ended?.result, { run: 1 });
    } finally {
      await runner.stop();
    }
  });
});
