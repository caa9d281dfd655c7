// A server whose data dir is on a small, really filling filesystem (a loop-mounted ext4 image, so the
// blob store writes with direct I/O). Below --disk-reserve-mib every upload path answers its
// dialect's insufficient-storage error before reading a byte and /healthz says the disk is low; a
// disk that fills while a body streams in answers the same error instead of a 500 and keeps
// nothing; once space is freed, uploads work again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { blobFiles } from '../helpers/blob-files.ts';
import { gatedBody } from '../helpers/gated-body.ts';
import { ObjectClient, xmlValue } from '../helpers/object-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { mountSmallFs, type SmallFs } from '../helpers/small-fs.ts';
import { createToken, expectSmhError, SmhClient, uploadFile, waitFor } from '../helpers/smh-client.ts';
import { expectVodError, Vod } from '../helpers/vod-client.ts';

const MiB = 1024 * 1024;
const RESERVE_MIB = 8;

interface Health {
  status: string;
  disk: { status: string; freeBytes: number; totalBytes: number; reserveBytes: number };
}

describe('a full disk', { timeout: 300_000 }, () => {
  let disk: SmallFs;
  let server: TestServer;
  let dataDir: string;
  let s3: S3Client;
  let objects: ObjectClient;
  let smh: SmhClient;
  let vod: Vod;

  /** /healthz once it answers `status` (the server looks at the disk at most once a second). */
  const healthOnce = async (status: number): Promise<Health> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${server.url}/healthz`);
      const body = (await res.json()) as Health;
      if (res.status === status) return body;
      if (Date.now() > deadline) throw new Error(`/healthz stayed ${res.status}: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    disk = mountSmallFs('ext4', 64);
    dataDir = join(disk.dir, 'data');
    server = await startTestServer({ dataDir, diskReserveMib: RESERVE_MIB, workerConcurrency: 0 });
    s3 = new S3Client({
      region: 'ap-guangzhou',
      endpoint: server.url,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      // One attempt: the answer itself is under test, not the SDK's retries.
      maxAttempts: 1,
    });
    objects = new ObjectClient({ url: server.url, bucket: server.bucket, credentials: server });
    const token = await createToken(server.url, server, { grant: 'admin' });
    smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    vod = new Vod(server.url, server.libraryId, token);
  });

  after(async () => {
    s3?.destroy();
    await server?.close();
    disk?.unmount();
  });

  it('/healthz reports the free space of the data dir and its reserve', async () => {
    const health = await healthOnce(200);
    assert.equal(health.disk.status, 'ok');
    assert.equal(health.disk.reserveBytes, RESERVE_MIB * MiB);
    assert.ok(health.disk.totalBytes <= 64 * MiB && health.disk.totalBytes > 32 * MiB, 'the small disk');
    assert.ok(health.disk.freeBytes > RESERVE_MIB * MiB && health.disk.freeBytes <= health.disk.totalBytes);
  });

  it('below the reserve every upload path answers its dialect’s error and /healthz is 503, until space is freed', async () => {
    const filler = disk.fill((RESERVE_MIB / 2) * MiB);
    try {
      const low = await healthOnce(503);
      assert.equal(low.status, 'degraded');
      assert.equal(low.disk.status, 'low');
      assert.ok(low.disk.freeBytes < RESERVE_MIB * MiB);

      // Object API, S3 dialect (AWS SDK): 507 InsufficientStorage for PutObject and UploadPart.
      const refused = (status: number, code: string) => (err: unknown) => {
        const e = err as S3ServiceException;
        assert.equal(e.$metadata?.httpStatusCode, status, String(err));
        assert.equal(e.name, code);
        return true;
      };
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'low/put.bin', Body: randomBytes(1024) })),
        refused(507, 'InsufficientStorage'),
      );
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: 'low/multi.bin' }),
      );
      await assert.rejects(
        s3.send(
          new UploadPartCommand({
            Bucket: server.bucket,
            Key: 'low/multi.bin',
            UploadId,
            PartNumber: 1,
            Body: randomBytes(1024),
          }),
        ),
        refused(507, 'InsufficientStorage'),
      );

      // Object API, COS dialect: the XML error document.
      const put = await objects.put('low/cos.bin', randomBytes(1024));
      const xml = await put.text();
      assert.equal(put.status, 507, xml);
      assert.equal(xmlValue(xml, 'Code'), 'InsufficientStorage');
      assert.match(xmlValue(xml, 'Message') ?? '', /disk/);

      // SMH: begin is refused (the bytes would go to the object API above).
      await expectSmhError(
        await smh.begin('simple', 'low.txt', { query: { filesize: '1024' } }),
        507,
        'InsufficientStorage',
      );
      await expectSmhError(await smh.begin('multipart', 'low.bin'), 507, 'InsufficientStorage');

      // VOD: new media tasks are refused before their inputs are even looked at.
      await expectVodError(
        await vod.request('POST', 'asset/editing/tasks', { inputs: [{ asset_id: 'any' }] }),
        507,
        'VOD.10051',
      );
      await expectVodError(
        await vod.request('POST', 'asset/process', { asset_id: 'any', template_group_name: 'x' }, 'v1.0'),
        507,
        'VOD.10051',
      );

      assert.deepEqual(blobFiles(dataDir).temporary, [], 'no temporary file was begun');
    } finally {
      rmSync(filler);
    }

    const healthy = await healthOnce(200);
    assert.equal(healthy.disk.status, 'ok');
    const data = randomBytes(2 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'freed/put.bin', Body: data }));
    const got = await s3.send(new GetObjectCommand({ Bucket: server.bucket, Key: 'freed/put.bin' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    const file = await uploadFile(smh, 'freed.txt', Buffer.from('stored once the disk had room'));
    assert.equal(file.size, '29');
  });

  it('a disk that fills while a body streams in answers 507 InsufficientStorage and keeps nothing', async () => {
    await healthOnce(200);
    const before = blobFiles(dataDir).blobs.length;
    const data = randomBytes(4 * MiB);
    const body = gatedBody();
    const answer = objects.request('PUT', 'filling.bin', {
      headers: { 'content-length': String(data.length) },
      body: body.stream,
    });
    // The request passed the reserve check and its bytes are going to a temporary file...
    body.push(data.subarray(0, 256 * 1024));
    await waitFor(() => blobFiles(dataDir).temporary.length === 1, 30_000, 'the temporary file');
    // ...when the disk fills up (another writer took the rest).
    const filler = disk.fill(0);
    try {
      for (let off = 256 * 1024; off < data.length; off += 256 * 1024) {
        body.push(data.subarray(off, off + 256 * 1024));
      }
      body.push(null);
      const res = await answer;
      const xml = await res.text();
      assert.equal(res.status, 507, xml);
      assert.equal(xmlValue(xml, 'Code'), 'InsufficientStorage');
      assert.deepEqual(blobFiles(dataDir).temporary, [], 'the temporary file is removed');
      assert.equal(blobFiles(dataDir).blobs.length, before, 'no blob is left');
      assert.equal((await objects.request('HEAD', 'filling.bin')).status, 404, 'no object is recorded');
    } finally {
      rmSync(filler);
    }
    await healthOnce(200);
    const retry = await objects.put('filling.bin', data);
    assert.equal(retry.status, 200, await retry.text());
    const { status, body: stored } = await objects.get('filling.bin');
    assert.equal(status, 200);
    assert.ok(stored.equals(data));
  });
});
