// The stores on a disk that is really full: small filesystems mounted for the test (test/helpers/
// small-fs.ts). A write the disk cannot take fails with AppError InsufficientStorage, leaves no
// temporary file, no blob and no half-recorded transaction, and once space is freed the same store
// works again. The filesystem blob store runs in both write modes: direct I/O on ext4, buffered on
// ext4 when asked and on tmpfs (which refuses O_DIRECT).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store.ts';
import type { KyselyMetadataStore } from '../../src/adapters/metadata/kysely-metadata-store.ts';
import { openSqliteStore } from '../../src/adapters/metadata/sqlite/store.ts';
import { AppError } from '../../src/core/errors.ts';
import type { BlobKey } from '../../src/core/ids.ts';
import { mountSmallFs, type SmallFs, type SmallFsKind } from '../helpers/small-fs.ts';

const MiB = 1024 * 1024;

/** The error of a full disk, with the system's own error kept as its cause. */
function isDiskFull(err: unknown): boolean {
  assert.ok(err instanceof AppError, `an AppError, not ${(err as Error)?.stack ?? err}`);
  assert.equal(err.code, 'InsufficientStorage');
  return true;
}

async function* body(data: Buffer): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += 100_000) yield data.subarray(off, off + 100_000);
}

async function bytes(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

const variants: { kind: SmallFsKind; directIo: boolean; name: string }[] = [
  { kind: 'ext4', directIo: true, name: 'ext4, direct I/O' },
  { kind: 'ext4', directIo: false, name: 'ext4, buffered' },
  { kind: 'tmpfs', directIo: true, name: 'tmpfs (refuses O_DIRECT: buffered)' },
];

for (const variant of variants) {
  describe(`FsBlobStore on a full disk: ${variant.name}`, { timeout: 120_000 }, () => {
    let fs: SmallFs;
    let root: string;
    let store: FsBlobStore;
    const temporary = (): string[] => readdirSync(join(root, '.tmp'));
    const blobCount = (): number =>
      readdirSync(root)
        .filter((d) => d !== '.tmp')
        .reduce((n, d) => n + readdirSync(join(root, d)).length, 0);

    before(async () => {
      fs = mountSmallFs(variant.kind, 32);
      root = join(fs.dir, 'blobs');
      store = new FsBlobStore(root, { fsyncDirectories: false, directIo: variant.directIo });
      await store.init();
    });

    after(() => {
      fs?.unmount();
    });

    it('a write larger than the free space fails with InsufficientStorage and leaves nothing', async () => {
      const kept = await store.write(body(randomBytes(2 * MiB)));
      const filler = fs.fill(3 * MiB);
      try {
        const before = blobCount();
        await assert.rejects(store.write(body(randomBytes(6 * MiB))), isDiskFull);
        assert.deepEqual(temporary(), [], 'the temporary file is removed');
        assert.equal(blobCount(), before, 'no blob is added');
        assert.equal(await store.size(kept.key), 2 * MiB, 'blobs already stored are untouched');
      } finally {
        rmSync(filler);
      }
      // Space freed: the same store writes again.
      const data = randomBytes(6 * MiB);
      const written = await store.write(body(data));
      assert.ok((await bytes(await store.read(written.key))).equals(data));
      await store.delete([written.key, kept.key]);
    });

    it('a write on a disk with no byte left fails the same way', async () => {
      const filler = fs.fill(0);
      try {
        await assert.rejects(store.write(body(randomBytes(MiB + 5))), isDiskFull);
        assert.deepEqual(temporary(), []);
      } finally {
        rmSync(filler);
      }
    });

    it('a copy the disk cannot take fails with InsufficientStorage and leaves nothing', async () => {
      const source = await store.write(body(randomBytes(4 * MiB)));
      const filler = fs.fill(MiB);
      try {
        const before = blobCount();
        await assert.rejects(store.copy(source.key), isDiskFull);
        assert.deepEqual(temporary(), []);
        assert.equal(blobCount(), before);
      } finally {
        rmSync(filler);
      }
      const copy = await store.copy(source.key);
      assert.equal(await store.size(copy.key as BlobKey), 4 * MiB);
      await store.delete([source.key, copy.key]);
    });
  });
}

describe('SQLite metadata store on a full disk', { timeout: 120_000 }, () => {
  let fs: SmallFs;
  let store: KyselyMetadataStore;

  before(async () => {
    fs = mountSmallFs('tmpfs', 16);
    store = await openSqliteStore({ path: join(fs.dir, 'mediahost.db') });
  });

  after(async () => {
    await store?.close();
    fs?.unmount();
  });

  it('"database or disk is full" is InsufficientStorage, the transaction leaves nothing, and space freed heals it', async () => {
    assert.equal(await store.settings.putIfAbsent('before', 'fits'), 'fits');
    const filler = fs.fill(0);
    let failedAt: number | undefined;
    try {
      // Each transaction records two rows; the write-ahead log needs new pages within a few of them.
      const value = 'v'.repeat(3000);
      for (let i = 0; i < 2000 && failedAt === undefined; i++) {
        try {
          await store.transaction(async (tx) => {
            await tx.settings.putIfAbsent(`a${i}`, value);
            await tx.settings.putIfAbsent(`b${i}`, value);
          });
        } catch (err) {
          isDiskFull(err);
          failedAt = i;
        }
      }
      assert.ok(failedAt !== undefined, 'the full disk refused a transaction');
      assert.equal(await store.settings.get(`a${failedAt}`), undefined, 'nothing of it was recorded');
      assert.equal(await store.settings.get(`b${failedAt}`), undefined);
    } finally {
      rmSync(filler);
    }
    // Space freed: the same store records again, and what was committed before is still there.
    await store.transaction(async (tx) => {
      await tx.settings.putIfAbsent('after-a', 'x');
      await tx.settings.putIfAbsent('after-b', 'y');
    });
    assert.equal(await store.settings.get('after-b'), 'y');
    assert.equal(await store.settings.get('before'), 'fits');
    if (failedAt! > 0) assert.equal(await store.settings.get(`b${failedAt! - 1}`), 'v'.repeat(3000));
  });
});
