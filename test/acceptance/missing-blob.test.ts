// A blob that is gone under a running server (a restore that missed it, a disk fault): the object API
// answers its own XML InternalError with the request id and logs the cause with that id, whether the
// object is read through the object API or through an SMH download; nothing internal reaches the
// client. A blob missing past the first bytes can only break the connection, and is logged too.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type RunningServer, startServer } from '../../src/app/lifecycle.ts';
import { defaultConfig } from '../../src/config/load.ts';
import type { BlobKey, BucketName } from '../../src/core/ids.ts';
import { blobFiles } from '../helpers/blob-files.ts';
import { ObjectClient, partBytes, xmlValue } from '../helpers/object-client.ts';
import { tempDir } from '../helpers/server.ts';
import { bytesOf, createToken, MiB, SmhClient, uploadFile } from '../helpers/smh-client.ts';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  err?: { type: string; message: string };
}

describe('a missing blob', { timeout: 180_000 }, () => {
  let server: RunningServer;
  let dataDir: string;
  let objects: ObjectClient;
  let bucket: string;
  const logs: LogLine[] = [];

  before(async () => {
    dataDir = tempDir();
    const logger = pino(
      { level: 'info', base: { service: 'mediahost' } },
      { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
    );
    server = await startServer(defaultConfig({ host: '127.0.0.1', port: 0, dataDir }), { logger });
    const created = server.createdLibrary!;
    bucket = created.library.bucket;
    objects = new ObjectClient({
      url: server.url,
      bucket,
      credentials: { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey },
    });
  });

  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Deletes the files of the object's blobs (segment `only`, or all), as a bad restore would. */
  async function loseBlobs(key: string, only?: number): Promise<string[]> {
    const { store, blobs } = server.container;
    const object = await store.objects.get(bucket as BucketName, key);
    assert.ok(object, `object ${key}`);
    const segments = await store.objects.segments(object.id);
    const lost = only === undefined ? segments : [segments[only]!];
    for (const s of lost) rmSync(blobs.localPath!(s.blobKey));
    return lost.map((s) => s.blobKey);
  }

  /** The answer is the object API's InternalError, its cause logged with the same request id. */
  async function expectInternalError(res: Response, lostKeys: readonly string[]): Promise<void> {
    const text = await res.text();
    assert.equal(res.status, 500, text);
    assert.equal(res.headers.get('content-type'), 'application/xml');
    assert.equal(xmlValue(text, 'Code'), 'InternalError');
    const requestId = res.headers.get('x-cos-request-id');
    assert.ok(requestId);
    assert.equal(xmlValue(text, 'RequestId'), requestId);
    for (const key of lostKeys) assert.doesNotMatch(text, new RegExp(key), 'no internal detail leaks');
    assert.equal(res.headers.get('etag'), null, 'no header of the object it could not send');
    const logged = logs.find((l) => l.reqId === requestId && l.level >= 50);
    assert.ok(logged, `an error logged with request id ${requestId}`);
    assert.equal(logged.err?.type, 'BlobNotFoundError');
  }

  it('answers an object API GET with InternalError, logged with the request id', async () => {
    assert.equal((await objects.put('gone.txt', Buffer.from('soon gone'))).status, 200);
    const lost = await loseBlobs('gone.txt');
    await expectInternalError(await objects.request('GET', 'gone.txt'), lost);
    const ranged = await objects.request('GET', 'gone.txt', { headers: { range: 'bytes=2-4' } });
    await expectInternalError(ranged, lost);
  });

  it('answers the download of an SMH file the same way', async () => {
    const created = server.createdLibrary!;
    const smh = new SmhClient({
      url: server.url,
      libraryId: created.library.id,
      token: await createToken(server.url, { ...created, libraryId: created.library.id }, { grant: 'admin' }),
    });
    const before = new Set(blobFiles(dataDir).blobs);
    await uploadFile(smh, 'photo.jpg', bytesOf('photo', 5000));
    const lost = blobFiles(dataDir).blobs.filter((b) => !before.has(b));
    assert.equal(lost.length, 1, 'the file is one blob');
    rmSync(server.container.blobs.localPath!(lost[0] as BlobKey));
    const redirect = await smh.request('GET', 'file', 'photo.jpg');
    assert.equal(redirect.status, 302, await redirect.text());
    await expectInternalError(await fetch(redirect.headers.get('location')!), lost);
  });

  it('breaks the connection when a later blob is missing, and logs it with the request id', async () => {
    const uploadId = await objects.initiate('parts.bin');
    const parts = [partBytes('parts', 1, MiB), partBytes('parts', 2, 1000)];
    const etags: { n: number; etag: string }[] = [];
    for (const [i, body] of parts.entries()) {
      const res = await objects.uploadPart('parts.bin', uploadId, i + 1, body);
      assert.equal(res.status, 200, await res.text());
      etags.push({ n: i + 1, etag: res.headers.get('etag')!.replaceAll('"', '') });
    }
    assert.equal((await objects.complete('parts.bin', uploadId, etags)).status, 200);
    await loseBlobs('parts.bin', 1);
    const res = await objects.request('GET', 'parts.bin');
    assert.equal(res.status, 200, 'the first blob was there: the headers went out');
    const requestId = res.headers.get('x-cos-request-id');
    await assert.rejects(res.arrayBuffer(), 'the body ends early, never silently short');
    const deadline = Date.now() + 30_000;
    while (!logs.some((l) => l.reqId === requestId && l.level >= 50)) {
      if (Date.now() > deadline) throw new Error(`no error logged with request id ${requestId}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
