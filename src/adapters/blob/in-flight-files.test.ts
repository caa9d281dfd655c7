// A temporary file whose write is still going on is never swept, however slowly its body arrives:
// the store's own sweep skips it, and its modification time is refreshed so that a sweep in another
// process (which can only judge by age) spares it too. Abandoned temporary files are still swept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { WAIT_MS, waitFor } from '../../../test/helpers/wait.ts';
import { FsBlobStore } from './fs-blob-store.ts';

async function bytes(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

/** A body that sends `head`, then waits for release() before sending `tail`. */
function stalledBody(head: Buffer, tail: Buffer): { source: AsyncIterable<Uint8Array>; release(): void } {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  async function* source(): AsyncGenerator<Uint8Array> {
    yield head;
    await released;
    yield tail;
  }
  return { source: source(), release: () => release() };
}

for (const directIo of [true, false]) {
  describe(`temporary files of writes in progress (${directIo ? 'direct I/O' : 'buffered'})`, () => {
    let root: string;
    const tmp = (): string => join(root, '.tmp');

    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'mediahost-inflight-'));
    });

    afterEach(() => {
      rmSync(root, { recursive: true, force: true });
    });

    it("the store's own sweep skips a write in progress however old it looks, and still takes an abandoned file", async () => {
      const store = new FsBlobStore(root, { fsyncDirectories: false, directIo });
      await store.init();
      // Smaller than a write batch: nothing reaches the file until the body goes on.
      const head = randomBytes(1000);
      const tail = randomBytes(3 * 1024 * 1024);
      const body = stalledBody(head, tail);
      const writing = store.write(body.source);
      await waitFor(() => readdirSync(tmp()).length === 1, WAIT_MS, 'the temporary file');
      const [inFlight] = readdirSync(tmp());
      const abandoned = join(tmp(), 'abandoned');
      writeFileSync(abandoned, 'half a write');
      utimesSync(abandoned, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));

      // A cutoff an hour ahead: every file looks older than the grace period.
      assert.equal(await store.sweepTemporary(Date.now() + 3_600_000), 1);
      assert.deepEqual(readdirSync(tmp()), [inFlight], 'only the abandoned file is gone');

      body.release();
      const written = await writing;
      assert.equal(written.size, head.length + tail.length);
      assert.ok((await bytes(await store.read(written.key))).equals(Buffer.concat([head, tail])));
      assert.deepEqual(readdirSync(tmp()), []);
    });

    it("a write in progress keeps a fresh modification time, so another process's sweep spares it", async () => {
      const store = new FsBlobStore(root, { fsyncDirectories: false, directIo, keepAliveMs: 50 });
      await store.init();
      const head = randomBytes(1000);
      const tail = randomBytes(2 * 1024 * 1024);
      const body = stalledBody(head, tail);
      const writing = store.write(body.source);
      await waitFor(() => readdirSync(tmp()).length === 1, WAIT_MS, 'the temporary file');
      const path = join(tmp(), readdirSync(tmp())[0]!);
      // The body stalls after bytes that are not written yet: only the refresh can move the time on.
      const cutoff = Date.now();
      await waitFor(() => statSync(path).mtimeMs > cutoff, WAIT_MS, 'a refreshed modification time');

      const otherProcess = new FsBlobStore(root, { fsyncDirectories: false, directIo });
      assert.equal(await otherProcess.sweepTemporary(cutoff), 0);
      assert.ok(existsSync(path));

      body.release();
      const written = await writing;
      assert.ok((await bytes(await store.read(written.key))).equals(Buffer.concat([head, tail])));
    });
  });
}
