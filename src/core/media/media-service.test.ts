// MediaService on real components (test/helpers/core-services.ts, real ffprobe on a generated clip): a
// task is created whole or not at all, a token sees and cancels only the tasks of its spaces, a waiting
// task cancels and a running one stops only with force, and a cancel racing a worker's claim has one
// outcome. The worker side is played through the job queue itself.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  accessContext,
  type CoreServices,
  headStart,
  openCoreServices,
  sendObject,
} from '../../../test/helpers/core-services.ts';
import { makeClip } from '../../../test/helpers/media.ts';
import { type ErrorCode, isAppError } from '../errors.ts';
import type { JobRecord } from '../jobs/model.ts';
import type { LibraryRecord } from '../libraries/model.ts';
import type { InodeRecord } from '../namespace/model.ts';
import type { AccessContext } from '../tokens/access.ts';
import { MEDIA_KINDS } from './media-service.ts';

const appError = (code: ErrorCode) => (err: unknown) => {
  assert.ok(isAppError(err), String(err));
  assert.equal(err.code, code, err.message);
  return true;
};

describe('MediaService: creating, listing and cancelling tasks', { timeout: 180_000 }, () => {
  let services: CoreServices;
  let tenants: LibraryRecord;
  let single: LibraryRecord;
  /** Every space of the multi-tenant library, scoped to space-a, and unscoped without admin. */
  let admin: AccessContext;
  let scopedA: AccessContext;
  let unscoped: AccessContext;
  let clipA: InodeRecord;
  let clipB: InodeRecord;
  let clipSingle: InodeRecord;

  /** A file made the way clients make one: an upload task, its bytes, a confirm. */
  async function upload(
    ctx: AccessContext,
    spaceId: string,
    name: string,
    data: Buffer,
  ): Promise<InodeRecord> {
    const begun = await services.uploads.begin(ctx, {
      spaceId,
      path: [name],
      flavour: 'simple',
      strategy: 'rename',
      meta: {},
      attributes: {},
    });
    assert.equal(begun.kind, 'task');
    await sendObject(services, ctx.library, begun.task, data);
    return (await services.uploads.confirm(ctx, spaceId, begun.task.confirmKey, { attributes: {} })).inode;
  }

  before(async () => {
    services = await openCoreServices({ diskReserveMib: 0 });
    const clip = await readFile(
      await makeClip(services.dir, 'clip.mp4', { seconds: 1, width: 160, height: 90 }),
    );
    tenants = (await services.libraries.create({ name: 'tenants', multiTenant: true })).library;
    single = (await services.libraries.create({ name: 'single', multiTenant: false })).library;
    admin = accessContext(tenants, { grants: ['admin'] });
    scopedA = accessContext(tenants, { spaceIds: ['space-a'], grants: ['media_process'], userId: 'alice' });
    unscoped = accessContext(tenants, { grants: ['media_process'] });
    for (const spaceId of ['space-a', 'space-b'])
      await services.spaces.create(admin, { spaceId, extension: {} });
    clipA = await upload(admin, 'space-a', 'clip.mp4', clip);
    clipB = await upload(admin, 'space-b', 'clip.mp4', clip);
    clipSingle = await upload(accessContext(single), '-', 'clip.mp4', clip);
  });

  after(() => services?.close());

  const editOf = (clip: InodeRecord, more: Record<string, unknown> = {}) => ({
    inputs: [{ asset_id: clip.id, timeline_start: 0, timeline_end: 0.5 }],
    ...more,
  });
  const allTasks = async (library: LibraryRecord) =>
    (await services.store.jobs.list({ libraryId: library.id, kinds: MEDIA_KINDS, offset: 0, limit: 1000 }))
      .jobs;
  const cancel = (ctx: AccessContext, job: { taskId: string } | JobRecord, force = false) =>
    services.media.cancel(ctx, 'taskId' in job ? job.taskId : job.id, { force, kinds: ['edit'] });
  const stateOf = async (taskId: string) => (await services.store.jobs.get(taskId))?.state;

  /** A worker takes every waiting media task, so that the next claim can only be of the next task made. */
  async function drainQueue(): Promise<void> {
    const claim = () =>
      services.store.jobs.claim({
        kinds: MEDIA_KINDS,
        owner: 'drain',
        leaseUntil: Number.MAX_SAFE_INTEGER,
        now: Number.MAX_SAFE_INTEGER,
      });
    while (await claim());
  }

  it('createEdit queues one task, fully formed, in the space of its first input', async () => {
    const created = await services.media.createEdit(scopedA, editOf(clipA, { priority: 3 }));
    const job = await services.store.jobs.get(created.taskId);
    assert.ok(job);
    assert.equal(job.kind, 'edit');
    assert.equal(job.state, 'WAITING');
    assert.equal(job.libraryId, tenants.id);
    assert.equal(job.spaceId, 'space-a');
    assert.equal(job.priority, 3);
    assert.equal(job.assetId, created.assetId);
    assert.deepEqual((job.payload as { output: unknown }).output, {
      assetId: created.assetId,
      spaceId: 'space-a',
      parentId: clipA.parentId,
      name: `clip.${created.taskId}.mp4`,
    });
    assert.equal((job.payload as { userId: string }).userId, 'alice');
  });

  it('a refused create leaves nothing behind', async () => {
    const before = (await allTasks(tenants)).length;
    const refusals: [AccessContext, unknown, ErrorCode][] = [
      [scopedA, { inputs: [...editOf(clipA).inputs, ...editOf(clipB).inputs] }, 'AssetNotFound'],
      [
        scopedA,
        { inputs: [{ asset_id: clipA.id, timeline_start: 0.5, timeline_end: 0.5 }] },
        'InvalidArgument',
      ],
      [scopedA, { inputs: Array.from({ length: 21 }, () => editOf(clipA).inputs[0]) }, 'InvalidArgument'],
      [scopedA, editOf(clipA, { priority: 11 }), 'InvalidArgument'],
      [scopedA, editOf(clipA, { callback_url: 'http://127.0.0.1/hook' }), 'InvalidArgument'],
      [
        scopedA,
        { inputs: [{ asset_id: 'no-such-asset', timeline_start: 0, timeline_end: 1 }] },
        'AssetNotFound',
      ],
      [unscoped, editOf(clipA), 'AssetNotFound'],
      [
        accessContext(tenants, { spaceIds: ['space-a'], grants: ['upload_file'] }),
        editOf(clipA),
        'NoPermission',
      ],
    ];
    for (const [ctx, body, code] of refusals) {
      await assert.rejects(services.media.createEdit(ctx, body), appError(code), JSON.stringify(body));
    }
    await assert.rejects(
      services.media.createProcess(scopedA, { asset_id: clipA.id, template_group_name: 'no-such-group' }),
      appError('InvalidArgument'),
    );
    assert.equal((await allTasks(tenants)).length, before);
  });

  it('createProcess queues a transcode and a snapshot of one asset together', async () => {
    const created = await services.media.createProcess(scopedA, {
      asset_id: clipA.id,
      template_group_name: 'mp4-360p',
      thumbnail: { type: 'time', time: 1 },
    });
    assert.equal(created.assetId, clipA.id);
    assert.equal(created.taskIds.length, 2);
    const jobs = await Promise.all(created.taskIds.map((id) => services.store.jobs.get(id)));
    assert.deepEqual(jobs.map((j) => j?.kind).sort(), ['snapshot', 'transcode']);
    assert.equal(jobs.find((j) => j?.kind === 'snapshot')?.id, created.thumbnailTaskId);
    for (const job of jobs) {
      assert.equal(job?.assetId, clipA.id);
      assert.equal(job?.spaceId, 'space-a');
    }
  });

  it('list shows a token the tasks of its spaces; an unscoped token without admin none', async () => {
    const inA = await services.media.createEdit(admin, editOf(clipA));
    const inB = await services.media.createEdit(admin, editOf(clipB));
    const inSingle = await services.media.createEdit(accessContext(single), editOf(clipSingle));
    const ids = async (ctx: AccessContext, taskId?: string) =>
      (
        await services.media.list(ctx, {
          kinds: ['edit'],
          offset: 0,
          limit: 100,
          ...(taskId ? { taskId } : {}),
        })
      ).jobs.map((j) => j.id);
    const edits = (await allTasks(tenants)).filter((j) => j.kind === 'edit');
    const seenByA = await ids(scopedA);
    assert.ok(seenByA.includes(inA.taskId) && !seenByA.includes(inB.taskId));
    assert.deepEqual(
      seenByA,
      edits.filter((j) => j.spaceId === 'space-a').map((j) => j.id),
      'every task of space-a, newest first',
    );
    assert.deepEqual(
      await ids(admin),
      edits.map((j) => j.id),
      'admin: every task of the library',
    );
    assert.deepEqual(await services.media.list(unscoped, { kinds: ['edit'], offset: 0, limit: 100 }), {
      total: 0,
      jobs: [],
    });
    assert.deepEqual(await ids(scopedA, inB.taskId), [], 'by id, in another space');
    assert.deepEqual(await ids(scopedA, inA.taskId), [inA.taskId]);
    const singleUser = accessContext(single, { grants: ['media_process'] });
    assert.ok(
      (await ids(singleUser)).includes(inSingle.taskId),
      'a single-tenant library has one space for all',
    );
  });

  it('cancel ends a waiting task; a running one only with force, once its worker stops it', async () => {
    const waiting = await services.media.createEdit(scopedA, editOf(clipA));
    await cancel(scopedA, waiting);
    assert.equal(await stateOf(waiting.taskId), 'CANCEL');
    await assert.rejects(cancel(scopedA, waiting), appError('TaskNotCancellable'));

    await drainQueue();
    const running = await services.media.createEdit(scopedA, editOf(clipA));
    const now = services.clock.now();
    const claimed = await services.store.jobs.claim({
      kinds: ['edit'],
      owner: 'w1',
      leaseUntil: now + 60_000,
      now,
    });
    assert.equal(claimed?.id, running.taskId);
    await assert.rejects(cancel(scopedA, running), appError('TaskNotCancellable'));
    assert.equal((await services.store.jobs.get(running.taskId))?.cancelRequested, false);
    // The worker: at its next heartbeat it sees the request and ends the run as cancelled.
    const stopping = cancel(scopedA, running, true);
    for (;;) {
      const beat = await services.store.jobs.heartbeat(running.taskId, 'w1', now + 60_000, undefined);
      if (beat.cancelRequested) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(
      await services.store.jobs.finish(running.taskId, 'w1', 'CANCEL', {}, services.clock.now()),
      true,
    );
    await stopping;
    assert.equal(await stateOf(running.taskId), 'CANCEL');
    assert.ok(services.stoppedLocally.includes(running.taskId), 'a run in this process is stopped at once');
  });

  it('a forced cancel of a run that ends otherwise first reports how it ended', async () => {
    await drainQueue();
    const task = await services.media.createEdit(scopedA, editOf(clipA));
    const now = services.clock.now();
    await services.store.jobs.claim({ kinds: ['edit'], owner: 'w1', leaseUntil: now + 60_000, now });
    const stopping = cancel(scopedA, task, true);
    while (!(await services.store.jobs.get(task.taskId))?.cancelRequested)
      await new Promise((r) => setTimeout(r, 10));
    await services.store.jobs.finish(task.taskId, 'w1', 'SUCCEED', { result: {} }, services.clock.now());
    await assert.rejects(stopping, appError('TaskNotCancellable'));
    assert.equal(await stateOf(task.taskId), 'SUCCEED');
  });

  it('cancel reaches only tasks the token sees, of the kinds asked for', async () => {
    const inB = await services.media.createEdit(admin, editOf(clipB));
    await assert.rejects(cancel(scopedA, inB), appError('TaskNotFound'));
    await assert.rejects(cancel(unscoped, inB), appError('TaskNotFound'));
    await assert.rejects(cancel(accessContext(single), inB), appError('TaskNotFound'));
    await assert.rejects(
      services.media.cancel(admin, inB.taskId, { force: false, kinds: ['transcode'] }),
      appError('TaskNotFound'),
    );
    assert.equal(await stateOf(inB.taskId), 'WAITING');
    await cancel(admin, inB);
    assert.equal(await stateOf(inB.taskId), 'CANCEL');
  });

  /** Whether the cancel went through; false when the task was no longer waiting. */
  const cancelled = (ctx: AccessContext, task: { taskId: string }) =>
    cancel(ctx, task).then(
      () => true,
      (err: unknown) => !appError('TaskNotCancellable')(err),
    );

  it("cancel racing a worker's claim: exactly one of them gets the task", async (t) => {
    const outcomes = { cancelled: 0, claimed: 0 };
    await drainQueue();
    for (let round = 0; round < 12; round++) {
      const task = await services.media.createEdit(scopedA, editOf(clipA));
      const now = services.clock.now();
      const claim = () =>
        services.store.jobs.claim({ kinds: ['edit'], owner: 'w1', leaseUntil: now + 60_000, now });
      // Either goes first, with a head start of 0 to 5 round trips.
      const lead = Math.floor(round / 2) % 6;
      let cancelling: Promise<boolean>;
      let claiming: ReturnType<typeof claim>;
      if (round % 2 === 0) {
        cancelling = cancelled(scopedA, task);
        await headStart(services, lead);
        claiming = claim();
      } else {
        claiming = claim();
        await headStart(services, lead);
        cancelling = cancelled(scopedA, task);
      }
      const [won, got] = await Promise.all([cancelling, claiming]);
      assert.notEqual(won, got !== undefined, `round ${round}: exactly one wins`);
      assert.equal(await stateOf(task.taskId), won ? 'CANCEL' : 'PROCESSING');
      outcomes[won ? 'cancelled' : 'claimed']++;
    }
    t.diagnostic(JSON.stringify(outcomes));
    assert.ok(
      outcomes.cancelled > 0 && outcomes.claimed > 0,
      'both outcomes came up (else widen the head starts)',
    );
  });

  it('cancelProcess cancels the waiting transcodes of an asset, and refuses when there is none', async () => {
    await drainQueue();
    const first = await services.media.createProcess(scopedA, {
      asset_id: clipA.id,
      template_group_name: 'mp4-360p',
    });
    const second = await services.media.createProcess(scopedA, {
      asset_id: clipA.id,
      template_group_name: 'mp3',
      thumbnail: { type: 'time', time: 1 },
    });
    await services.media.cancelProcess(scopedA, clipA.id);
    for (const id of [...first.taskIds, ...second.taskIds.filter((id) => id !== second.thumbnailTaskId)])
      assert.equal(await stateOf(id), 'CANCEL');
    assert.equal(await stateOf(second.thumbnailTaskId!), 'WAITING', 'snapshots are not transcodes');
    await assert.rejects(services.media.cancelProcess(scopedA, clipA.id), appError('TaskNotCancellable'));
    await assert.rejects(services.media.cancelProcess(scopedA, clipB.id), appError('AssetNotFound'));
  });
});
