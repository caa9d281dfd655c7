// Contract suite of UploadTaskRepo (src/ports/library-store.ts) on every database of
// test/helpers/databases.ts: round trips, conditional transitions and updates that report whether they
// applied, one winner for racing transitions (in one store and from separate sessions), and the stale
// listings the expiry sweep reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LibraryId } from '../../src/core/ids.ts';
import type { UploadTaskRecord, UploadTaskState } from '../../src/core/uploads/model.ts';
import {
  describeEachDatabase,
  inodeRecord,
  NOW,
  unique,
  uploadTaskRecord,
} from '../helpers/metadata-fixtures.ts';

const library = unique('smh') as LibraryId;
const task = (overrides: Partial<UploadTaskRecord> = {}): UploadTaskRecord =>
  uploadTaskRecord(library, overrides);

describeEachDatabase('UploadTaskRepo contract', (ctx) => {
  async function inserted(overrides: Partial<UploadTaskRecord> = {}): Promise<UploadTaskRecord> {
    const t = task(overrides);
    await ctx.store.uploadTasks.insert(t);
    return t;
  }

  describe('insert, get and delete', () => {
    it('round-trip every field; a second task with the same confirm key is refused', async () => {
      const simple = task({ flavour: 'simple', uploadId: null, credentialId: null, strategy: 'ask' });
      const full = task({
        spaceId: 'space-1',
        path: ['répertoire', 'sub dir', 'clip ✂.mp4'],
        strategy: 'overwrite',
        force: true,
        state: 'confirmed',
        objectReady: true,
        credentialExpiresAt: NOW + 5_000_000_000,
        userId: 'u ✓',
        options: {
          meta: { 'x-smh-meta-a': 'b' },
          attributes: { labels: ['l1'], category: 'video', localModificationTime: '2020-01-01T00:00:00Z' },
          filesize: 5 * 2 ** 40,
          trafficLimit: 819_200,
          beginningHash: 'aa'.repeat(20),
          fullHash: 'bb'.repeat(20),
          staged: true,
        },
        result: unique('inode'),
        createdAt: NOW + 1,
        updatedAt: NOW + 2,
      });
      await ctx.store.uploadTasks.insert(simple);
      await ctx.store.uploadTasks.insert(full);
      assert.deepEqual(await ctx.store.uploadTasks.get(simple.confirmKey), simple);
      assert.deepEqual(await ctx.store.uploadTasks.get(full.confirmKey), full);
      assert.equal(await ctx.store.uploadTasks.get(unique('confirm')), undefined);
      await assert.rejects(ctx.store.uploadTasks.insert(task({ confirmKey: simple.confirmKey })));
      assert.deepEqual(await ctx.store.uploadTasks.get(simple.confirmKey), simple, 'the first task stays');
    });

    it('delete removes one task, and deleting a missing one is no error', async () => {
      const [a, b] = [await inserted(), await inserted()];
      await ctx.store.uploadTasks.delete(a.confirmKey);
      await ctx.store.uploadTasks.delete(a.confirmKey);
      assert.equal(await ctx.store.uploadTasks.get(a.confirmKey), undefined);
      assert.deepEqual(await ctx.store.uploadTasks.get(b.confirmKey), b);
      assert.equal(
        await ctx.store.uploadTasks.transition(a.confirmKey, 'uploading', 'confirming', {}, NOW),
        false,
      );
    });
  });

  describe('transition', () => {
    it('changes the state only from the expected one, with its patch and time; else false and nothing changes', async () => {
      const t = await inserted();
      const tasks = ctx.store.uploadTasks;
      assert.equal(
        await tasks.transition(t.confirmKey, 'confirming', 'confirmed', { result: 'x' }, NOW + 1),
        false,
      );
      assert.deepEqual(await tasks.get(t.confirmKey), t);
      assert.equal(await tasks.transition(t.confirmKey, 'uploading', 'confirming', {}, NOW + 5), true);
      assert.deepEqual(await tasks.get(t.confirmKey), { ...t, state: 'confirming', updatedAt: NOW + 5 });
      assert.equal(
        await tasks.transition(t.confirmKey, 'uploading', 'cancelled', {}, NOW + 6),
        false,
        'left uploading',
      );
      const patch = {
        objectReady: true,
        result: unique('inode'),
        credentialExpiresAt: NOW + 99,
        credentialId: unique('AKID'),
        strategy: 'overwrite' as const,
      };
      assert.equal(await tasks.transition(t.confirmKey, 'confirming', 'confirmed', patch, NOW + 7), true);
      assert.deepEqual(await tasks.get(t.confirmKey), {
        ...t,
        ...patch,
        state: 'confirmed',
        updatedAt: NOW + 7,
      });
      assert.equal(await tasks.transition(unique('confirm'), 'uploading', 'confirming', {}, NOW), false);
    });

    it('walks the lifecycle: a failed confirm reopens the task, which then ends one way or another', async () => {
      const tasks = ctx.store.uploadTasks;
      const t = await inserted();
      for (const [from, to] of [
        ['uploading', 'confirming'],
        ['confirming', 'uploading'],
        ['uploading', 'confirming'],
        ['confirming', 'confirmed'],
      ] as const) {
        assert.equal(await tasks.transition(t.confirmKey, from, to, {}, NOW), true, `${from} → ${to}`);
      }
      for (const end of ['cancelled', 'expired'] as const) {
        const other = await inserted();
        assert.equal(await tasks.transition(other.confirmKey, 'uploading', end, {}, NOW), true);
        assert.equal((await tasks.get(other.confirmKey))?.state, end);
      }
    });

    it('without a time, stamps the current time', async () => {
      const t = await inserted();
      const before = Date.now();
      assert.equal(await ctx.store.uploadTasks.transition(t.confirmKey, 'uploading', 'cancelled'), true);
      const updatedAt = (await ctx.store.uploadTasks.get(t.confirmKey))!.updatedAt;
      assert.ok(updatedAt >= before && updatedAt <= Date.now(), String(updatedAt));
    });

    it('inside a transaction that fails, a transition is undone with everything else', async () => {
      // Confirm's shape: the file placed and the task confirmed together, or neither.
      const t = await inserted({ state: 'confirming' });
      const file = inodeRecord(library, t.spaceId, 'file', unique('name'));
      const boom = new Error('boom');
      await assert.rejects(
        ctx.store.transaction(async (tx) => {
          assert.equal(await tx.inodes.insert(file), true);
          const patch = { result: file.id, objectReady: true };
          assert.equal(
            await tx.uploadTasks.transition(t.confirmKey, 'confirming', 'confirmed', patch, NOW + 1),
            true,
          );
          assert.equal((await tx.uploadTasks.get(t.confirmKey))?.state, 'confirmed', 'seen inside');
          throw boom;
        }),
        (err) => err === boom,
      );
      assert.deepEqual(await ctx.store.uploadTasks.get(t.confirmKey), t);
      assert.equal(await ctx.store.inodes.find(library, file.id), undefined);
    });

    it('racing transitions from one state, many rounds at once: exactly one wins each time', async () => {
      const rounds = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const t = await inserted();
          const targets: UploadTaskState[] =
            i % 2 ? ['confirming', 'cancelled', 'expired'] : ['cancelled', 'confirming', 'confirming'];
          const won = await Promise.all(
            targets.map((to) => ctx.store.uploadTasks.transition(t.confirmKey, 'uploading', to, {}, NOW)),
          );
          return { t, targets, won, stored: await ctx.store.uploadTasks.get(t.confirmKey) };
        }),
      );
      for (const { t, targets, won, stored } of rounds) {
        assert.equal(won.filter(Boolean).length, 1, `${t.confirmKey}: ${won}`);
        assert.equal(stored?.state, targets[won.indexOf(true)], 'the stored state is the winner’s');
      }
    });

    it('racing transitions from separate sessions: exactly one session wins each task', async (t) => {
      if (!ctx.database.apart) {
        t.diagnostic(`${ctx.impl.name} has a single session: nothing to race apart`);
        return;
      }
      const tasks = await Promise.all(Array.from({ length: 40 }, () => inserted()));
      const to: UploadTaskState[] = ['confirming', 'cancelled', 'expired', 'confirming'];
      const confirmKeys = tasks.map((x) => x.confirmKey);
      const bySession = await ctx.database.apart(4, {
        name: 'transitionUploadTasks',
        input: { confirmKeys, from: 'uploading', to, now: NOW + 1 },
      });
      for (const [i, key] of confirmKeys.entries()) {
        const winners = bySession.flatMap((won, session) => (won[i] ? [session] : []));
        assert.equal(winners.length, 1, `${key}: sessions ${winners}`);
        const stored = await ctx.store.uploadTasks.get(key);
        assert.equal(stored?.state, to[winners[0]!]);
        assert.equal(stored?.updatedAt, NOW + 1);
      }
    });
  });

  describe('update', () => {
    it('patches a task still in the given state without changing the state; else false', async () => {
      const t = await inserted();
      const patch = { objectReady: true, credentialExpiresAt: NOW + 500, credentialId: unique('AKID') };
      assert.equal(await ctx.store.uploadTasks.update(t.confirmKey, 'confirming', patch, NOW + 1), false);
      assert.deepEqual(await ctx.store.uploadTasks.get(t.confirmKey), t);
      assert.equal(await ctx.store.uploadTasks.update(t.confirmKey, 'uploading', patch, NOW + 2), true);
      assert.deepEqual(await ctx.store.uploadTasks.get(t.confirmKey), { ...t, ...patch, updatedAt: NOW + 2 });
      assert.equal(
        await ctx.store.uploadTasks.update(t.confirmKey, 'uploading', { credentialId: 'other' }, NOW + 3),
        true,
      );
      assert.deepEqual(await ctx.store.uploadTasks.get(t.confirmKey), {
        ...t,
        ...patch,
        credentialId: 'other',
        updatedAt: NOW + 3,
      });
      assert.equal(await ctx.store.uploadTasks.update(unique('confirm'), 'uploading', patch, NOW), false);
    });

    it('racing a transition away from its state: the update applies only if it came first', async () => {
      const rounds = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const t = await inserted();
          const renew = () =>
            ctx.store.uploadTasks.update(t.confirmKey, 'uploading', { credentialId: 'renewed' }, NOW + 1);
          const cancel = () =>
            ctx.store.uploadTasks.transition(t.confirmKey, 'uploading', 'cancelled', {}, NOW + 2);
          const [renewed, cancelled] =
            i % 2
              ? await Promise.all([renew(), cancel()])
              : await Promise.all([cancel(), renew()]).then(([c, r]) => [r, c]);
          return { t, renewed, cancelled, stored: await ctx.store.uploadTasks.get(t.confirmKey) };
        }),
      );
      for (const { t, renewed, cancelled, stored } of rounds) {
        assert.equal(cancelled, true, 'the cancel always applies');
        assert.equal(stored?.state, 'cancelled');
        assert.equal(stored?.credentialId, renewed ? 'renewed' : t.credentialId);
        assert.equal(stored?.updatedAt, NOW + 2, 'the cancel came last either way');
      }
    });
  });

  it('listStale: uploading tasks by credential expiry, confirming ones by lease expiry, the others by last update, oldest first', async () => {
    // A database of its own: listStale sees every task of the database.
    const database = await ctx.impl.database();
    const store = await database.open();
    try {
      const at = (state: UploadTaskState, credentialExpiresAt: number, updatedAt: number, leaseUntil = 0) =>
        task({
          state,
          credentialExpiresAt,
          updatedAt,
          leaseUntil,
          confirmKey: `${state}-${credentialExpiresAt}-${updatedAt}`,
        });
      const all = [
        at('uploading', 300, 1),
        at('uploading', 100, 900),
        at('uploading', 200, 2),
        at('uploading', 1000, 3),
        // A confirm is stale once its lease runs out, whatever its last update.
        at('confirming', 1, 250, 700),
        at('confirming', 2, 2000, 400),
        at('confirming', 3, 50, 3000),
        at('cancelled', 4, 10),
        at('expired', 5, 20),
        at('confirmed', 6, 30),
      ];
      for (const t of all) await store.uploadTasks.insert(t);
      const keys = async (state: UploadTaskState, before: number, limit = 100) =>
        (await store.uploadTasks.listStale(state, before, limit)).map((t) => t.confirmKey);
      assert.deepEqual(await keys('uploading', 1000), [
        'uploading-100-900',
        'uploading-200-2',
        'uploading-300-1',
      ]);
      assert.deepEqual(
        await keys('uploading', 300),
        ['uploading-100-900', 'uploading-200-2'],
        'strictly before',
      );
      assert.deepEqual(await keys('uploading', 1000, 1), ['uploading-100-900']);
      assert.deepEqual(await keys('confirming', 1000), ['confirming-2-2000', 'confirming-1-250']);
      assert.deepEqual(await keys('cancelled', 1000), ['cancelled-4-10']);
      assert.deepEqual(await keys('expired', 20), []);
      assert.deepEqual(await keys('confirmed', 31), ['confirmed-6-30']);
      assert.deepEqual((await store.uploadTasks.listStale('cancelled', 1000, 10))[0], all[7], 'full records');
    } finally {
      await store.close();
    }
  });
});
