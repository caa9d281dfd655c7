// The orphan sweep deletes a blob only when two passes found it unreferenced: a blob whose row commits
// between the passes (a write that had just finished when the first pass looked) is kept. The
// temporary-file sweep never takes the file of an upload still sending, however slowly. Stale
// multipart uploads are aborted, but not those behind a live SMH upload task.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobKey } from '../../src/core/ids.ts';
import { gatedBody } from '../helpers/gated-body.ts';
import { ObjectClient, xmlValue } from '../helpers/object-client.ts';
import { startTestServer, type TestClock, type TestServer, testClock } from '../helpers/server.ts';
import { cosFetch } from '../helpers/sign.ts';
import {
  bytesOf,
  createToken,
  expectJson,
  MiB,
  md5Hex,
  putParts,
  SmhClient,
  type TaskStatus,
  type UploadInfo,
  waitFor,
} from '../helpers/smh-client.ts';

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

describe('orphan sweep', { timeout: 240_000 }, () => {
  let server: TestServer;
  let clock: TestClock;

  before(async () => {
    clock = testClock();
    server = await startTestServer({ orphanGraceSeconds: 60, sweepIntervalSeconds: 3600 }, { clock });
  });

  after(async () => {
    await server?.close();
  });

  it('needs two passes to delete, and spares a blob referenced in between', async () => {
    const { blobs, sweeper, objects } = server.server.container;
    const orphan = await blobs.write(bytes('nobody points here'));
    const late = await blobs.write(bytes('a row is about to point here'));
    clock.advance(120_000); // both are now older than the grace period
    const present = async (key: BlobKey) => (await blobs.size(key)) !== undefined;

    await sweeper.sweep();
    assert.equal(await present(orphan.key), true, 'one pass only marks it');
    assert.equal(await present(late.key), true);

    // The write behind `late` commits its row now: an object whose segment is that blob.
    await objects.putObject({
      bucket: server.bucket as never,
      key: 'late.txt',
      dialect: 'cos',
      body: bytes('x'),
      declaredLength: 1,
      headers: { contentType: 'text/plain', storageClass: 'STANDARD', meta: {} },
      expect: {},
    });
    const object = await server.server.container.store.objects.get(server.bucket as never, 'late.txt');
    assert.ok(object);
    const [segment] = await server.server.container.store.objects.segments(object.id);
    // Point the object at `late` as the interrupted write would have (its own blob becomes the orphan).
    await server.server.container.store.transaction(async (tx) => {
      await tx.objects.put({ ...object, size: late.size }, [{ blobKey: late.key, size: late.size }]);
    });

    const second = await sweeper.sweep();
    assert.equal(await present(orphan.key), false, 'the second pass deletes it');
    assert.equal(await present(late.key), true, 'referenced by then: kept');
    assert.ok(second.orphanBlobs >= 1);
    // The blob the object pointed to before became an orphan before the second pass, which only
    // marked it; the third deletes it.
    assert.equal(await present(segment!.blobKey), true);
    await sweeper.sweep();
    assert.equal(await present(segment!.blobKey), false);
  });
});

describe('slow uploads and the temporary-file sweep', { timeout: 240_000 }, () => {
  const GRACE_SECONDS = 1;
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ orphanGraceSeconds: GRACE_SECONDS, sweepIntervalSeconds: 1 });
  });

  after(async () => {
    await server?.close();
  });

  it('an upload sending less than 1 MiB per grace period survives the sweeps and stores its bytes; abandoned files are still swept', async () => {
    const tmp = join(server.server.container.config.dataDir, 'blobs', '.tmp');
    const objects = new ObjectClient({ url: server.url, bucket: server.bucket, credentials: server });
    /** Plants an abandoned temporary file and waits until a sweep has removed it. */
    const oneSweep = async (n: number): Promise<void> => {
      const path = join(tmp, `abandoned-${n}`);
      writeFileSync(path, 'half a write');
      utimesSync(path, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      await waitFor(() => !existsSync(path), 30_000, `the sweep of abandoned file ${n}`);
    };

    // 400 KiB per round, each round longer than the grace period: the first direct write (1 MiB)
    // happens only in the third, and the last 400 KiB come after it.
    const chunk = 400 * 1024;
    const data = randomBytes(4 * chunk);
    const body = gatedBody();
    const answer = objects.request('PUT', 'slow.bin', {
      headers: { 'content-length': String(data.length) },
      body: body.stream,
    });
    let upload: string | undefined;
    for (let round = 0; round < 3; round++) {
      body.push(data.subarray(round * chunk, (round + 1) * chunk));
      if (upload === undefined) {
        await waitFor(() => readdirSync(tmp).length === 1, 30_000, "the upload's temporary file");
        upload = join(tmp, readdirSync(tmp)[0]!);
      }
      // Past the grace period since this round's bytes were sent...
      await sleep(GRACE_SECONDS * 1000 + 500);
      // ...two sweeps run: the second began after the first ended, so after the upload looked stale.
      await oneSweep(2 * round);
      await oneSweep(2 * round + 1);
      assert.ok(existsSync(upload), `the upload's temporary file survived the sweeps of round ${round}`);
    }
    body.push(data.subarray(3 * chunk));
    body.push(null);
    const res = await answer;
    assert.equal(res.status, 200, await res.text());
    const stored = await objects.get('slow.bin');
    assert.equal(stored.status, 200);
    assert.ok(stored.body.equals(data), 'the object has exactly the bytes sent');
    assert.deepEqual(readdirSync(tmp), []);
  });
});

describe('stale multipart uploads', { timeout: 240_000 }, () => {
  let server: TestServer;
  let clock: TestClock;

  before(async () => {
    clock = testClock();
    server = await startTestServer({ incompleteUploadMaxAgeHours: 1 }, { clock });
  });

  after(async () => {
    await server?.close();
  });

  it('are aborted, except those behind a live SMH upload task, which end with their task', async () => {
    const smh = new SmhClient({
      url: server.url,
      libraryId: server.libraryId,
      token: await createToken(server.url, server, { grant: 'upload_file' }),
    });
    const data = bytesOf('long upload', MiB + 300);
    const task = await smh.beginTask('multipart', 'long.bin');
    await putParts(task, [data.subarray(0, MiB)]);
    const creds = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
    const initiated = await cosFetch(server.url, creds, {
      method: 'POST',
      path: `/${server.bucket}/abandoned.bin`,
      query: { uploads: '' },
    });
    const uploadId = xmlValue(await initiated.text(), 'UploadId');
    assert.ok(uploadId);

    const later = 2 * 3600;
    clock.advance(later * 1000); // both uploads are older than --incomplete-upload-max-age-hours
    const report = await server.server.container.sweeper.sweep();
    assert.equal(report.staleUploads, 1, 'only the object API upload is stale');

    const listed = await cosFetch(server.url, creds, {
      method: 'GET',
      path: `/${server.bucket}/abandoned.bin`,
      query: { uploadId },
      window: { start: later - 60, end: later + 900 }, // signed on the server's (advanced) clock
    });
    assert.equal(listed.status, 404, 'the abandoned upload was aborted');
    assert.equal(xmlValue(await listed.text(), 'Code'), 'NoSuchUpload');

    // The SMH task is live (within its grace): its part is still there and it completes.
    const status = await expectJson<TaskStatus>(await smh.status(task.confirmKey), 200);
    assert.deepEqual(
      status.parts?.map((p) => p.Size),
      [MiB],
    );
    const renewed = await expectJson<UploadInfo>(await smh.renew(task.confirmKey), 200);
    await putParts(renewed, [data.subarray(MiB)], 2);
    await smh.confirmFile(task.confirmKey);
    const { body } = await smh.download('long.bin');
    assert.equal(md5Hex(body), md5Hex(data));
  });
});
