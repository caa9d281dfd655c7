// Contract suite of InodeRepo (src/ports/library-store.ts) on every database of test/helpers/databases.ts:
// one name per directory (also for racing inserts and moves), lookups confined to their library and
// space, every listing order with its keyset and offset paging, hashes recorded only for the bytes they
// describe, and subtree walks and deletes wider than one batch.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { LibraryId } from '../../src/core/ids.ts';
import type { InodeCursor, InodeOrder, InodeRecord, InodeType } from '../../src/core/namespace/model.ts';
import { describeEachDatabase, inodeRecord, NOW, unique } from '../helpers/metadata-fixtures.ts';

const newLibraryId = (): LibraryId => unique('smh') as LibraryId;
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const ORDERS: InodeOrder[] = ['name', 'modificationTime', 'size', 'creationTime'];

function sortValue(inode: InodeRecord, orderBy: InodeOrder): string | number {
  return {
    name: inode.name,
    modificationTime: inode.modifiedAt,
    size: inode.size,
    creationTime: inode.createdAt,
  }[orderBy];
}

const cursorOf = (inode: InodeRecord, orderBy: InodeOrder): InodeCursor => ({
  type: inode.type,
  value: sortValue(inode, orderBy),
  name: inode.name,
  id: inode.id,
});

/** The listing order the port promises: type (unless union), the column, then name and id ascending. */
function listingOrder(orderBy: InodeOrder, descending: boolean, union: boolean) {
  return (a: InodeRecord, b: InodeRecord): number => {
    if (!union && a.type !== b.type) return a.type === 'dir' ? -1 : 1;
    const [va, vb] = [sortValue(a, orderBy), sortValue(b, orderBy)];
    const byValue = typeof va === 'string' ? byBytes(va, vb as string) : va - (vb as number);
    if (byValue !== 0) return descending ? -byValue : byValue;
    return byBytes(a.name, b.name) || byBytes(a.id, b.id);
  };
}

describeEachDatabase('InodeRepo contract', (ctx) => {
  const library = newLibraryId();
  const inode = (spaceId: string, type: InodeType, name: string, overrides: Partial<InodeRecord> = {}) =>
    inodeRecord(library, spaceId, type, name, overrides);
  async function insertAll(inodes: InodeRecord[]): Promise<void> {
    await ctx.store.transaction(async (tx) => {
      for (const i of inodes) assert.equal(await tx.inodes.insert(i), true, i.name);
    });
  }

  describe('insert and lookups', () => {
    it('insert and get round-trip every field; get and find stay in their space and library', async () => {
      const space = unique('space');
      const file = inode(space, 'file', 'clip ✂ «1».mp4', {
        parentId: unique('dir'),
        size: 5 * 2 ** 40,
        contentType: 'video/mp4',
        crc64: '18446744073709551615',
        meta: { 'x-smh-meta-a': 'b' },
        attributes: { labels: ['x', 'y'], category: 'video', localCreationTime: '2020-01-01T00:00:00Z' },
        beginningHash: 'aa'.repeat(20),
        fullHash: 'bb'.repeat(20),
        userId: 'u1',
        createdAt: NOW + 1,
        modifiedAt: NOW + 2,
      });
      const dir = inode(space, 'dir', 'folder');
      await insertAll([file, dir]);
      assert.deepEqual(await ctx.store.inodes.get(library, space, file.id), file);
      assert.deepEqual(await ctx.store.inodes.get(library, space, dir.id), dir);
      assert.equal(await ctx.store.inodes.get(library, unique('space'), file.id), undefined, 'another space');
      assert.equal(await ctx.store.inodes.get(newLibraryId(), space, file.id), undefined, 'another library');
      assert.deepEqual(await ctx.store.inodes.find(library, file.id), file, 'find needs no space');
      assert.equal(await ctx.store.inodes.find(newLibraryId(), file.id), undefined);
      assert.equal(await ctx.store.inodes.find(library, unique('inode')), undefined);
    });

    it('a name is taken once per directory: a second insert is false and changes nothing', async () => {
      const space = unique('space');
      const first = inode(space, 'file', 'a.txt');
      assert.equal(await ctx.store.inodes.insert(first), true);
      assert.equal(await ctx.store.inodes.insert(inode(space, 'dir', 'a.txt')), false);
      assert.deepEqual(await ctx.store.inodes.child(library, space, '', 'a.txt'), first);
      for (const elsewhere of [
        inode(space, 'file', 'a.txt', { parentId: first.id }),
        inode(unique('space'), 'file', 'a.txt'),
        inodeRecord(newLibraryId(), space, 'file', 'a.txt'),
        inode(space, 'file', 'A.txt'),
      ]) {
        assert.equal(
          await ctx.store.inodes.insert(elsewhere),
          true,
          'another directory, space, library or case',
        );
      }
      await assert.rejects(
        ctx.store.inodes.insert(inode(space, 'file', 'b.txt', { id: first.id })),
        'same id',
      );
    });

    it('inserts of one name racing: exactly one succeeds', async () => {
      const space = unique('space');
      const racers = Array.from({ length: 10 }, (_, i) => inode(space, i % 2 ? 'dir' : 'file', 'contested'));
      const results = await Promise.all(racers.map((r) => ctx.store.inodes.insert(r)));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = racers[results.indexOf(true)]!;
      assert.deepEqual(await ctx.store.inodes.child(library, space, '', 'contested'), winner);
      assert.deepEqual(await ctx.store.inodes.countInSpace(library, space), {
        dirs: winner.type === 'dir' ? 1 : 0,
        files: winner.type === 'file' ? 1 : 0,
      });
    });

    it('child and childNames look in one directory; childNames lists a prefix in byte order', async () => {
      const space = unique('space');
      const dir = inode(space, 'dir', 'd');
      const names = ['report.pdf', 'report (2).pdf', 'report (1).pdf', 'reporu.pdf', 'Report.pdf', 'report'];
      await insertAll([
        dir,
        ...names.map((n) => inode(space, 'file', n, { parentId: dir.id })),
        inode(space, 'file', 'report (3).pdf'),
        inode(unique('space'), 'file', 'report (4).pdf', { parentId: dir.id }),
      ]);
      assert.equal((await ctx.store.inodes.child(library, space, dir.id, 'report.pdf'))?.name, 'report.pdf');
      assert.equal(await ctx.store.inodes.child(library, space, dir.id, 'report (3).pdf'), undefined);
      assert.deepEqual(await ctx.store.inodes.childNames(library, space, dir.id, 'report'), [
        'report',
        'report (1).pdf',
        'report (2).pdf',
        'report.pdf',
      ]);
      assert.deepEqual(await ctx.store.inodes.childNames(library, space, dir.id, 'x'), []);
    });

    it('count counts one directory; countInSpace the whole space', async () => {
      const space = unique('space');
      const dir = inode(space, 'dir', 'd');
      await insertAll([
        dir,
        inode(space, 'dir', 'e'),
        inode(space, 'file', 'f'),
        inode(space, 'dir', 'sub', { parentId: dir.id }),
        inode(space, 'file', 'g', { parentId: dir.id }),
        inode(space, 'file', 'h', { parentId: dir.id }),
        inode(unique('space'), 'file', 'f'),
      ]);
      assert.deepEqual(await ctx.store.inodes.count(library, space, ''), { dirs: 2, files: 1 });
      assert.deepEqual(await ctx.store.inodes.count(library, space, dir.id), { dirs: 1, files: 2 });
      assert.deepEqual(await ctx.store.inodes.count(library, space, unique('dir')), { dirs: 0, files: 0 });
      assert.deepEqual(await ctx.store.inodes.countInSpace(library, space), { dirs: 3, files: 3 });
      assert.deepEqual(await ctx.store.inodes.countInSpace(library, unique('space')), { dirs: 0, files: 0 });
    });
  });

  describe('list', () => {
    const space = unique('space');
    const parent = unique('dir');
    // Names in UTF-8 byte order differ from UTF-16 order ('😀' against 'ｚ'); sizes and times tie, so the
    // name and id tie-breakers count.
    const entries: InodeRecord[] = [
      ['dir', 'zeta', 0, 5],
      ['dir', 'Alpha', 0, 5],
      ['dir', 'émile', 0, 1],
      ['file', 'beta.txt', 30, 3],
      ['file', 'alpha.txt', 10, 3],
      ['file', '😀.png', 10, 9],
      ['file', 'ｚ.txt', 20, 1],
      ['file', 'Zulu.txt', 10, 3],
      ['file', 'mid.txt', 20, 7],
    ].map(([type, name, size, time], i) =>
      inode(space, type as InodeType, name as string, {
        id: `inode-${String(9 - i)}`,
        parentId: parent,
        size: size as number,
        createdAt: NOW + (time as number),
        modifiedAt: NOW + 10 - (time as number),
      }),
    );
    const other = inode(space, 'file', 'elsewhere.txt', { parentId: unique('dir') });
    const query = { libraryId: library, spaceId: space, parentId: parent };
    before(() => insertAll([...entries, other]));

    it('orders by every column, either way, directories first or mixed, in byte order with tie-breakers', async () => {
      for (const orderBy of ORDERS)
        for (const descending of [false, true])
          for (const union of [false, true]) {
            const listed = await ctx.store.inodes.list({ ...query, orderBy, descending, union, limit: 100 });
            const expected = [...entries].sort(listingOrder(orderBy, descending, union));
            assert.deepEqual(
              listed.map((e) => e.name),
              expected.map((e) => e.name),
              `${orderBy} ${descending ? 'desc' : 'asc'} ${union ? 'union' : 'dirs first'}`,
            );
          }
      const [first] = await ctx.store.inodes.list({
        ...query,
        orderBy: 'name',
        descending: false,
        union: false,
        limit: 1,
      });
      assert.deepEqual(first, entries[1], 'full records');
    });

    it('pages by cursor and by offset without losing or repeating an entry', async () => {
      for (const orderBy of ORDERS)
        for (const descending of [false, true])
          for (const union of [false, true]) {
            const base = { ...query, orderBy, descending, union, limit: 2 };
            const expected = [...entries].sort(listingOrder(orderBy, descending, union)).map((e) => e.id);
            const byCursor: string[] = [];
            let after: InodeCursor | undefined;
            for (;;) {
              const page = await ctx.store.inodes.list({ ...base, ...(after ? { after } : {}) });
              byCursor.push(...page.map((e) => e.id));
              if (page.length < 2) break;
              after = cursorOf(page.at(-1)!, orderBy);
            }
            const label = `${orderBy} ${descending ? 'desc' : 'asc'} ${union ? 'union' : 'dirs first'}`;
            assert.deepEqual(byCursor, expected, `cursor: ${label}`);
            const byOffset: string[] = [];
            for (let offset = 0; offset < entries.length + 2; offset += 2)
              byOffset.push(...(await ctx.store.inodes.list({ ...base, offset })).map((e) => e.id));
            assert.deepEqual(byOffset, expected, `offset: ${label}`);
          }
    });

    it('filters directories or files', async () => {
      const list = (filter: 'onlyDir' | 'onlyFile') =>
        ctx.store.inodes.list({
          ...query,
          filter,
          orderBy: 'name',
          descending: false,
          union: false,
          limit: 100,
        });
      assert.deepEqual(
        (await list('onlyDir')).map((e) => e.name),
        ['Alpha', 'zeta', 'émile'],
      );
      assert.deepEqual(
        (await list('onlyFile')).map((e) => e.name),
        ['Zulu.txt', 'alpha.txt', 'beta.txt', 'mid.txt', 'ｚ.txt', '😀.png'],
      );
    });
  });

  describe('changes', () => {
    it('update replaces every field (a move and rename); onto a taken name it fails and changes nothing', async () => {
      const space = unique('space');
      const [dir, a, b] = [inode(space, 'dir', 'd'), inode(space, 'file', 'a'), inode(space, 'file', 'b')];
      await insertAll([dir, a, b]);
      const moved: InodeRecord = {
        ...a,
        parentId: dir.id,
        name: 'a2',
        size: 99,
        contentType: 'image/png',
        etag: 'ff'.repeat(16),
        objectKey: unique('key'),
        meta: { 'x-smh-meta-k': 'v' },
        attributes: { labels: ['l'] },
        modifiedAt: NOW + 50,
      };
      await ctx.store.inodes.update(moved);
      assert.deepEqual(await ctx.store.inodes.get(library, space, a.id), moved);
      assert.equal(await ctx.store.inodes.child(library, space, '', 'a'), undefined);
      await assert.rejects(ctx.store.inodes.update({ ...b, parentId: dir.id, name: 'a2' }));
      assert.deepEqual(await ctx.store.inodes.get(library, space, b.id), b);
      assert.deepEqual(await ctx.store.inodes.child(library, space, dir.id, 'a2'), moved);
    });

    it('setHashes records hashes only while the file holds the same bytes; findByHash finds them in the space', async () => {
      const space = unique('space');
      const file = inode(space, 'file', 'big.bin', { size: 4 * 2 ** 20 });
      const twin = inode(space, 'file', 'twin.bin', {
        size: 4 * 2 ** 20,
        beginningHash: 'b1',
        fullHash: 'f1',
      });
      const smaller = inode(space, 'file', 'small.bin', {
        size: 2 ** 20,
        beginningHash: 'b1',
        fullHash: 'f1',
      });
      const otherSpace = inode(unique('space'), 'file', 'x', { size: 4 * 2 ** 20, beginningHash: 'b1' });
      await insertAll([file, twin, smaller, otherSpace]);
      const hashes = { beginningHash: 'b1', fullHash: 'f2' };
      assert.equal(await ctx.store.inodes.setHashes(library, space, file.id, unique('key'), hashes), false);
      assert.equal(
        (await ctx.store.inodes.get(library, space, file.id))?.beginningHash,
        null,
        'bytes replaced',
      );
      assert.equal(
        await ctx.store.inodes.setHashes(library, unique('space'), file.id, file.objectKey!, hashes),
        false,
      );
      assert.equal(await ctx.store.inodes.setHashes(library, space, file.id, file.objectKey!, hashes), true);
      assert.deepEqual(await ctx.store.inodes.get(library, space, file.id), { ...file, ...hashes });
      const found = await ctx.store.inodes.findByHash(library, space, 4 * 2 ** 20, 'b1');
      assert.deepEqual(found.map((i) => i.id).sort(), [file.id, twin.id].sort());
      assert.deepEqual(await ctx.store.inodes.findByHash(library, space, 4 * 2 ** 20, 'b2'), []);
      assert.deepEqual(await ctx.store.inodes.findByHash(newLibraryId(), space, 4 * 2 ** 20, 'b1'), []);
    });

    it('descendants walks a subtree wider than one batch; delete removes any number of ids', async () => {
      const space = unique('space');
      const root = inode(space, 'dir', 'root');
      const sibling = inode(space, 'dir', 'sibling');
      const subdirs = Array.from({ length: 450 }, (_, i) =>
        inode(space, 'dir', `d${i}`, { parentId: root.id }),
      );
      const deep = inode(space, 'file', 'deep.txt', { parentId: subdirs[449]!.id });
      const deeper = inode(space, 'dir', 'deeper', { parentId: subdirs[3]!.id });
      const deepest = inode(space, 'file', 'deepest.txt', { parentId: deeper.id });
      const outside = inode(space, 'file', 'out.txt', { parentId: sibling.id });
      await insertAll([root, sibling, ...subdirs, deep, deeper, deepest, outside]);
      const found = await ctx.store.inodes.descendants(library, space, root.id);
      const expected = [...subdirs, deep, deeper, deepest];
      assert.equal(found.length, expected.length);
      assert.deepEqual(found.map((i) => i.id).sort(), expected.map((i) => i.id).sort());
      assert.deepEqual(
        found.find((i) => i.id === deepest.id),
        deepest,
      );
      assert.deepEqual(await ctx.store.inodes.descendants(library, unique('space'), root.id), []);
      await ctx.store.inodes.delete([]);
      await ctx.store.inodes.delete([root.id, ...found.map((i) => i.id)]);
      assert.deepEqual(await ctx.store.inodes.countInSpace(library, space), { dirs: 1, files: 1 });
      assert.deepEqual(await ctx.store.inodes.get(library, space, outside.id), outside);
    });
  });
});
