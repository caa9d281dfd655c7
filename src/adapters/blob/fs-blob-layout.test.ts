// Where FsBlobStore keeps blobs: one directory per first key character (36 at most, however many
// blobs), and blobs that stores written before 2026-11-22 keep at ROOT/ab/cd/<key> stay readable,
// copyable, listed and deletable.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BlobKey } from '../../core/ids.ts';
import { FsBlobStore } from './fs-blob-store.ts';

async function* body(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function readAll(store: FsBlobStore, key: BlobKey): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of await store.read(key)) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

describe('FsBlobStore layout', () => {
  let root: string;
  let store: FsBlobStore;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'mediahost-layout-'));
    store = new FsBlobStore(root, { fsyncDirectories: false });
    await store.init();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('keeps each blob directly under the directory of its first character', async () => {
    const keys = await Promise.all(
      Array.from({ length: 60 }, (_, i) => store.write(body(Buffer.from(`blob ${i}`)))),
    );
    const dirs = readdirSync(root).filter((name) => name !== '.tmp');
    assert.ok(dirs.length <= 36, `${dirs.length} directories for 60 blobs`);
    for (const { key } of keys) {
      assert.deepEqual(readdirSync(join(root, key[0]!)).includes(key), true, `${key} under ${key[0]}/`);
    }
    for (const dir of dirs) assert.equal(dir.length, 1);
  });

  it('makes a blob directory again if it was removed while the store was running', async () => {
    const first = await store.write(body(Buffer.from('first')));
    const dir = join(root, first.key[0]!);
    rmSync(dir, { recursive: true });
    // Keys are random: write until one lands in the removed directory.
    for (let i = 0; i < 500; i++) {
      const next = await store.write(body(Buffer.from(`again ${i}`)));
      if (next.key[0] === first.key[0]) {
        assert.equal((await readAll(store, next.key)).toString(), `again ${i}`);
        return;
      }
    }
    assert.fail('no key landed in the removed directory');
  });

  it('reads, copies, lists and deletes blobs of the two-level layout', async () => {
    const legacy = 'k7legacyblob0000000000000000000z' as BlobKey;
    const legacyDir = join(root, 'k7', 'le');
    mkdirSync(legacyDir, { recursive: true });
    writeFileSync(join(legacyDir, legacy), 'written by an older mediahost');

    assert.equal((await readAll(store, legacy)).toString(), 'written by an older mediahost');
    assert.equal(await store.size(legacy), 29);
    assert.equal(store.localPath(legacy), join(legacyDir, legacy));
    const copy = await store.copy(legacy);
    assert.equal((await readAll(store, copy.key)).toString(), 'written by an older mediahost');

    const fresh = await store.write(body(Buffer.from('new')));
    const listed = new Set<string>();
    for await (const info of store.list()) listed.add(info.key);
    for (const key of [legacy, copy.key, fresh.key]) assert.ok(listed.has(key), `listed ${key}`);

    await store.delete([legacy]);
    assert.equal(await store.size(legacy), undefined);
    assert.deepEqual(readdirSync(legacyDir), []);
    await assert.rejects(store.read(legacy), { name: 'BlobNotFoundError' });
  });
});
