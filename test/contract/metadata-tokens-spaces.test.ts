// Contract suite of TokenRepo, SpaceRepo and QuotaRepo (src/ports/library-store.ts) on every database of
// test/helpers/databases.ts: round trips, the conditional token renewal, deletions by user and expiry,
// space paging and filters, atomic usage counters, and quotas read-modify-written under their lock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LibraryId } from '../../src/core/ids.ts';
import type { QuotaRecord } from '../../src/core/spaces/model.ts';
import { describeEachDatabase, NOW, spaceRecord, tokenRecord, unique } from '../helpers/metadata-fixtures.ts';

const newLibraryId = (): LibraryId => unique('smh') as LibraryId;

describeEachDatabase('TokenRepo, SpaceRepo and QuotaRepo contract', (ctx) => {
  describe('tokens', () => {
    it('insert and get round-trip every field; a second token with the same hash is refused', async () => {
      const library = newLibraryId();
      const admin = tokenRecord(library, { spaceIds: null, grants: ['admin'] });
      const scoped = tokenRecord(library, {
        spaceIds: ['space-a', 'space-b'],
        userId: 'usér ✓',
        clientId: 'c2',
        sessionId: 's2',
        grants: ['upload_file', 'delete_file'],
        period: 7200,
        expiresAt: NOW + 5_000_000_000,
        createdAt: NOW + 1,
      });
      await ctx.store.tokens.insert(admin);
      await ctx.store.tokens.insert(scoped);
      assert.deepEqual(await ctx.store.tokens.get(admin.hash), admin);
      assert.deepEqual(await ctx.store.tokens.get(scoped.hash), scoped);
      assert.equal(await ctx.store.tokens.get(unique('hash')), undefined);
      await assert.rejects(ctx.store.tokens.insert({ ...tokenRecord(library), hash: admin.hash }));
      assert.deepEqual(await ctx.store.tokens.get(admin.hash), admin, 'the first token stays');
    });

    it('extend pushes the expiry of a live token (valid through its last millisecond) and nothing else', async () => {
      const token = tokenRecord(newLibraryId(), { expiresAt: NOW + 1000 });
      await ctx.store.tokens.insert(token);
      assert.equal(await ctx.store.tokens.extend(token.hash, NOW + 9000, NOW + 1000), true);
      assert.deepEqual(await ctx.store.tokens.get(token.hash), { ...token, expiresAt: NOW + 9000 });
      assert.equal(await ctx.store.tokens.extend(token.hash, NOW + 99_000, NOW + 9001), false, 'expired');
      assert.equal((await ctx.store.tokens.get(token.hash))?.expiresAt, NOW + 9000);
      assert.equal(await ctx.store.tokens.extend(unique('hash'), NOW + 9000, NOW), false, 'no such token');
    });

    it('delete removes one token and reports whether it existed', async () => {
      const library = newLibraryId();
      const [a, b] = [tokenRecord(library), tokenRecord(library)];
      await ctx.store.tokens.insert(a);
      await ctx.store.tokens.insert(b);
      assert.equal(await ctx.store.tokens.delete(a.hash), true);
      assert.equal(await ctx.store.tokens.delete(a.hash), false);
      assert.equal(await ctx.store.tokens.get(a.hash), undefined);
      assert.deepEqual(await ctx.store.tokens.get(b.hash), b);
    });

    it("deleteForUser removes one user's tokens in one library, narrowed by client and session ids", async () => {
      const library = newLibraryId();
      const mine = (clientId: string, sessionId: string) =>
        tokenRecord(library, { userId: 'u1', clientId, sessionId });
      const tokens = {
        c1s1: mine('c1', 's1'),
        c1s2: mine('c1', 's2'),
        c2s1: mine('c2', 's1'),
        c3s3: mine('c3', 's3'),
        otherUser: tokenRecord(library, { userId: 'u2', clientId: 'c1', sessionId: 's1' }),
        otherLibrary: tokenRecord(newLibraryId(), { userId: 'u1', clientId: 'c1', sessionId: 's1' }),
      };
      for (const t of Object.values(tokens)) await ctx.store.tokens.insert(t);
      const alive = async () => {
        const out: string[] = [];
        for (const [name, t] of Object.entries(tokens))
          if (await ctx.store.tokens.get(t.hash)) out.push(name);
        return out;
      };
      const forUser = ctx.store.tokens.deleteForUser.bind(ctx.store.tokens);
      assert.equal(
        await forUser(library, 'u1', { clientIds: ['c1'], sessionIds: ['s2'] }),
        1,
        'both filters',
      );
      assert.deepEqual(await alive(), ['c1s1', 'c2s1', 'c3s3', 'otherUser', 'otherLibrary']);
      assert.equal(await forUser(library, 'u1', { sessionIds: ['s1'] }), 2, 'sessions of any client');
      assert.deepEqual(await alive(), ['c3s3', 'otherUser', 'otherLibrary']);
      assert.equal(await forUser(library, 'u1', { clientIds: ['nope'] }), 0);
      assert.equal(await forUser(library, 'u1', { clientIds: [], sessionIds: [] }), 1, 'empty lists: all');
      assert.deepEqual(await alive(), ['otherUser', 'otherLibrary']);
    });

    it('deleteExpired removes the tokens that expired before now, and counts them', async () => {
      // Far in the past, so the other tests' tokens are never concerned.
      const library = newLibraryId();
      const at = (expiresAt: number) => tokenRecord(library, { expiresAt });
      const [gone1, gone2, boundary, live] = [at(1000), at(1998), at(2000), at(NOW)];
      for (const t of [gone1, gone2, boundary, live]) await ctx.store.tokens.insert(t);
      assert.equal(await ctx.store.tokens.deleteExpired(2000), 2);
      assert.equal(await ctx.store.tokens.get(gone1.hash), undefined);
      assert.equal(await ctx.store.tokens.get(gone2.hash), undefined);
      assert.deepEqual(await ctx.store.tokens.get(boundary.hash), boundary, 'expires at now: still valid');
      assert.deepEqual(await ctx.store.tokens.get(live.hash), live);
      assert.equal(await ctx.store.tokens.deleteExpired(2000), 0);
    });
  });

  describe('spaces', () => {
    it('insert and get round-trip every field; a taken id is refused (false) and the first space stays', async () => {
      const library = newLibraryId();
      const space = spaceRecord(library, {
        userId: 'owner',
        extension: { isPublicRead: true, allowPhotoExtname: ['.jpg', '.png'], spaceTag: 'tag ✓' },
        quotaId: 7,
        usedBytes: 2 ** 40,
        createdAt: NOW + 3,
      });
      assert.equal(await ctx.store.spaces.insert(space), true);
      assert.deepEqual(await ctx.store.spaces.get(library, space.id), space);
      assert.equal(await ctx.store.spaces.insert({ ...spaceRecord(library), id: space.id }), false);
      assert.deepEqual(await ctx.store.spaces.get(library, space.id), space);
      const elsewhere = { ...spaceRecord(newLibraryId()), id: space.id };
      assert.equal(await ctx.store.spaces.insert(elsewhere), true, 'ids are per library');
      assert.deepEqual(await ctx.store.spaces.get(elsewhere.libraryId, space.id), elsewhere);
      assert.equal(await ctx.store.spaces.get(library, unique('space')), undefined);
    });

    it('two inserts of one id at once: exactly one succeeds', async () => {
      const library = newLibraryId();
      const id = unique('space');
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          ctx.store.spaces.insert(spaceRecord(library, { id, userId: `u${i}` })),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await ctx.store.spaces.get(library, id))?.userId, `u${results.indexOf(true)}`);
    });

    it('list pages by id after a marker, filtered by user and prefix, within one library', async () => {
      const library = newLibraryId();
      const ids = ['b-1', 'a-2', 'b-3', 'a-1', 'c-1', 'b-2'];
      for (const [i, id] of ids.entries())
        await ctx.store.spaces.insert(spaceRecord(library, { id, userId: i % 2 === 0 ? 'even' : 'odd' }));
      await ctx.store.spaces.insert(spaceRecord(newLibraryId(), { id: 'a-0' }));
      const list = async (query: { after: string; limit: number; userId?: string; prefix?: string }) =>
        (await ctx.store.spaces.list(library, query)).map((s) => s.id);
      assert.deepEqual(await list({ after: '', limit: 100 }), ['a-1', 'a-2', 'b-1', 'b-2', 'b-3', 'c-1']);
      assert.deepEqual(await list({ after: '', limit: 2 }), ['a-1', 'a-2']);
      assert.deepEqual(await list({ after: 'a-2', limit: 2 }), ['b-1', 'b-2']);
      assert.deepEqual(await list({ after: 'b-2', limit: 2 }), ['b-3', 'c-1']);
      assert.deepEqual(await list({ after: 'c-1', limit: 2 }), []);
      assert.deepEqual(await list({ after: '', limit: 100, userId: 'odd' }), ['a-1', 'a-2', 'b-2']);
      assert.deepEqual(await list({ after: '', limit: 100, prefix: 'b-' }), ['b-1', 'b-2', 'b-3']);
      assert.deepEqual(await list({ after: 'b-1', limit: 1, prefix: 'b-' }), ['b-2']);
      assert.deepEqual(await list({ after: '', limit: 100, prefix: 'b-', userId: 'even' }), ['b-1', 'b-3']);
      assert.deepEqual(await list({ after: '', limit: 100, prefix: 'd' }), []);
      const full = await ctx.store.spaces.list(library, { after: 'c', limit: 1 });
      assert.equal(full[0]?.userId, 'even', 'full records');
    });

    it('list by prefix and marker finds every space once, also where text collates by language', async () => {
      // glibc's en_US.UTF-8, the default of many PostgreSQL installations, ignores "-" when it sorts:
      // there "b1" comes between "b-" and "b-2". Elsewhere the suite's own database.
      const database = ctx.impl.localeDatabase
        ? await ctx.impl.localeDatabase('en-US-u-ka-shifted')
        : ctx.database;
      const store = database === ctx.database ? ctx.store : await database.open();
      try {
        const library = newLibraryId();
        for (const id of ['b1', 'b-2', 'ba', 'b-3', 'c-1', 'b-'])
          await store.spaces.insert(spaceRecord(library, { id }));
        const pages = async (prefix: string | undefined, limit: number) => {
          const ids: string[] = [];
          for (let after = ''; ; ) {
            const page = await store.spaces.list(library, { after, limit, ...(prefix ? { prefix } : {}) });
            ids.push(...page.map((s) => s.id));
            if (page.length < limit) return ids;
            after = page.at(-1)!.id;
          }
        };
        for (const limit of [1, 2, 100]) {
          assert.deepEqual(
            (await pages('b-', limit)).sort(),
            ['b-', 'b-2', 'b-3'],
            `prefix, pages of ${limit}`,
          );
          assert.deepEqual((await pages('b', limit)).sort(), ['b-', 'b-2', 'b-3', 'b1', 'ba']);
          assert.deepEqual((await pages(undefined, limit)).sort(), ['b-', 'b-2', 'b-3', 'b1', 'ba', 'c-1']);
        }
      } finally {
        if (store !== ctx.store) await store.close();
      }
    });

    it('count and delete concern one space of one library', async () => {
      const library = newLibraryId();
      const [a, b] = [spaceRecord(library), spaceRecord(library)];
      const twin = { ...spaceRecord(newLibraryId()), id: a.id };
      for (const s of [a, b, twin]) await ctx.store.spaces.insert(s);
      assert.equal(await ctx.store.spaces.count(library), 2);
      await ctx.store.spaces.delete(library, a.id, NOW);
      assert.equal(await ctx.store.spaces.get(library, a.id), undefined);
      assert.equal(await ctx.store.spaces.count(library), 1);
      assert.deepEqual(await ctx.store.spaces.get(library, b.id), b);
      assert.deepEqual(
        await ctx.store.spaces.get(twin.libraryId, a.id),
        twin,
        "another library's space stays",
      );
      await ctx.store.spaces.delete(library, a.id, NOW);
      assert.equal(await ctx.store.spaces.count(newLibraryId()), 0);
    });

    it('setExtension replaces the whole extension of one space', async () => {
      const library = newLibraryId();
      const space = spaceRecord(library, { extension: { isPublicRead: true, spaceTag: 'old' } });
      const other = spaceRecord(library, { extension: { spaceTag: 'other' } });
      await ctx.store.spaces.insert(space);
      await ctx.store.spaces.insert(other);
      await ctx.store.spaces.setExtension(library, space.id, { allowVideo: false });
      assert.deepEqual(await ctx.store.spaces.get(library, space.id), {
        ...space,
        extension: { allowVideo: false },
      });
      assert.deepEqual(await ctx.store.spaces.get(library, other.id), other);
    });

    it('setQuota assigns and clears a quota on several spaces; forQuota finds them in id order', async () => {
      const library = newLibraryId();
      const spaces = ['s-c', 's-a', 's-b', 's-d'].map((id) => spaceRecord(library, { id }));
      for (const s of spaces) await ctx.store.spaces.insert(s);
      const quota = await ctx.store.quotas.insert({
        libraryId: library,
        capacity: 100,
        removeWhenExceed: false,
        removeAfterDays: 0,
        removeNewest: false,
        createdAt: NOW,
      });
      await ctx.store.spaces.setQuota(library, ['s-c', 's-a', 's-b'], quota);
      assert.deepEqual(
        (await ctx.store.spaces.forQuota(quota)).map((s) => [s.id, s.quotaId]),
        [
          ['s-a', quota],
          ['s-b', quota],
          ['s-c', quota],
        ],
      );
      await ctx.store.spaces.setQuota(library, ['s-b'], null);
      await ctx.store.spaces.setQuota(library, [], quota);
      assert.deepEqual(
        (await ctx.store.spaces.forQuota(quota)).map((s) => s.id),
        ['s-a', 's-c'],
      );
      assert.equal((await ctx.store.spaces.get(library, 's-b'))?.quotaId, null);
      assert.equal((await ctx.store.spaces.get(library, 's-d'))?.quotaId, null);
      assert.deepEqual(await ctx.store.spaces.forQuota(quota + 1000), []);
    });

    it('addUsedBytes adds and subtracts atomically; totalUsedBytes sums one library beyond 2^32', async () => {
      const own = newLibraryId();
      const other = newLibraryId();
      assert.equal(await ctx.store.spaces.totalUsedBytes(own), 0, 'no spaces, no bytes');
      const [a, b, c] = [spaceRecord(own), spaceRecord(own), spaceRecord(other)];
      for (const s of [a, b, c]) await ctx.store.spaces.insert(s);
      await ctx.store.spaces.addUsedBytes(own, a.id, 5 * 2 ** 32);
      await ctx.store.spaces.addUsedBytes(own, b.id, 7);
      await ctx.store.spaces.addUsedBytes(other, c.id, 1000);
      assert.equal(await ctx.store.spaces.totalUsedBytes(own), 5 * 2 ** 32 + 7);
      assert.equal(await ctx.store.spaces.totalUsedBytes(other), 1000);
      // Uploads and deletes of one space at once: no update is lost.
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => ctx.store.spaces.addUsedBytes(own, b.id, i % 3 === 0 ? -2 : 5)),
      );
      assert.equal((await ctx.store.spaces.get(own, b.id))?.usedBytes, 7 + 10 * -2 + 20 * 5);
      await ctx.store.spaces.addUsedBytes(own, b.id, 0);
      await ctx.store.spaces.addUsedBytes(own, unique('space'), 50);
      assert.equal(await ctx.store.spaces.totalUsedBytes(own), 5 * 2 ** 32 + 87, 'no space, no change');
    });
  });

  describe('quotas', () => {
    const quotaInput = (libraryId: LibraryId): Omit<QuotaRecord, 'id'> => ({
      libraryId,
      capacity: 1000,
      removeWhenExceed: false,
      removeAfterDays: 0,
      removeNewest: false,
      createdAt: NOW,
    });

    it('insert hands out a new id each time; get and lock find a quota only in its own library', async () => {
      const library = newLibraryId();
      const input = {
        ...quotaInput(library),
        capacity: 5 * 2 ** 40,
        removeWhenExceed: true,
        removeAfterDays: 30,
      };
      const a = await ctx.store.quotas.insert(input);
      const b = await ctx.store.quotas.insert({ ...quotaInput(library), removeNewest: true });
      assert.ok(Number.isSafeInteger(a) && Number.isSafeInteger(b));
      assert.notEqual(a, b);
      assert.deepEqual(await ctx.store.quotas.get(library, a), { ...input, id: a });
      assert.equal((await ctx.store.quotas.get(library, b))?.removeNewest, true);
      assert.deepEqual(await ctx.store.quotas.lock(library, a), { ...input, id: a });
      assert.equal(await ctx.store.quotas.get(newLibraryId(), a), undefined, "another library's quota");
      assert.equal(await ctx.store.quotas.lock(newLibraryId(), a), undefined);
      assert.equal(await ctx.store.quotas.get(library, Math.max(a, b) + 1000), undefined);
    });

    it('update rewrites the settings and keeps the library and creation time', async () => {
      const library = newLibraryId();
      const id = await ctx.store.quotas.insert(quotaInput(library));
      const changed: QuotaRecord = {
        id,
        libraryId: library,
        capacity: 42,
        removeWhenExceed: true,
        removeAfterDays: 7,
        removeNewest: true,
        createdAt: NOW,
      };
      await ctx.store.quotas.update({ ...changed, createdAt: NOW + 99 });
      assert.deepEqual(await ctx.store.quotas.get(library, id), changed);
    });

    it('lock holds the quota: a second locker waits for the first to commit', async () => {
      const library = newLibraryId();
      const id = await ctx.store.quotas.insert(quotaInput(library));
      const original = await ctx.store.quotas.get(library, id);
      const order: string[] = [];
      let locked!: () => void;
      const firstLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const first = ctx.store.transaction(async (tx) => {
        assert.deepEqual(await tx.quotas.lock(library, id), original);
        order.push('first locked');
        locked();
        // The second locker is started now; it must not get through before this commits.
        await sleep(100);
        await tx.quotas.update({ ...original!, capacity: 2000 });
        order.push('first updated');
      });
      await firstLocked;
      const second = ctx.store.transaction(async (tx) => {
        const seen = await tx.quotas.lock(library, id);
        order.push(`second saw ${seen?.capacity}`);
      });
      await Promise.all([first, second]);
      assert.deepEqual(order, ['first locked', 'first updated', 'second saw 2000']);
    });

    it('read-modify-writes under the lock lose no update, also from separate sessions', async (t) => {
      const library = newLibraryId();
      const id = await ctx.store.quotas.insert({ ...quotaInput(library), capacity: 0 });
      const increment = () =>
        ctx.store.transaction(async (tx) => {
          const quota = await tx.quotas.lock(library, id);
          await tx.quotas.update({ ...quota!, capacity: quota!.capacity + 1 });
        });
      await Promise.all(Array.from({ length: 20 }, increment));
      assert.equal((await ctx.store.quotas.get(library, id))?.capacity, 20);
      if (!ctx.database.apart) {
        t.diagnostic(`${ctx.impl.name} has a single session: nothing to run apart`);
        return;
      }
      await ctx.database.apart(3, {
        name: 'incrementQuota',
        input: { libraryId: library, quotaId: id, times: 10 },
      });
      assert.equal((await ctx.store.quotas.get(library, id))?.capacity, 50);
    });
  });
});
