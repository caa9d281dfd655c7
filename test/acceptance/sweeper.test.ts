// The orphan sweep deletes a blob only when two passes found it unreferenced: a blob whose row commits
// between the passes (a write that had just finished when the first pass looked) is kept. Stale
// multipart uploads are aborted, but not those behind a live SMH upload task.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BlobKey } from '../../src/core/ids.ts';
import { xmlValue } from '../helpers/object-client.ts';
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
