// Contract suite of the ObjectStore port (src/ports/object-store.ts): the embedded store (mediahost's
// own object API) and the external S3 store of scale-out mode, with SigV4 and with COS grants, the
// external store being a second mediahost whose object endpoint is a real S3 server. Bytes are sent
// the way clients send them: with the grants the store signs, over HTTP.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { S3ObjectStore } from '../../src/adapters/object-store/s3-object-store.ts';
import { createS3Client, s3BucketSettings } from '../../src/adapters/s3/s3-bucket.ts';
import { defaultConfig } from '../../src/config/load.ts';
import { isAppError } from '../../src/core/errors.ts';
import type { LibraryRecord } from '../../src/core/libraries/model.ts';
import type { ObjectLocation, ObjectStore, UploadGrant } from '../../src/ports/object-store.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';

const MiB = 1024 * 1024;
const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

interface Implementation {
  name: string;
  /** The store under test and the library its objects belong to. */
  create(external: TestServer): Promise<{ store: ObjectStore; library: LibraryRecord; dispose(): void }>;
}

const s3Implementation = (grantSignature: 'sigv4' | 'cos'): Implementation => ({
  name: `s3 with ${grantSignature} grants (over a mediahost object endpoint)`,
  async create(external) {
    const settings = s3BucketSettings(
      defaultConfig({
        blob: 's3',
        s3Endpoint: external.url,
        s3Bucket: external.bucket,
        s3AccessKeyId: external.accessKeyId,
        s3SecretAccessKey: external.secretAccessKey,
        s3Prefix: `contract-${grantSignature}/`,
        s3GrantSignature: grantSignature,
      }),
    );
    const client = createS3Client(settings);
    const store = new S3ObjectStore({ settings, client, clock: { now: () => Date.now() } });
    const library = { id: 'smhcontract', bucket: 'unused-1' } as unknown as LibraryRecord;
    return {
      store,
      library,
      dispose() {
        store.close();
        client.destroy();
      },
    };
  },
});

const implementations: Implementation[] = [
  {
    name: 'embedded',
    async create(server) {
      const container = server.server.container;
      const library = (await container.libraries.get(server.libraryId as LibraryRecord['id']))!;
      return { store: container.objectStore, library, dispose() {} };
    },
  },
  s3Implementation('sigv4'),
  s3Implementation('cos'),
];

async function bytes(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

/** PUT of one part with a multipart grant: its own URL when signed per part, else the shared headers. */
function putPart(grant: UploadGrant, uploadId: string, n: number, body: Buffer): Promise<Response> {
  const own = grant.parts?.[String(n)];
  const url = own?.url ?? `${grant.url}?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`;
  return fetch(url, { method: 'PUT', headers: own?.headers ?? grant.headers ?? {}, body });
}

for (const impl of implementations) {
  describe(`ObjectStore contract: ${impl.name}`, { timeout: 300_000 }, () => {
    let server: TestServer;
    let store: ObjectStore;
    let library: LibraryRecord;
    let dispose: () => void;
    let n = 0;
    const loc = (): ObjectLocation => ({
      library,
      key: `${library.id}/contract${++n}${randomBytes(4).toString('hex')}`,
    });
    const grant = (where: ObjectLocation, flavour: 'simple' | 'form' | 'multipart', extra = {}) =>
      store.grantUpload(where, {
        flavour,
        expiresAt: Date.now() + 600_000,
        contentType: 'video/mp4',
        ...extra,
      });

    before(async () => {
      server = await startTestServer();
      ({ store, library, dispose } = await impl.create(server));
    });

    after(async () => {
      dispose?.();
      await server?.close();
    });

    it('multipart: parts sent with the grant are listed, completed without a copy, and read back', async () => {
      const where = loc();
      const uploadId = await store.createMultipartUpload(where, { contentType: 'video/mp4' });
      assert.deepEqual(await store.listParts(where, uploadId), []);
      const parts = [randomBytes(5 * MiB), randomBytes(300_000)];
      const g = await grant(where, 'multipart', { uploadId, partNumbers: [1, 2] });
      for (const [i, body] of parts.entries()) {
        const res = await putPart(g, uploadId, i + 1, body);
        assert.equal(res.status, 200, await res.text());
        assert.equal(res.headers.get('etag'), `"${md5(body)}"`);
      }
      const listed = await store.listParts(where, uploadId);
      assert.deepEqual(
        listed?.map((p) => [p.partNumber, p.etag, p.size]),
        parts.map((p, i) => [i + 1, md5(p), p.length]),
      );
      assert.ok(listed!.every((p) => Math.abs(p.lastModified - Date.now()) < 120_000));
      const info = await store.completeMultipartUpload(where, uploadId, listed!);
      const whole = Buffer.concat(parts);
      assert.equal(info.size, whole.length);
      assert.equal(info.etag, `${md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), 'hex'))))}-2`);
      assert.match(info.crc64 ?? '', /^\d+$/, 'a mediahost store reports CRC-64');
      assert.equal(info.contentType, 'video/mp4');
      assert.deepEqual(await store.headObject(where), info);
      assert.equal(md5(await bytes(await store.read(where))), md5(whole));
      assert.deepEqual(
        await bytes(await store.read(where, { start: 5 * MiB - 2, end: 5 * MiB + 1 })),
        whole.subarray(5 * MiB - 2, 5 * MiB + 2),
      );
      assert.equal(await store.listParts(where, uploadId), undefined, 'a completed upload is gone');
    });

    it('listParts reads past the first page of 1,000 parts', async () => {
      const where = loc();
      const uploadId = await store.createMultipartUpload(where, { contentType: 'application/octet-stream' });
      const g = await grant(where, 'multipart', {
        uploadId,
        partNumbers: Array.from({ length: 1003 }, (_, i) => i + 1),
      });
      for (let i = 1; i <= 1003; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, 1004 - i) }, async (_, j) => {
            const res = await putPart(g, uploadId, i + j, Buffer.from(`part ${i + j}`));
            assert.equal(res.status, 200);
          }),
        );
      }
      const listed = await store.listParts(where, uploadId);
      assert.equal(listed?.length, 1003);
      assert.deepEqual(
        listed?.map((p) => p.partNumber),
        Array.from({ length: 1003 }, (_, i) => i + 1),
      );
      await store.abortMultipartUpload(where, uploadId);
    });

    it('abort: idempotent; afterwards the upload is gone and cannot be completed', async () => {
      const where = loc();
      const uploadId = await store.createMultipartUpload(where, { contentType: 'video/mp4' });
      const g = await grant(where, 'multipart', { uploadId, partNumbers: [1] });
      assert.equal((await putPart(g, uploadId, 1, randomBytes(1000))).status, 200);
      await store.abortMultipartUpload(where, uploadId);
      await store.abortMultipartUpload(where, uploadId);
      assert.equal(await store.listParts(where, uploadId), undefined);
      await assert.rejects(
        store.completeMultipartUpload(where, uploadId, [{ partNumber: 1, etag: 'x' }]),
        (err) => isAppError(err) && err.code === 'NoSuchUpload',
      );
      assert.notEqual(
        (await putPart(g, uploadId, 2, randomBytes(10))).status,
        200,
        'no part lands after abort',
      );
      assert.equal(await store.headObject(where), undefined);
    });

    it('complete refuses a part below the minimum size with MultipartUploadPartTooSmall', async () => {
      const where = loc();
      const uploadId = await store.createMultipartUpload(where, { contentType: 'video/mp4' });
      const g = await grant(where, 'multipart', { uploadId, partNumbers: [1, 2] });
      for (const n of [1, 2]) assert.equal((await putPart(g, uploadId, n, randomBytes(1000))).status, 200);
      await assert.rejects(
        store.completeMultipartUpload(where, uploadId, (await store.listParts(where, uploadId))!),
        (err) => isAppError(err) && err.code === 'MultipartUploadPartTooSmall',
      );
      await store.abortMultipartUpload(where, uploadId);
    });

    it('simple and form grants store the object; an expired grant is refused', async () => {
      const body = randomBytes(70_000);
      const simple = loc();
      const g = await grant(simple, 'simple');
      const put = await fetch(g.url, { method: 'PUT', headers: g.headers ?? {}, body });
      assert.equal(put.status, 200, await put.text());
      assert.equal((await store.headObject(simple))?.etag, md5(body));

      const formed = loc();
      const f = await grant(formed, 'form', { maxSize: 100_000 });
      const form = new FormData();
      for (const [k, v] of Object.entries(f.form ?? {})) form.append(k, v);
      form.append('file', new Blob([body]), 'x.mp4');
      const post = await fetch(f.url, { method: 'POST', body: form });
      assert.equal(post.status, 204, await post.text());
      assert.equal((await store.headObject(formed))?.size, body.length);

      const late = loc();
      const expired = await store.grantUpload(late, { flavour: 'simple', expiresAt: Date.now() - 120_000 });
      const refused = await fetch(expired.url, { method: 'PUT', headers: expired.headers ?? {}, body });
      assert.equal(refused.status, 403);
      assert.equal(await store.headObject(late), undefined);
    });

    it('copy, delete (idempotent) and head of a missing object', async () => {
      const source = loc();
      const body = randomBytes(10_000);
      const g = await grant(source, 'simple');
      assert.equal((await fetch(g.url, { method: 'PUT', headers: g.headers ?? {}, body })).status, 200);
      const target = loc();
      const copied = await store.copyObject(source, target);
      assert.equal(copied.etag, md5(body));
      await store.deleteObject(source);
      await store.deleteObject(source);
      assert.equal(await store.headObject(source), undefined);
      assert.deepEqual(await bytes(await store.read(target)), body);
    });

    it('presignGet serves the bytes, Range and response headers; putFile and mediaSource round-trip', async () => {
      const dir = tempDir('mediahost-objstore-');
      try {
        const path = join(dir, 'clip.bin');
        const body = randomBytes(200_000);
        writeFileSync(path, body);
        const where = loc();
        const info = await store.putFile(where, path, { contentType: 'video/mp4' });
        assert.deepEqual([info.size, info.etag, info.contentType], [body.length, md5(body), 'video/mp4']);
        const url = await store.presignGet(where, {
          expiresInSeconds: 60,
          query: { 'response-content-disposition': "attachment; filename*=UTF-8''clip.bin" },
        });
        const got = await fetch(url);
        assert.equal(got.status, 200);
        assert.equal(got.headers.get('content-disposition'), "attachment; filename*=UTF-8''clip.bin");
        assert.deepEqual(Buffer.from(await got.arrayBuffer()), body);
        const ranged = await fetch(url, { headers: { range: 'bytes=100-199' } });
        assert.equal(ranged.status, 206);
        assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), body.subarray(100, 200));

        const source = await store.mediaSource(where);
        const read = source.startsWith('http')
          ? Buffer.from(await (await fetch(source)).arrayBuffer())
          : Buffer.concat(
              source
                .replace(/^concat:/, '')
                .split('|')
                .map((p) => readFileSync(p)),
            );
        assert.deepEqual(read, body);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('S3 object store: copies beyond the single-copy limit', { timeout: 240_000 }, () => {
  it('copies in UploadPartCopy ranges, byte for byte, and leaves no upload open', async () => {
    const external = await startTestServer();
    const settings = s3BucketSettings(
      defaultConfig({
        blob: 's3',
        s3Endpoint: external.url,
        s3Bucket: external.bucket,
        s3AccessKeyId: external.accessKeyId,
        s3SecretAccessKey: external.secretAccessKey,
        s3Prefix: 'copy test/',
      }),
    );
    const client = createS3Client(settings);
    // Limits scaled down from S3's 5 GiB so that 12 MiB takes three ranges.
    const store = new S3ObjectStore({
      settings,
      client,
      clock: { now: () => Date.now() },
      copy: { singleLimit: 6 * MiB, partSize: 5 * MiB },
    });
    const dir = tempDir('mediahost-copy-');
    try {
      const library = { id: 'smhcopy' } as unknown as LibraryRecord;
      const body = randomBytes(12 * MiB);
      writeFileSync(join(dir, 'big.bin'), body);
      const from = { library, key: 'smhcopy/source' };
      const to = { library, key: 'smhcopy/target' };
      await store.putFile(from, join(dir, 'big.bin'), { contentType: 'video/mp4' });
      const copied = await store.copyObject(from, to);
      assert.equal(copied.size, body.length);
      assert.match(copied.etag, /-3$/, 'three ranges');
      assert.equal(md5(await bytes(await store.read(to))), md5(body));
      await assert.rejects(
        store.copyObject({ library, key: 'smhcopy/missing' }, to),
        (err) => isAppError(err) && err.code === 'FileNotFound',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      store.close();
      client.destroy();
      await external.close();
    }
  });
});

describe('S3 object store: purging a deleted library', { timeout: 240_000 }, () => {
  it("removes the library's objects and open uploads under its prefix, nothing of another library", async () => {
    const external = await startTestServer();
    const settings = s3BucketSettings(
      defaultConfig({
        blob: 's3',
        s3Endpoint: external.url,
        s3Bucket: external.bucket,
        s3AccessKeyId: external.accessKeyId,
        s3SecretAccessKey: external.secretAccessKey,
        s3Prefix: 'purge/',
      }),
    );
    const client = createS3Client(settings);
    const store = new S3ObjectStore({ settings, client, clock: { now: () => Date.now() } });
    const dir = tempDir('mediahost-purge-');
    try {
      // Ids that share a beginning: the prefix ends with "/", so one library never reaches the other.
      const doomed = { id: 'smhpurge' } as unknown as LibraryRecord;
      const kept = { id: 'smhpurgekept' } as unknown as LibraryRecord;
      writeFileSync(join(dir, 'f.bin'), 'bytes');
      const put = (library: LibraryRecord, key: string) =>
        store.putFile({ library, key: `${library.id}/${key}` }, join(dir, 'f.bin'), {
          contentType: 'text/plain',
        });
      for (const key of ['a', 'b', 'c']) await put(doomed, key);
      await put(kept, 'a');
      const open = { library: doomed, key: `${doomed.id}/open` };
      const uploadId = await store.createMultipartUpload(open, { contentType: 'video/mp4' });

      await store.purgeLibrary(doomed);
      for (const key of ['a', 'b', 'c'])
        assert.equal(await store.headObject({ library: doomed, key: `${doomed.id}/${key}` }), undefined, key);
      assert.equal(await store.listParts(open, uploadId), undefined, 'the open upload is aborted');
      assert.equal((await store.headObject({ library: kept, key: `${kept.id}/a` }))?.size, 5);
      await store.purgeLibrary(doomed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      store.close();
      client.destroy();
      await external.close();
    }
  });
});
