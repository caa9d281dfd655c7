// Contract suite of the job queue (JobRepo in src/ports/job-queue.ts), run against SQLite, PGlite and a
// real PostgreSQL server: claim order and filters, one winner for every race (claims, cancel against claim,
// reclaim against heartbeat and finish), owner-conditional transitions, lease expiry, requested cancels,
// listing and lookup by asset.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KyselyMetadataStore } from '../../src/adapters/metadata/kysely-metadata-store.ts';
import type { LibraryId } from '../../src/core/ids.ts';
import type { JobRecord } from '../../src/core/jobs/model.ts';
import { databaseImplementations, type TestDatabase } from '../helpers/databases.ts';

const implementations = databaseImplementations();

// Fixtures. Every test makes its own kinds and libraries, so tests share one store without seeing each
// other's jobs; only reclaimExpired looks at every job, and its results are filtered by id.

const NOW = 1_760_000_000_000;
let counter = 0;
const unique = (prefix: string): string => `${prefix}${++counter}${Math.random().toString(36).slice(2, 8)}`;

function jobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: unique('job'),
    kind: unique('kind-'),
    libraryId: 'smhjobs' as LibraryId,
    spaceId: '-',
    state: 'WAITING',
    priority: 0,
    payload: { inputs: [{ assetId: 'a1', start: 0, end: 1.5 }], name: 'clip ✂.mp4' },
    progress: 0,
    attempts: 0,
    maxAttempts: 3,
    leaseOwner: null,
    leaseUntil: null,
    runAfter: NOW,
    cancelRequested: false,
    assetId: null,
    result: null,
    errorCode: null,
    errorMsg: null,
    createdAt: NOW,
    startedAt: null,
    endedAt: null,
    updatedAt: NOW,
    ...overrides,
  };
}

for (const impl of implementations) {
  describe(`JobRepo contract: ${impl.name}`, { skip: impl.skip, timeout: 180_000 }, () => {
    let database: TestDatabase;
    let store: KyselyMetadataStore;

    before(async () => {
      await impl.setUp();
      database = await impl.database();
      store = await database.open();
    });

    after(async () => {
      await store?.close();
      await impl.tearDown();
    });

    async function insert(overrides: Partial<JobRecord> = {}): Promise<JobRecord> {
      const job = jobRecord(overrides);
      await store.jobs.insert(job);
      return job;
    }

    /** Inserts a job and claims it for `owner`, with a lease until `leaseUntil`. */
    async function claimed(
      owner: string,
      leaseUntil: number,
      overrides: Partial<JobRecord> = {},
    ): Promise<JobRecord> {
      const job = await insert(overrides);
      const got = await store.jobs.claim({ kinds: [job.kind], owner, leaseUntil, now: NOW });
      assert.equal(got?.id, job.id);
      return got;
    }

    it('insert and get round-trip every field', async () => {
      const waiting = jobRecord({ priority: -7, assetId: 'asset1', spaceId: null });
      const ended = jobRecord({
        state: 'FAILED',
        progress: 42,
        attempts: 2,
        maxAttempts: 5,
        leaseOwner: 'w1',
        leaseUntil: NOW + 5_000_000_000,
        runAfter: NOW + 17,
        cancelRequested: true,
        result: { files: [{ assetId: 'x', size: 2 ** 40 }] },
        errorCode: 'TASK_FAILED',
        errorMsg: 'ffmpeg exited with code 1: « nope »',
        createdAt: NOW + 1,
        startedAt: NOW + 2,
        endedAt: NOW + 3,
        updatedAt: NOW + 4,
      });
      await store.jobs.insert(waiting);
      await store.jobs.insert(ended);
      assert.deepEqual(await store.jobs.get(waiting.id), waiting);
      assert.deepEqual(await store.jobs.get(ended.id), ended);
      assert.equal(await store.jobs.get('no-such-job'), undefined);
    });

    describe('claim', () => {
      it('takes the highest priority first, then the oldest, and records the claim', async () => {
        const kind = unique('kind-');
        const low = await insert({ kind, priority: -3, createdAt: NOW - 50 });
        const newerUrgent = await insert({ kind, priority: 5, createdAt: NOW + 20 });
        const normal = await insert({ kind, priority: 0, createdAt: NOW });
        const olderUrgent = await insert({ kind, priority: 5, createdAt: NOW + 10 });
        const order: string[] = [];
        for (let i = 0; i < 4; i++) {
          const job = await store.jobs.claim({
            kinds: [kind],
            owner: 'w1',
            leaseUntil: NOW + 1000,
            now: NOW,
          });
          assert.ok(job);
          order.push(job.id);
        }
        assert.deepEqual(order, [olderUrgent.id, newerUrgent.id, normal.id, low.id]);
        assert.equal(
          await store.jobs.claim({ kinds: [kind], owner: 'w1', leaseUntil: NOW + 1000, now: NOW }),
          undefined,
        );
        const stored = await store.jobs.get(low.id);
        assert.deepEqual(stored, {
          ...low,
          state: 'PROCESSING',
          leaseOwner: 'w1',
          leaseUntil: NOW + 1000,
          attempts: 1,
          startedAt: NOW,
          updatedAt: NOW,
        });
      });

      it('honours run_after: not claimable before it, claimable at it', async () => {
        const job = await insert({ runAfter: NOW + 1000 });
        const claim = (now: number) =>
          store.jobs.claim({ kinds: [job.kind], owner: 'w1', leaseUntil: now + 1000, now });
        assert.equal(await claim(NOW), undefined);
        assert.equal(await claim(NOW + 999), undefined);
        assert.equal((await claim(NOW + 1000))?.id, job.id);
      });

      it('takes only jobs of the given kinds, and nothing for no kinds', async () => {
        const job = await insert();
        const claim = (kinds: string[]) =>
          store.jobs.claim({ kinds, owner: 'w1', leaseUntil: NOW + 1000, now: NOW });
        assert.equal(await claim([unique('other-')]), undefined);
        assert.equal(await claim([]), undefined);
        assert.equal((await store.jobs.get(job.id))?.state, 'WAITING');
        assert.equal((await claim([unique('other-'), job.kind]))?.id, job.id);
      });

      it('never takes a job that is not WAITING', async () => {
        const kind = unique('kind-');
        for (const state of ['PROCESSING', 'SUCCEED', 'FAILED', 'CANCEL'] as const)
          await insert({ kind, state, leaseUntil: NOW - 1 });
        assert.equal(
          await store.jobs.claim({ kinds: [kind], owner: 'w1', leaseUntil: NOW + 1000, now: NOW }),
          undefined,
        );
      });

      it('10 concurrent claimers for 5 jobs: each job goes to exactly one of them', async () => {
        for (let round = 0; round < 5; round++) {
          const kind = unique('kind-');
          const jobs = await Promise.all(Array.from({ length: 5 }, () => insert({ kind })));
          const got = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              store.jobs.claim({ kinds: [kind], owner: `w${i}`, leaseUntil: NOW + 1000, now: NOW }),
            ),
          );
          const winners = got.flatMap((job, i) => (job ? [{ id: job.id, owner: `w${i}` }] : []));
          assert.deepEqual(
            winners.map((w) => w.id).sort(),
            jobs.map((j) => j.id).sort(),
            'every job claimed once, none twice',
          );
          for (const { id, owner } of winners) {
            const stored = await store.jobs.get(id);
            assert.equal(stored?.leaseOwner, owner, 'the stored owner is the claimer that got it');
            assert.equal(stored?.attempts, 1);
          }
        }
      });

      it('claimers on separate connections drain a queue without taking any job twice', async (t) => {
        if (!database.apart) {
          t.diagnostic(`${impl.name} has a single session: nothing to claim apart`);
          return;
        }
        const kinds = [unique('kind-'), unique('kind-')];
        const jobs = await Promise.all(
          Array.from({ length: 60 }, (_, i) => insert({ kind: kinds[i % 2]!, priority: i % 3 })),
        );
        const perClaimer = await database.apart(4, { name: 'drainJobs', input: { kinds, now: NOW } });
        const all = perClaimer.flat();
        assert.equal(all.length, jobs.length, 'as many claims as jobs');
        assert.deepEqual([...all].sort(), jobs.map((j) => j.id).sort(), 'every job claimed exactly once');
        for (const [i, ids] of perClaimer.entries()) {
          for (const id of ids) assert.equal((await store.jobs.get(id))?.leaseOwner, `p${i}`);
        }
      });
    });

    describe('cancelWaiting', () => {
      it('cancels a WAITING job and nothing else', async () => {
        const job = await insert();
        assert.equal(await store.jobs.cancelWaiting(job.id, NOW + 5), true);
        const stored = await store.jobs.get(job.id);
        assert.equal(stored?.state, 'CANCEL');
        assert.equal(stored?.endedAt, NOW + 5);
        assert.equal(await store.jobs.cancelWaiting(job.id, NOW + 6), false, 'a second cancel loses');
        const running = await claimed('w1', NOW + 1000);
        assert.equal(await store.jobs.cancelWaiting(running.id, NOW), false);
        assert.equal((await store.jobs.get(running.id))?.state, 'PROCESSING');
        assert.equal(await store.jobs.cancelWaiting('no-such-job', NOW), false);
      });

      it('racing a claim, many rounds at once: exactly one of them wins every time', async () => {
        const rounds = await Promise.all(
          Array.from({ length: 40 }, async (_, i) => {
            const job = await insert();
            const claim = () =>
              store.jobs.claim({ kinds: [job.kind], owner: `w${i}`, leaseUntil: NOW + 1000, now: NOW });
            const cancel = () => store.jobs.cancelWaiting(job.id, NOW);
            // Either side goes first, half the time each.
            const [got, cancelled] =
              i % 2 === 0
                ? await Promise.all([claim(), cancel()])
                : await Promise.all([cancel(), claim()]).then(([c, g]) => [g, c] as const);
            return { job, got, cancelled, stored: await store.jobs.get(job.id) };
          }),
        );
        for (const { job, got, cancelled, stored } of rounds) {
          assert.notEqual(
            got !== undefined,
            cancelled,
            `job ${job.id}: exactly one of claim and cancel wins`,
          );
          assert.equal(stored?.state, cancelled ? 'CANCEL' : 'PROCESSING');
          if (got) assert.equal(got.id, job.id);
        }
      });
    });

    describe('heartbeat', () => {
      it('renews the lease and records progress only for the owner', async () => {
        const job = await claimed('w1', NOW + 1000);
        assert.deepEqual(await store.jobs.heartbeat(job.id, 'w1', NOW + 2000, 40), {
          owned: true,
          cancelRequested: false,
        });
        let stored = await store.jobs.get(job.id);
        assert.equal(stored?.leaseUntil, NOW + 2000);
        assert.equal(stored?.progress, 40);
        assert.deepEqual(await store.jobs.heartbeat(job.id, 'w2', NOW + 9000, 90), {
          owned: false,
          cancelRequested: false,
        });
        stored = await store.jobs.get(job.id);
        assert.equal(stored?.leaseUntil, NOW + 2000, 'another worker cannot extend the lease');
        assert.equal(stored?.progress, 40);
        assert.equal(stored?.leaseOwner, 'w1');
        await store.jobs.heartbeat(job.id, 'w1', NOW + 3000, undefined);
        stored = await store.jobs.get(job.id);
        assert.equal(stored?.leaseUntil, NOW + 3000);
        assert.equal(stored?.progress, 40, 'no progress given: the recorded one stays');
      });

      it('reports a requested cancel to the owner', async () => {
        const job = await claimed('w1', NOW + 1000);
        assert.equal(await store.jobs.requestCancel(job.id, NOW), true);
        assert.deepEqual(await store.jobs.heartbeat(job.id, 'w1', NOW + 2000, undefined), {
          owned: true,
          cancelRequested: true,
        });
        const waiting = await insert();
        assert.equal(await store.jobs.requestCancel(waiting.id, NOW), false, 'only a running job');
        assert.equal((await store.jobs.get(waiting.id))?.cancelRequested, false);
      });

      it('finds a job that ended or went back to the queue no longer owned', async () => {
        const finished = await claimed('w1', NOW + 1000);
        assert.equal(await store.jobs.finish(finished.id, 'w1', 'SUCCEED', {}, NOW), true);
        assert.equal((await store.jobs.heartbeat(finished.id, 'w1', NOW + 2000, 5)).owned, false);
        const released = await claimed('w1', NOW + 1000);
        await store.jobs.release(released.id, 'w1', { runAfter: NOW, refundAttempt: false }, NOW);
        assert.equal((await store.jobs.heartbeat(released.id, 'w1', NOW + 2000, 5)).owned, false);
        const stored = await store.jobs.get(released.id);
        assert.equal(stored?.leaseUntil, null);
        assert.equal(stored?.progress, 0);
      });
    });

    describe('finish and release', () => {
      it('finish ends a job of its owner with its result; a second finish and other owners lose', async () => {
        const job = await claimed('w1', NOW + 1000);
        const end = { result: { files: [{ assetId: 'out', size: 3 }] }, progress: 100 };
        assert.equal(await store.jobs.finish(job.id, 'w2', 'SUCCEED', end, NOW + 10), false);
        assert.equal((await store.jobs.get(job.id))?.state, 'PROCESSING');
        assert.equal(await store.jobs.finish(job.id, 'w1', 'SUCCEED', end, NOW + 10), true);
        assert.deepEqual(await store.jobs.get(job.id), {
          ...job,
          state: 'SUCCEED',
          leaseOwner: null,
          leaseUntil: null,
          progress: 100,
          result: end.result,
          endedAt: NOW + 10,
          updatedAt: NOW + 10,
        });
        assert.equal(
          await store.jobs.finish(job.id, 'w1', 'FAILED', { errorCode: 'X', errorMsg: 'late' }, NOW + 11),
          false,
          'an ended job stays as it ended',
        );
        assert.equal((await store.jobs.get(job.id))?.state, 'SUCCEED');
        const waiting = await insert();
        assert.equal(await store.jobs.finish(waiting.id, 'w1', 'SUCCEED', {}, NOW), false);
        assert.equal((await store.jobs.get(waiting.id))?.state, 'WAITING');
      });

      it('finish records an error code and message', async () => {
        const job = await claimed('w1', NOW + 1000);
        const end = { errorCode: 'VOD.10053', errorMsg: 'ffmpeg could not read the input' };
        assert.equal(await store.jobs.finish(job.id, 'w1', 'FAILED', end, NOW + 3), true);
        const stored = await store.jobs.get(job.id);
        assert.equal(stored?.state, 'FAILED');
        assert.equal(stored?.errorCode, end.errorCode);
        assert.equal(stored?.errorMsg, end.errorMsg);
        assert.equal(stored?.result, null);
      });

      it('release hands a job of its owner back to the queue, spending the attempt', async () => {
        const job = await claimed('w1', NOW + 1000);
        await store.jobs.heartbeat(job.id, 'w1', NOW + 1000, 30);
        const retry = { runAfter: NOW + 4000, refundAttempt: false, errorMsg: 'transient' };
        assert.equal(await store.jobs.release(job.id, 'w2', retry, NOW + 1), false);
        assert.equal((await store.jobs.get(job.id))?.state, 'PROCESSING');
        assert.equal(await store.jobs.release(job.id, 'w1', retry, NOW + 1), true);
        const stored = await store.jobs.get(job.id);
        assert.deepEqual(stored, {
          ...job,
          state: 'WAITING',
          leaseOwner: null,
          leaseUntil: null,
          progress: 0,
          runAfter: NOW + 4000,
          attempts: 1,
          errorMsg: 'transient',
          updatedAt: NOW + 1,
        });
        assert.equal(
          await store.jobs.release(job.id, 'w1', retry, NOW + 2),
          false,
          'not PROCESSING any more',
        );
        const claim = (now: number) =>
          store.jobs.claim({ kinds: [job.kind], owner: 'w3', leaseUntil: now + 1000, now });
        assert.equal(await claim(NOW + 3999), undefined, 'the backoff holds');
        const again = await claim(NOW + 4000);
        assert.equal(again?.attempts, 2);
        assert.equal(again?.startedAt, NOW, 'started_at keeps the first start');
      });

      it('release with refundAttempt restores the attempts the claim spent', async () => {
        const job = await claimed('w1', NOW + 1000, { attempts: 1 });
        assert.equal(job.attempts, 2);
        const handBack = { runAfter: NOW, refundAttempt: true };
        assert.equal(await store.jobs.release(job.id, 'w1', handBack, NOW + 1), true);
        const stored = await store.jobs.get(job.id);
        assert.equal(stored?.state, 'WAITING');
        assert.equal(stored?.attempts, 1);
        assert.equal(stored?.errorMsg, null);
      });
    });

    describe('reclaimExpired', () => {
      it('returns an expired job to WAITING, then FAILS it with WORKER_LOST once out of attempts', async () => {
        const job = await claimed('w1', NOW + 1000, { maxAttempts: 2 });
        const mine = async (now: number) =>
          (await store.jobs.reclaimExpired(now)).filter((j) => j.id === job.id);
        assert.deepEqual(await mine(NOW + 1000), [], 'a lease is good until its last millisecond');
        assert.equal((await store.jobs.get(job.id))?.state, 'PROCESSING');

        const [requeued] = await mine(NOW + 1001);
        assert.equal(requeued?.state, 'WAITING');
        const stored = await store.jobs.get(job.id);
        assert.deepEqual(requeued, stored, 'reclaimExpired returns the jobs as they are now');
        assert.equal(stored?.leaseOwner, null);
        assert.equal(stored?.leaseUntil, null);
        assert.equal(stored?.attempts, 1, 'the lost run spent its attempt');
        assert.equal(stored?.endedAt, null);

        const second = await store.jobs.claim({
          kinds: [job.kind],
          owner: 'w2',
          leaseUntil: NOW + 3000,
          now: NOW + 2000,
        });
        assert.equal(second?.attempts, 2);
        assert.equal((await store.jobs.heartbeat(job.id, 'w1', NOW + 9000, 50)).owned, false, 'w1 lost it');
        const [failed] = await mine(NOW + 3001);
        const final = await store.jobs.get(job.id);
        assert.deepEqual(failed, final);
        assert.equal(final?.state, 'FAILED');
        assert.equal(final?.errorCode, 'WORKER_LOST');
        assert.match(final?.errorMsg ?? '', /stopped responding/);
        assert.equal(final?.endedAt, NOW + 3001);
        assert.equal(final?.leaseOwner, null);
        assert.deepEqual(await mine(NOW + 99_000), [], 'an ended job is never reclaimed');
        assert.equal(await store.jobs.finish(job.id, 'w2', 'SUCCEED', {}, NOW + 3002), false);
      });

      it('a FAILED job reports its own error, not the message of an earlier retry', async () => {
        const job = await claimed('w1', NOW + 1000, { maxAttempts: 2 });
        const retry = { runAfter: NOW, refundAttempt: false, errorMsg: 'ffmpeg crashed' };
        await store.jobs.release(job.id, 'w1', retry, NOW);
        await store.jobs.claim({ kinds: [job.kind], owner: 'w2', leaseUntil: NOW + 1000, now: NOW });
        const [failed] = (await store.jobs.reclaimExpired(NOW + 1001)).filter((j) => j.id === job.id);
        assert.equal(failed?.state, 'FAILED');
        assert.equal(failed?.errorCode, 'WORKER_LOST');
        assert.match(failed?.errorMsg ?? '', /stopped responding/);
      });

      it('never touches a job whose lease was renewed', async () => {
        const job = await claimed('w1', NOW + 1000);
        await store.jobs.heartbeat(job.id, 'w1', NOW + 5000, undefined);
        const reclaimed = await store.jobs.reclaimExpired(NOW + 2000);
        assert.equal(
          reclaimed.find((j) => j.id === job.id),
          undefined,
        );
        const stored = await store.jobs.get(job.id);
        assert.equal(stored?.state, 'PROCESSING');
        assert.equal(stored?.leaseOwner, 'w1');
        assert.equal(stored?.attempts, 1);
      });

      it('racing the heartbeat of an expired lease: either the owner keeps it or it is requeued', async () => {
        // The rounds run at once and a reclaim takes every expired job, so a round's job may be
        // requeued by another round's reclaim: count what all reclaims returned.
        const requeued = new Set<string>();
        const rounds = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const job = await claimed(`w${i}`, NOW + 1000);
            const beat = () => store.jobs.heartbeat(job.id, `w${i}`, NOW + 5000, undefined);
            const reclaim = async () => {
              for (const j of await store.jobs.reclaimExpired(NOW + 2000)) requeued.add(j.id);
            };
            const [hb] =
              i % 2 === 0
                ? await Promise.all([beat(), reclaim()])
                : await Promise.all([reclaim(), beat()]).then(([, h]) => [h] as const);
            return { job, owned: hb.owned };
          }),
        );
        for (const { job, owned } of rounds) {
          assert.notEqual(
            owned,
            requeued.has(job.id),
            `job ${job.id}: exactly one of heartbeat and reclaim wins`,
          );
          assert.equal((await store.jobs.get(job.id))?.state, owned ? 'PROCESSING' : 'WAITING');
        }
      });

      it('racing the finish of an expired lease: either the run ends as it finished or it is requeued', async () => {
        const requeued = new Set<string>();
        const rounds = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const job = await claimed(`w${i}`, NOW + 1000);
            const finish = () => store.jobs.finish(job.id, `w${i}`, 'SUCCEED', { result: { i } }, NOW + 2000);
            const reclaim = async () => {
              for (const j of await store.jobs.reclaimExpired(NOW + 2000)) requeued.add(j.id);
            };
            const [finished] =
              i % 2 === 0
                ? await Promise.all([finish(), reclaim()])
                : await Promise.all([reclaim(), finish()]).then(([, f]) => [f] as const);
            return { job, finished };
          }),
        );
        for (const { job, finished } of rounds) {
          assert.notEqual(
            finished,
            requeued.has(job.id),
            `job ${job.id}: exactly one of finish and reclaim wins`,
          );
          const stored = await store.jobs.get(job.id);
          assert.equal(stored?.state, finished ? 'SUCCEED' : 'WAITING');
          assert.equal(stored?.result === null, !finished, 'a requeued job keeps no result');
        }
      });
    });

    describe('requestCancel', () => {
      it('flags only a running job, and the flag outlives a requeue to stop the next run too', async () => {
        const job = await claimed('w1', NOW + 1000);
        assert.equal(await store.jobs.requestCancel(job.id, NOW + 1), true);
        assert.equal((await store.jobs.get(job.id))?.updatedAt, NOW + 1);
        // The worker lost its lease before it saw the flag: the job goes back to the queue.
        // Other tests' expired jobs are reclaimed too, a batch at a time.
        let requeued: JobRecord | undefined;
        for (let more = true; !requeued && more; ) {
          const batch = await store.jobs.reclaimExpired(NOW + 1001);
          requeued = batch.find((j) => j.id === job.id);
          more = batch.length > 0;
        }
        assert.equal(requeued?.state, 'WAITING');
        assert.equal(requeued?.cancelRequested, true);
        const again = await store.jobs.claim({
          kinds: [job.kind],
          owner: 'w2',
          leaseUntil: NOW + 9000,
          now: NOW + 2000,
        });
        assert.equal(again?.id, job.id);
        assert.deepEqual(await store.jobs.heartbeat(job.id, 'w2', NOW + 9000, undefined), {
          owned: true,
          cancelRequested: true,
        });
        assert.equal(await store.jobs.finish(job.id, 'w2', 'CANCEL', {}, NOW + 2001), true);
        assert.equal((await store.jobs.get(job.id))?.state, 'CANCEL');
        assert.equal(await store.jobs.requestCancel(job.id, NOW + 3000), false, 'an ended job');
        assert.equal(await store.jobs.requestCancel('no-such-job', NOW), false);
      });
    });

    describe('list', () => {
      async function seed(): Promise<{ library: LibraryId; jobs: JobRecord[] }> {
        const library = unique('smh') as LibraryId;
        const jobs: JobRecord[] = [];
        // Created in a shuffled order; two share a creation time (then the greater id is newer).
        for (const [i, offset] of [3, 0, 4, 1, 1, 2].entries()) {
          jobs.push(
            await insert({
              id: `${unique('job')}-${i}`,
              libraryId: library,
              kind: i === 5 ? 'transcode' : 'edit',
              spaceId: i % 2 === 0 ? 'space-a' : 'space-b',
              createdAt: NOW + offset,
            }),
          );
        }
        // The same kind in another library never shows.
        await insert({ libraryId: unique('smh') as LibraryId, kind: 'edit' });
        return { library, jobs };
      }

      const newestFirst = (a: JobRecord, b: JobRecord): number =>
        b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

      it('pages newest first with the total of all matching jobs', async () => {
        const { library, jobs } = await seed();
        const edits = jobs.filter((j) => j.kind === 'edit').sort(newestFirst);
        const pages: JobRecord[] = [];
        for (let offset = 0; offset < 6; offset += 2) {
          const page = await store.jobs.list({ libraryId: library, kinds: ['edit'], offset, limit: 2 });
          assert.equal(page.total, 5);
          pages.push(...page.jobs);
        }
        assert.deepEqual(
          pages.map((j) => j.id),
          edits.map((j) => j.id),
        );
        assert.deepEqual(pages[0], edits[0], 'full records');
        const both = await store.jobs.list({
          libraryId: library,
          kinds: ['edit', 'transcode'],
          offset: 0,
          limit: 100,
        });
        assert.equal(both.total, 6);
        assert.deepEqual(
          both.jobs.map((j) => j.id),
          [...jobs].sort(newestFirst).map((j) => j.id),
        );
        const past = await store.jobs.list({ libraryId: library, kinds: ['edit'], offset: 10, limit: 2 });
        assert.deepEqual(past, { total: 5, jobs: [] });
      });

      it('filters by spaces and by id', async () => {
        const { library, jobs } = await seed();
        const inA = await store.jobs.list({
          libraryId: library,
          kinds: ['edit', 'transcode'],
          spaceIds: ['space-a'],
          offset: 0,
          limit: 100,
        });
        assert.equal(inA.total, 3);
        assert.deepEqual(
          inA.jobs.map((j) => j.id).sort(),
          jobs
            .filter((j) => j.spaceId === 'space-a')
            .map((j) => j.id)
            .sort(),
        );
        const none = await store.jobs.list({
          libraryId: library,
          kinds: ['edit'],
          spaceIds: [],
          offset: 0,
          limit: 100,
        });
        assert.deepEqual(none, { total: 0, jobs: [] }, 'a token of no space sees nothing');
        const target = jobs[2]!;
        const one = await store.jobs.list({
          libraryId: library,
          kinds: ['edit'],
          id: target.id,
          offset: 0,
          limit: 10,
        });
        assert.deepEqual(one, { total: 1, jobs: [target] });
        const hidden = await store.jobs.list({
          libraryId: library,
          kinds: ['edit'],
          spaceIds: ['space-b'],
          id: target.id,
          offset: 0,
          limit: 10,
        });
        assert.deepEqual(hidden, { total: 0, jobs: [] }, 'an id in another space is not listed');
      });
    });

    it('forAsset returns the jobs of one asset, library, kinds and states, oldest first', async () => {
      const library = unique('smh') as LibraryId;
      const asset = unique('asset');
      const older = await insert({ libraryId: library, assetId: asset, kind: 'transcode', createdAt: NOW });
      const newer = await insert({
        libraryId: library,
        assetId: asset,
        kind: 'transcode',
        createdAt: NOW + 5,
      });
      const running = await claimed('w1', NOW + 1000, {
        libraryId: library,
        assetId: asset,
        kind: unique('kind-'),
      });
      await insert({ libraryId: library, assetId: asset, kind: 'snapshot' });
      await insert({ libraryId: library, assetId: unique('asset'), kind: 'transcode' });
      await insert({ libraryId: unique('smh') as LibraryId, assetId: asset, kind: 'transcode' });
      await insert({ libraryId: library, assetId: asset, kind: 'transcode', state: 'SUCCEED' });
      const waiting = await store.jobs.forAsset(library, asset, ['transcode'], ['WAITING', 'PROCESSING']);
      assert.deepEqual(waiting, [older, newer]);
      const open = await store.jobs.forAsset(library, asset, ['transcode', running.kind], ['PROCESSING']);
      assert.deepEqual(
        open.map((j) => j.id),
        [running.id],
      );
      assert.deepEqual(await store.jobs.forAsset(library, unique('asset'), ['transcode'], ['WAITING']), []);
    });
  });
}
