// Contract suite of the BlobStore port (src/ports/blob-store.ts), run against every implementation
// through a factory: each implementation says how to make an empty store and how to inspect what its
// failed writes left behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store.ts';
import { S3BlobStore } from '../../src/adapters/blob/s3-blob-store.ts';
import { createS3Client, s3BucketSettings } from '../../src/adapters/s3/s3-bucket.ts';
import { defaultConfig } from '../../src/config/load.ts';
import type { BlobKey } from '../../src/core/ids.ts';
import { type BlobInfo, BlobNotFoundError, type BlobStore } from '../../src/ports/blob-store.ts';
import { startTestServer, testClock } from '../helpers/server.ts';
import { WAIT_MS, waitFor } from '../helpers/wait.ts';

interface StoreUnderTest {
  store: BlobStore;
  /** Every stored file (or upload) that is not a committed blob: what a failed write may have left. */
  leftovers(): Promise<string[]>;
  /** Plants an unfinished write (temporary file, multipart upload) begun at `mtimeMs`; returns its name. */
  plantTemporary(mtimeMs: number): Promise<string>;
  /** Another instance over the same storage, as another node or process would have. */
  otherNode(): BlobStore;
  /** When an unfinished write last stored bytes, as another node sees it (0 without one). */
  lastActivity(): Promise<number>;
  dispose(): Promise<void>;
}

interface Implementation {
  name: string;
  create(): Promise<StoreUnderTest>;
}

/** Every file under dir, relative to it. */
function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** The filesystem store, with direct I/O (the default where the filesystem allows it) or buffered. */
function fsImplementation(directIo: boolean): Implementation {
  return {
    name: directIo ? 'fs (direct I/O)' : 'fs (buffered)',
    async create() {
      const root = mkdtempSync(join(tmpdir(), 'mediahost-blobs-'));
      // Directory fsyncs only cost time here; durability is not what this suite can observe.
      const options = { fsyncDirectories: false, directIo };
      const store = new FsBlobStore(root, options);
      await store.init();
      return {
        store,
        async leftovers() {
          const committed = /^[a-z0-9]\/[a-z0-9]+$/;
          const files = walk(root);
          const stray = files.filter((f) => !f.startsWith('.tmp/') && !committed.test(f));
          assert.deepEqual(stray, [], 'no file outside .tmp/ except committed blobs');
          return files.filter((f) => f.startsWith('.tmp/'));
        },
        otherNode() {
          return new FsBlobStore(root, options);
        },
        async lastActivity() {
          const tmp = join(root, '.tmp');
          return Math.max(0, ...readdirSync(tmp).map((name) => statSync(join(tmp, name)).mtimeMs));
        },
        async plantTemporary(mtimeMs) {
          const name = `planted${randomBytes(4).toString('hex')}`;
          const path = join(root, '.tmp', name);
          writeFileSync(path, 'half a write');
          utimesSync(path, mtimeMs / 1000, mtimeMs / 1000);
          assert.equal(Math.round(statSync(path).mtimeMs / 1000), Math.round(mtimeMs / 1000));
          return name;
        },
        async dispose() {
          rmSync(root, { recursive: true, force: true });
        },
      };
    },
  };
}

const implementations: Implementation[] = [
  fsImplementation(true),
  fsImplementation(false),
  {
    // The store of scale-out mode, over a real S3 endpoint: a second mediahost's object API.
    name: 's3 (over a mediahost object endpoint)',
    async create() {
      const clock = testClock();
      const external = await startTestServer({}, { clock });
      const settings = s3BucketSettings(
        defaultConfig({
          blob: 's3',
          s3Endpoint: external.url,
          s3Bucket: external.bucket,
          s3AccessKeyId: external.accessKeyId,
          s3SecretAccessKey: external.secretAccessKey,
          s3Prefix: 'contract/',
        }),
      );
      const client = createS3Client(settings);
      const prefix = 'contract/blobs/';
      return {
        store: new S3BlobStore(settings, client),
        otherNode: () => new S3BlobStore(settings, client),
        async lastActivity() {
          const { Uploads = [] } = await client.send(
            new ListMultipartUploadsCommand({ Bucket: settings.bucket, Prefix: prefix }),
          );
          let latest = 0;
          for (const { Key, UploadId } of Uploads) {
            const { Parts = [] } = await client.send(
              new ListPartsCommand({ Bucket: settings.bucket, Key, UploadId }),
            );
            for (const part of Parts) latest = Math.max(latest, part.LastModified?.getTime() ?? 0);
          }
          return latest;
        },
        async leftovers() {
          const objects = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket }));
          const stray = (objects.Contents ?? [])
            .map((o) => o.Key ?? '')
            .filter((k) => !/^contract\/blobs\/[a-z0-9]+$/.test(k));
          assert.deepEqual(stray, [], 'no object except committed blobs');
          const uploads = await client.send(
            new ListMultipartUploadsCommand({ Bucket: settings.bucket, Prefix: prefix }),
          );
          return (uploads.Uploads ?? []).map((u) => `${u.Key}#${u.UploadId}`);
        },
        async plantTemporary(mtimeMs) {
          // The store stamps an upload with its own clock: move it (and the signing clock) back.
          const offset = mtimeMs - Date.now();
          const planter = createS3Client(settings);
          planter.config.systemClockOffset = offset;
          clock.advance(offset);
          try {
            const created = await planter.send(
              new CreateMultipartUploadCommand({ Bucket: settings.bucket, Key: `${prefix}planted` }),
            );
            return created.UploadId ?? '';
          } finally {
            clock.advance(-offset);
            planter.destroy();
          }
        },
        async dispose() {
          client.destroy();
          await external.close();
        },
      };
    },
  },
];

async function* chunksOf(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function bytes(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

async function listAll(store: BlobStore): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of store.list()) out.push(info);
  return out;
}

async function listedKeys(store: BlobStore): Promise<Set<BlobKey>> {
  return new Set((await listAll(store)).map((b) => b.key));
}

for (const impl of implementations) {
  describe(`BlobStore contract: ${impl.name}`, { timeout: 300_000 }, () => {
    let sut: StoreUnderTest;
    let store: BlobStore;

    before(async () => {
      sut = await impl.create();
      store = sut.store;
    });

    after(async () => {
      await sut?.dispose();
    });

    it('write returns the key and size, and read gives the bytes back', async () => {
      const written = await store.write(chunksOf('hello, ', 'blob ', 'world'));
      assert.equal(written.size, 17);
      assert.equal((await bytes(await store.read(written.key))).toString(), 'hello, blob world');
      assert.equal(await store.size(written.key), 17);
    });

    it('an empty source makes an empty blob', async () => {
      const written = await store.write(chunksOf());
      assert.equal(written.size, 0);
      assert.equal((await bytes(await store.read(written.key))).length, 0);
    });

    it('reads inclusive byte ranges', async () => {
      const data = Buffer.from('0123456789abcdef');
      const { key } = await store.write(chunksOf(data));
      const range = async (start?: number, end?: number) =>
        (
          await bytes(
            await store.read(key, {
              ...(start === undefined ? {} : { start }),
              ...(end === undefined ? {} : { end }),
            }),
          )
        ).toString();
      assert.equal(await range(0, 0), '0', 'first byte');
      assert.equal(await range(5, 9), '56789', 'middle');
      assert.equal(await range(15, 15), 'f', 'last byte');
      assert.equal(await range(10), 'abcdef', 'start only');
      assert.equal(await range(undefined, 3), '0123', 'end only');
      assert.equal(await range(0, 15), data.toString(), 'whole blob');
    });

    it('read, copy and size of a missing key: BlobNotFoundError / undefined', async () => {
      const { key } = await store.write(chunksOf('soon gone'));
      await store.delete([key]);
      await assert.rejects(store.read(key), BlobNotFoundError);
      await assert.rejects(store.read(key, { start: 1, end: 2 }), BlobNotFoundError);
      await assert.rejects(store.copy(key), BlobNotFoundError);
      assert.equal(await store.size(key), undefined);
    });

    it('delete removes blobs, is idempotent and ignores missing keys', async () => {
      const a = await store.write(chunksOf('a'));
      const b = await store.write(chunksOf('b'));
      const kept = await store.write(chunksOf('kept'));
      await store.delete([a.key, b.key]);
      await store.delete([a.key, b.key]);
      await store.delete([]);
      const keys = await listedKeys(store);
      assert.ok(!keys.has(a.key) && !keys.has(b.key));
      assert.ok(keys.has(kept.key));
      await assert.rejects(store.read(a.key), BlobNotFoundError);
      assert.equal((await bytes(await store.read(kept.key))).toString(), 'kept');
    });

    it('a write whose source throws midway leaves no blob and no temporary file', async () => {
      const before = await listedKeys(store);
      const boom = new Error('source failed');
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield randomBytes(64 * 1024);
        yield randomBytes(64 * 1024);
        throw boom;
      }
      await assert.rejects(store.write(failing()), (err) => err === boom);
      assert.deepEqual(await listedKeys(store), before);
      assert.deepEqual(await sut.leftovers(), []);
    });

    it('a write failing after 12 MiB (past the first part of a multipart upload) leaves nothing', async () => {
      const before = await listedKeys(store);
      const boom = new Error('source failed late');
      async function* failing(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < 12; i++) yield randomBytes(1024 * 1024);
        throw boom;
      }
      await assert.rejects(store.write(failing()), (err) => err === boom);
      assert.deepEqual(await listedKeys(store), before);
      assert.deepEqual(await sut.leftovers(), []);
    });

    it('an aborted write leaves no blob and no temporary file', async () => {
      const before = await listedKeys(store);
      const ac = new AbortController();
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield randomBytes(64 * 1024);
        ac.abort();
        yield randomBytes(64 * 1024);
        yield randomBytes(64 * 1024);
      }
      await assert.rejects(store.write(slow(), { signal: ac.signal }), { name: 'AbortError' });
      assert.deepEqual(await listedKeys(store), before);
      assert.deepEqual(await sut.leftovers(), []);
    });

    it('an abort while the source is stalled ends the write promptly, leaving nothing', async () => {
      const before = await listedKeys(store);
      const ac = new AbortController();
      const release = new AbortController();
      let stalling: () => void = () => {};
      const reachedStall = new Promise<void>((resolve) => {
        stalling = resolve;
      });
      async function* stalled(): AsyncGenerator<Uint8Array> {
        yield randomBytes(1024);
        // A client that stops sending: nothing arrives until the test releases it.
        stalling();
        await sleep(60_000, undefined, { signal: release.signal }).catch(() => {});
        yield randomBytes(1024);
      }
      const started = Date.now();
      try {
        const writing = store.write(stalled(), { signal: ac.signal });
        await reachedStall;
        ac.abort();
        await assert.rejects(writing, { name: 'AbortError' });
        // The source stalls for a minute: an end well before that did not wait for it.
        assert.ok(Date.now() - started < 30_000, 'the write did not wait for the stalled source');
      } finally {
        release.abort();
      }
      assert.deepEqual(await listedKeys(store), before);
      assert.deepEqual(await sut.leftovers(), []);
    });

    it('a write with an already aborted signal stores nothing', async () => {
      const before = await listedKeys(store);
      await assert.rejects(store.write(chunksOf('x'), { signal: AbortSignal.abort() }), {
        name: 'AbortError',
      });
      assert.deepEqual(await listedKeys(store), before);
      assert.deepEqual(await sut.leftovers(), []);
    });

    it('copy makes an independent blob with the same bytes', async () => {
      const original = await store.write(chunksOf('copy me'));
      const copy = await store.copy(original.key);
      assert.notEqual(copy.key, original.key);
      assert.equal(copy.size, 7);
      await store.delete([original.key]);
      assert.equal((await bytes(await store.read(copy.key))).toString(), 'copy me');
      await assert.rejects(store.read(original.key), BlobNotFoundError);
    });

    it('list yields every committed blob with its modification time', async () => {
      const t0 = Date.now();
      const written = [
        await store.write(chunksOf('one')),
        await store.write(chunksOf('two')),
        await store.write(chunksOf('three')),
      ];
      const listed = new Map((await listAll(store)).map((b) => [b.key, b.modifiedAt]));
      for (const { key } of written) {
        const modifiedAt = listed.get(key);
        assert.ok(modifiedAt !== undefined, `listed ${key}`);
        // Filesystem timestamps may be truncated to the second, or a little behind the clock.
        assert.ok(
          modifiedAt >= t0 - 2_000 && modifiedAt <= Date.now() + 2_000,
          `plausible mtime ${modifiedAt}`,
        );
      }
    });

    it('list stops when its signal is aborted', async () => {
      await store.write(chunksOf('something to list'));
      const iterate = async () => {
        for await (const _ of store.list({ signal: AbortSignal.abort() })) {
          // nothing: the abort must end the iteration with an error
        }
      };
      await assert.rejects(iterate(), { name: 'AbortError' });
    });

    it('sweepTemporary removes stale temporary files and keeps fresh ones', async () => {
      const now = Date.now();
      const stale = await sut.plantTemporary(now - 3_600_000);
      const fresh = await sut.plantTemporary(now);
      const committed = await store.write(chunksOf('committed'));
      const removed = await store.sweepTemporary(now - 600_000);
      assert.ok(removed >= 1, `removed ${removed}`);
      const left = (await sut.leftovers()).join('\n');
      assert.ok(!left.includes(stale), 'stale file removed');
      assert.ok(left.includes(fresh), 'fresh file kept');
      assert.equal((await bytes(await store.read(committed.key))).toString(), 'committed');
      assert.equal(await store.sweepTemporary(now - 600_000), 0, 'nothing stale left');
      await store.sweepTemporary(now + 60_000);
      assert.deepEqual(await sut.leftovers(), []);
    });

    it('sweepTemporary on another node spares a write begun before the cutoff that is still sending', async () => {
      const MiB = 1024 * 1024;
      let cutoff = 0;
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let reachedStall: () => void = () => {};
      const stalled = new Promise<void>((resolve) => {
        reachedStall = resolve;
      });
      async function* source(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < 6; i++) yield randomBytes(MiB);
        // The write has begun (a temporary file, a multipart upload) before the cutoff.
        await waitFor(async () => (await sut.leftovers()).length === 1, WAIT_MS, 'the write begun');
        // Sleeps only to step past the clock's resolution (file times lag it by a tick).
        await sleep(20);
        cutoff = Date.now();
        await sleep(20);
        for (let i = 0; i < 6; i++) yield randomBytes(MiB);
        // Another node sees stored bytes only: wait until some sent after the cutoff are.
        await waitFor(
          async () => (await sut.lastActivity()) >= cutoff,
          WAIT_MS,
          'bytes stored after the cutoff',
        );
        reachedStall();
        await released;
        yield randomBytes(1000);
      }
      const writing = store.write(source());
      await stalled;
      assert.equal(await sut.otherNode().sweepTemporary(cutoff), 0, 'nothing swept while it sends');
      release();
      const written = await writing;
      assert.equal(written.size, 12 * MiB + 1000);
      assert.equal(await store.size(written.key), 12 * MiB + 1000);
      await store.delete([written.key]);
    });

    it('keys are opaque: the same bytes get distinct keys, unrelated to the content', async () => {
      const content = 'a/b/../../etc/passwd';
      const a = await store.write(chunksOf(content));
      const b = await store.write(chunksOf(content));
      assert.notEqual(a.key, b.key);
      for (const key of [a.key, b.key]) {
        assert.ok(key.length > 0);
        assert.ok(!key.includes(content) && !key.includes('/') && !key.includes('..'));
        assert.equal((await bytes(await store.read(key))).toString(), content);
      }
    });

    it('bodies of lengths around block and buffer edges, in odd chunks, round-trip exactly', async () => {
      const MiB = 1024 * 1024;
      for (const length of [1, 4095, 4096, 4097, MiB - 1, MiB, MiB + 1, 2 * MiB + 4099, 3 * MiB]) {
        const data = randomBytes(length);
        async function* source(): AsyncGenerator<Uint8Array> {
          for (let off = 0; off < length; off += 77_777) yield data.subarray(off, off + 77_777);
        }
        const written = await store.write(source());
        assert.equal(written.size, length, `size of ${length}`);
        assert.equal(await store.size(written.key), length, `stored size of ${length}`);
        assert.ok((await bytes(await store.read(written.key))).equals(data), `bytes of ${length}`);
        await store.delete([written.key]);
      }
    });

    it('a 32 MiB write streamed in 64 KiB chunks round-trips', { timeout: 240_000 }, async () => {
      const chunk = 64 * 1024;
      const count = 512;
      const sent = createHash('sha256');
      async function* source(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < count; i++) {
          const c = randomBytes(chunk);
          sent.update(c);
          yield c;
        }
      }
      const written = await store.write(source());
      assert.equal(written.size, chunk * count);
      assert.equal(await store.size(written.key), chunk * count);
      const received = createHash('sha256');
      let size = 0;
      for await (const c of await store.read(written.key)) {
        received.update(c as Buffer);
        size += (c as Buffer).length;
      }
      assert.equal(size, chunk * count);
      assert.equal(received.digest('hex'), sent.digest('hex'));
      const tail = await bytes(await store.read(written.key, { start: chunk * count - 10 }));
      assert.equal(tail.length, 10);
      await store.delete([written.key]);
    });
  });
}
