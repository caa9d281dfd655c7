// kill -9 safety: a server process killed during part uploads and completes restarts into a
// consistent state (no partial part visible, no object with wrong bytes), the upload can be resumed,
// and the sweeper removes what the killed writes left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { blobFiles } from '../helpers/blob-files.ts';
import { heldBody } from '../helpers/held-body.ts';
import { md5Hex, ObjectClient, partBytes, xmlValue, xmlValues } from '../helpers/object-client.ts';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.ts';
import { WAIT_MS, waitFor } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const ROOT = join(import.meta.dirname, '..', '..');

function createLibrary(
  dataDir: string,
  name: string,
): { bucket: string; accessKeyId: string; secretAccessKey: string } {
  const out = execFileSync(
    process.execPath,
    [join(ROOT, 'bin', 'mediahost.js'), 'library', 'create', '--name', name, '--data-dir', dataDir, '--json'],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out);
}

const SERVER_ARGS = (dataDir: string) => [
  '--port',
  '0',
  '--data-dir',
  dataDir,
  '--orphan-grace-seconds',
  '0',
  '--sweep-interval-seconds',
  '1',
];

describe('crash recovery', { timeout: 180_000 }, () => {
  const dirs: string[] = [];
  let child: ChildServer | undefined;

  after(async () => {
    await child?.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a process killed while a part streams restarts consistent, and the upload resumes', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const lib = createLibrary(dataDir, 'crash');
    child = await spawnServer(SERVER_ARGS(dataDir));
    const client = (url: string) =>
      new ObjectClient({
        url,
        bucket: lib.bucket,
        credentials: { accessKeyId: lib.accessKeyId, secretAccessKey: lib.secretAccessKey },
      });
    const key = 'crash/video.bin';
    const parts = [partBytes(key, 1, MiB), partBytes(key, 2, 2 * MiB)];
    let c = client(child.url);
    const uploadId = await c.initiate(key);
    assert.equal((await c.uploadPart(key, uploadId, 1, parts[0]!)).status, 200);

    // Half the part goes out, then the body holds: the server is mid-part when it is killed.
    const slow = heldBody(parts[1]!.length, MiB, 64 * 1024);
    const streaming = c.uploadPart(key, uploadId, 2, slow.stream).catch((err: Error) => err);
    await slow.held;
    await child.kill('SIGKILL');
    assert.ok((await streaming) instanceof Error, 'the part upload died with the server');
    slow.release();

    child = await spawnServer(SERVER_ARGS(dataDir));
    c = client(child.url);
    const listed = await (await c.listParts(key, uploadId)).text();
    assert.deepEqual(
      xmlValues(listed, 'PartNumber'),
      ['1'],
      'only the part that finished before the kill is listed',
    );
    assert.equal(xmlValue(listed, 'ETag')?.replaceAll('"', ''), md5Hex(parts[0]!));

    assert.equal((await c.uploadPart(key, uploadId, 2, parts[1]!)).status, 200);
    const done = await c.complete(
      key,
      uploadId,
      parts.map((p, i) => ({ n: i + 1, etag: md5Hex(p) })),
    );
    assert.equal(done.status, 200, await done.text());
    assert.ok((await c.get(key)).body.equals(Buffer.concat(parts)));
    await waitFor(() => {
      const files = blobFiles(dataDir);
      return files.temporary.length === 0 && files.blobs.length === 2;
    }, WAIT_MS);
    await child.kill('SIGTERM');
    child = undefined;
  });

  it('kills at random moments of a busy workload never leave wrong bytes or unreachable blobs', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const lib = createLibrary(dataDir, 'chaos');
    const credentials = { accessKeyId: lib.accessKeyId, secretAccessKey: lib.secretAccessKey };
    const expected = new Map<string, Buffer>();
    const partSize = MiB + 1000;

    for (let round = 0; round < 4; round++) {
      child = await spawnServer(SERVER_ARGS(dataDir));
      const c = new ObjectClient({ url: child.url, bucket: lib.bucket, credentials });
      const work = Array.from({ length: 3 }, async (_, w) => {
        const key = `chaos/r${round}-w${w}`;
        const bytes = [1, 2, 3].map((n) => partBytes(key, n, partSize));
        expected.set(key, Buffer.concat(bytes));
        const single = `chaos/r${round}-w${w}-single`;
        const singleBytes = partBytes(single, 0, 300 * 1024);
        expected.set(single, singleBytes);
        await c.put(single, singleBytes);
        const uploadId = await c.initiate(key);
        await Promise.all(bytes.map((b, i) => c.uploadPart(key, uploadId, i + 1, b)));
        await c.complete(
          key,
          uploadId,
          bytes.map((b, i) => ({ n: i + 1, etag: md5Hex(b) })),
        );
      });
      const settled = Promise.allSettled(work);
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 600)));
      await child.kill('SIGKILL');
      await settled;
    }

    child = await spawnServer(SERVER_ARGS(dataDir));
    const c = new ObjectClient({ url: child.url, bucket: lib.bucket, credentials });
    let referenced = 0;
    for (const [key, bytes] of expected) {
      const got = await c.get(key);
      if (got.status === 404) continue;
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(bytes), `${key} has exactly the bytes that were uploaded`);
      referenced += key.endsWith('-single') ? 1 : 3;
    }
    const uploads = await (await c.request('GET', undefined, { query: { uploads: '' } })).text();
    const pending = xmlValues(uploads, 'Key').map((k, i) => ({
      key: k,
      uploadId: xmlValues(uploads, 'UploadId')[i]!,
    }));
    for (const { key, uploadId } of pending) {
      const listed = await (await c.listParts(key, uploadId)).text();
      const numbers = xmlValues(listed, 'PartNumber').map(Number);
      const etags = xmlValues(listed, 'ETag').map((e) => e.replaceAll('"', ''));
      for (const [i, n] of numbers.entries()) {
        assert.equal(etags[i], md5Hex(partBytes(key, n, partSize)), `part ${n} of ${key} is whole`);
      }
      referenced += numbers.length;
    }
    await waitFor(() => {
      const files = blobFiles(dataDir);
      return files.temporary.length === 0 && files.blobs.length === referenced;
    }, WAIT_MS);
    await child.kill('SIGTERM');
    child = undefined;
  });
});
