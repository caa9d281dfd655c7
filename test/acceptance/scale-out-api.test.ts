// Scale-out mode over HTTP: API nodes over one real PostgreSQL server and one external S3 store (a
// second mediahost in embedded mode, whose object endpoint is a real S3 server on loopback). Upload
// bytes go from the client straight to the store; every node answers for every task.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type RunningServer, startServer } from '../../src/app/lifecycle.ts';
import { type PostgresServer, postgresSkipReason, startPostgres } from '../helpers/postgres.ts';
import { scaleOutConfig } from '../helpers/scale-out.ts';
import { startTestServer, type TestServer, testClock } from '../helpers/server.ts';
import {
  bytesOf,
  createToken,
  expectJson,
  expectSmhError,
  type FileObject,
  MiB,
  md5Hex,
  postForm,
  putPart,
  putParts,
  putSimple,
  SmhClient,
  type TaskStatus,
  type UploadInfo,
} from '../helpers/smh-client.ts';

const GRANTS = { grant: 'admin' };

interface PartGrants {
  parts: Record<string, { url: string; path: string; headers: Record<string, string> }>;
}

describe('scale-out: API nodes over one PostgreSQL and one external S3 store', {
  timeout: 180_000,
  skip: postgresSkipReason(),
}, () => {
  let pg: PostgresServer;
  let db: string;
  let external: TestServer;
  let s3: S3Client;
  /** Two nodes with COS-signed grants (the SMH shapes), and one with SigV4 presigned grants. */
  let nodes: RunningServer[];
  let node1: SmhClient;
  let node2: SmhClient;
  let sigv4: SmhClient;
  let objectKeys: { bucket: string; accessKeyId: string; secretAccessKey: string };

  const objectsUnder = async (prefix: string): Promise<string[]> => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: external.bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  };
  const openUploads = async (): Promise<string[]> => {
    const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: external.bucket }));
    return (out.Uploads ?? []).map((u) => `${u.Key}#${u.UploadId}`);
  };

  before(async () => {
    pg = await startPostgres();
    db = await pg.createDatabase();
    external = await startTestServer();
    s3 = new S3Client({
      endpoint: external.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: external.accessKeyId, secretAccessKey: external.secretAccessKey },
    });
    // Nodes start at once: migrations take turns under the advisory lock, one default library results.
    const started = await Promise.allSettled([
      startServer(scaleOutConfig(db, external, { s3GrantSignature: 'cos' })),
      startServer(scaleOutConfig(db, external, { s3GrantSignature: 'cos' })),
      startServer(scaleOutConfig(db, external, { s3GrantSignature: 'sigv4' })),
    ]);
    nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const created = nodes.flatMap((n) => (n.createdLibrary ? [n.createdLibrary] : []));
    assert.equal(created.length, 1, 'exactly one node created the default library');
    const library = { libraryId: created[0]!.library.id, librarySecret: created[0]!.librarySecret };
    objectKeys = {
      bucket: created[0]!.library.bucket,
      accessKeyId: created[0]!.accessKeyId,
      secretAccessKey: created[0]!.secretAccessKey,
    };
    const token = await createToken(nodes[0]!.url, library, GRANTS);
    const client = (node: RunningServer) =>
      new SmhClient({ url: node.url, libraryId: library.libraryId, token });
    [node1, node2, sigv4] = nodes.map(client) as [SmhClient, SmhClient, SmhClient];
  });

  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.close()));
    s3?.destroy();
    await external?.close();
    await pg?.stop();
  });

  it('begin on node 1, parts straight to the store, status and renew on node 2, confirm, download', async () => {
    // The multipart upload is created with the S3 API, so this store wants 5 MiB parts (COS: 1 MiB).
    const data = bytesOf('scale-out', 10 * MiB + 300_000);
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];
    const begin = await node1.beginTask('multipart', 'across-nodes.bin');
    // The grant points at the external store, in the SMH shape: domain, path, shared headers.
    assert.equal(begin.domain, new URL(external.url).host);
    assert.match(begin.path, new RegExp(`^/${external.bucket}/files/`));
    assert.match(begin.headers?.Authorization ?? '', /^q-sign-algorithm=sha1&q-ak=/);
    await putParts(begin, parts.slice(0, 2));

    const status = await expectJson<TaskStatus>(await node2.status(begin.confirmKey), 200);
    assert.deepEqual(
      status.parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
      parts.slice(0, 2).map((p, i) => [i + 1, `"${md5Hex(p)}"`, p.length]),
    );
    const renewed = await expectJson<UploadInfo>(await node2.renew(begin.confirmKey), 200);
    assert.ok(Date.parse(renewed.expiration) >= Date.parse(begin.expiration));
    await putParts({ ...renewed, uploadId: begin.uploadId! }, parts.slice(2), 3);

    const file = await node1.confirmFile(begin.confirmKey);
    assert.equal(
      file.eTag,
      `"${md5Hex(parts.map((p) => Buffer.from(md5Hex(p), 'hex')).reduce((a, b) => Buffer.concat([a, b])))}-3"`,
    );
    // Downloads redirect to a presigned GET on the store, Range honoured there.
    const { location, body } = await node2.download('across-nodes.bin');
    assert.ok(location.startsWith(`${external.url}/${external.bucket}/files/`), location);
    assert.equal(md5Hex(body), md5Hex(data));
    const ranged = await fetch(location, { headers: { range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), data.subarray(10, 20));
    // No node kept a byte: blobs are in the store (the nodes have no blob directory at all).
    for (const node of nodes) assert.equal(existsSync(join(node.container.config.dataDir, 'blobs')), false);
  });

  it('/healthz reports the external store, and fails on a node whose store refuses it', async () => {
    const ok = await fetch(`${nodes[0]!.url}/healthz`);
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { objectStore: unknown }).objectStore, {
      kind: 's3',
      status: 'ok',
    });
    const wrong = await startServer(
      scaleOutConfig(db, external, { s3SecretAccessKey: 'not-the-secret', workerConcurrency: 0 }),
    );
    try {
      const res = await fetch(`${wrong.url}/healthz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { status: string; objectStore: { status: string; reason: string } };
      assert.equal(body.status, 'degraded');
      assert.equal(body.objectStore.status, 'unavailable');
      assert.match(
        body.objectStore.reason,
        new RegExp(`bucket ${external.bucket} at ${external.url}: HTTP 403`),
      );
    } finally {
      await wrong.close();
    }
  });

  it('/healthz answers 503 within seconds when the store accepts connections but never replies', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const node = await startServer(scaleOutConfig(db, external, { s3Endpoint: `http://127.0.0.1:${port}` }));
    try {
      // The start's own look at the deployment marker (given up after a few seconds) is not a check.
      const before = sockets.length;
      const started = Date.now();
      const [a, b] = await Promise.all([fetch(`${node.url}/healthz`), fetch(`${node.url}/healthz`)]);
      assert.deepEqual([a.status, b.status], [503, 503]);
      // The store never answers: only the check's own time limit ends these, well before this bound.
      assert.ok(Date.now() - started < 30_000, `answered after ${Date.now() - started} ms`);
      assert.equal(
        ((await a.json()) as { objectStore: { status: string } }).objectStore.status,
        'unavailable',
      );
      const opened = sockets.length - before;
      assert.ok(opened <= 1, `concurrent checks share one request (${opened} connections)`);
    } finally {
      await node.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('SigV4 grants: presigned URLs for simple and form uploads, and one URL per part', async () => {
    const simple = bytesOf('simple', 70_000);
    const s = await sigv4.beginTask('simple', 'presigned-simple.bin');
    assert.match(s.url, /X-Amz-Signature=/);
    assert.equal(s.path, s.url.slice(new URL(s.url).origin.length), 'path carries the presigned query');
    await putSimple(s, simple);
    assert.equal((await sigv4.confirmFile(s.confirmKey)).eTag, `"${md5Hex(simple)}"`);

    const formBytes = bytesOf('form', 50_000);
    const f = await sigv4.beginTask('form', 'presigned-form.bin');
    assert.equal(f.form?.['x-amz-algorithm'], 'AWS4-HMAC-SHA256');
    await postForm(f, formBytes, 'presigned-form.bin');
    assert.equal((await sigv4.confirmFile(f.confirmKey)).size, String(formBytes.length));

    // S3 dialect: parts other than the last need 5 MiB.
    const data = bytesOf('per-part', 5 * MiB + 1000);
    const pieces = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)];
    const m = await expectJson<UploadInfo & PartGrants>(
      await sigv4.begin('multipart', 'presigned-parts.bin', { body: { partNumberRange: '1-2' } }),
      201,
    );
    assert.deepEqual(Object.keys(m.parts), ['1', '2']);
    const first = await fetch(m.parts['1']!.url, {
      method: 'PUT',
      headers: m.parts['1']!.headers,
      body: pieces[0],
    });
    assert.equal(first.status, 200, await first.text());
    // A part URL is signed for its part number: used for another part, the store refuses it.
    const swapped = m.parts['1']!.url.replace('partNumber=1', 'partNumber=2');
    assert.equal(
      (await fetch(swapped, { method: 'PUT', headers: m.parts['1']!.headers, body: pieces[1] })).status,
      403,
    );
    // Status hands out URLs for the parts asked for.
    const status = await expectJson<TaskStatus & { uploadPartInfo: PartGrants }>(
      await sigv4.request('GET', 'file', m.confirmKey, { query: { upload: '', part_number_range: '2' } }),
      200,
    );
    assert.deepEqual(
      status.parts?.map((p) => p.PartNumber),
      [1],
    );
    const part2 = status.uploadPartInfo.parts['2']!;
    const second = await fetch(part2.url, { method: 'PUT', headers: part2.headers, body: pieces[1] });
    assert.equal(second.status, 200, await second.text());
    await sigv4.confirmFile(m.confirmKey);
    assert.equal(md5Hex((await sigv4.download('presigned-parts.bin')).body), md5Hex(data));

    // Without a range, SigV4 multipart grants cover parts 1..100; bad ranges are refused by name.
    const plain = await expectJson<UploadInfo & PartGrants>(await sigv4.begin('multipart', 'p.bin'), 201);
    assert.equal(Object.keys(plain.parts).length, 100);
    await expectSmhError(
      await sigv4.begin('multipart', 'q.bin', { body: { partNumberRange: '5-2' } }),
      400,
      'ParamInvalid',
    );
    assert.equal((await sigv4.cancel(plain.confirmKey)).status, 204);
  });

  it('a simple grant used again after confirm cannot touch the file (its bytes were copied off the staging key)', async () => {
    for (const client of [sigv4, node1]) {
      const name = `staged-${client === sigv4 ? 'sigv4' : 'cos'}.bin`;
      const original = bytesOf(name, 1000);
      const begin = await client.beginTask('simple', name);
      await putSimple(begin, original);
      const file = await client.confirmFile(begin.confirmKey);
      assert.equal(file.size, '1000');
      const staging = decodeURIComponent(new URL(begin.url).pathname.slice(`/${external.bucket}/`.length));
      assert.deepEqual(await objectsUnder(staging), [], 'the staging object is gone after confirm');
      // The grant is still within its lifetime: the store takes the PUT, but only the staging key.
      await putSimple(begin, bytesOf('overwrite attempt', 3 * MiB));
      const { body } = await client.download(name);
      assert.equal(md5Hex(body), md5Hex(original), 'the file keeps its bytes');
      const info = await expectJson<{ size: string }>(
        await client.request('GET', 'file', name, { query: { info: '' } }),
        200,
      );
      assert.equal(info.size, '1000');
      assert.equal((await objectsUnder(staging)).length, 1, 'the late PUT landed on the staging key');
    }
  });

  it('a confirmed staged task is forgotten once its grant expired, deleting a late staging object', async () => {
    const clock = testClock();
    const node = await startServer(scaleOutConfig(db, external), { clock });
    try {
      const client = node1.with({ url: node.url });
      const begin = await client.beginTask('simple', 'staged-forgotten.bin');
      await putSimple(begin, bytesOf('forgotten', 500));
      await client.confirmFile(begin.confirmKey);
      await putSimple(begin, bytesOf('late', 700));
      const staging = decodeURIComponent(new URL(begin.url).pathname.slice(`/${external.bucket}/`.length));
      assert.equal((await objectsUnder(staging)).length, 1);
      await node.container.uploads.expireStale();
      assert.equal(
        (await objectsUnder(staging)).length,
        1,
        'kept while the task may answer a repeated confirm',
      );
      clock.advance(8 * 24 * 3600 * 1000);
      await node.container.uploads.expireStale();
      assert.deepEqual(await objectsUnder(staging), []);
      assert.equal((await node1.download('staged-forgotten.bin')).body.length, 500, 'the file is untouched');
    } finally {
      await node.close();
    }
  });

  it('cancel on node 2 aborts on the store: old part headers fail there, status is 404 everywhere', async () => {
    const begin = await node1.beginTask('multipart', 'cancelled.bin');
    await putParts(begin, [bytesOf('c', MiB)]);
    assert.equal((await node2.cancel(begin.confirmKey)).status, 204);
    const late = await putPart(begin, 2, bytesOf('late', 1000));
    assert.equal(late.status, 404);
    assert.match(await late.text(), /NoSuchUpload/);
    await expectSmhError(await node1.status(begin.confirmKey), 404, 'ConfirmKeyNotFound');
    assert.ok(
      !(await openUploads()).some((u) => u.includes(begin.uploadId!)),
      'the store holds no such upload',
    );
  });

  it('confirm on node 1 racing cancel on node 2: exactly one wins, nothing is orphaned', async (t) => {
    const filesBefore = (await objectsUnder('files/')).length;
    const uploadsBefore = await openUploads();
    let confirms = 0;
    let cancels = 0;
    for (let round = 0; round < 8; round++) {
      const begin = await node1.beginTask('multipart', `race-${round}.bin`);
      await putParts(begin, [bytesOf(`race${round}`, 200_000)]);
      const [confirm, cancel] = await Promise.all([
        node1.confirm(begin.confirmKey),
        node2.cancel(begin.confirmKey),
      ]);
      const confirmText = await confirm.text();
      const won = [confirm.status === 200, cancel.status === 204];
      assert.equal(
        won.filter(Boolean).length,
        1,
        `round ${round}: confirm ${confirm.status} ${confirmText}, cancel ${cancel.status}`,
      );
      if (confirm.status === 200) {
        confirms++;
        const file = JSON.parse(confirmText) as FileObject;
        assert.equal(file.size, '200000');
        await expectSmhError(cancel, 409, 'UploadComplete');
        assert.equal((await node2.download(`race-${round}.bin`)).body.length, 200_000);
      } else {
        cancels++;
        assert.equal(confirm.status, 404, confirmText);
        await expectSmhError(await node2.request('GET', 'file', `race-${round}.bin`), 404, 'FileNotFound');
      }
    }
    t.diagnostic(`confirm won ${confirms} rounds, cancel ${cancels}`);
    // Every object in the store belongs to a confirmed file; no multipart upload is left open.
    assert.equal((await objectsUnder('files/')).length, filesBefore + confirms);
    assert.deepEqual(await openUploads(), uploadsBefore);
  });

  it('a Complete that succeeded unrecorded (lost reply, dead node): confirm finishes, cancel removes the object', async () => {
    const completeBehindItsBack = async (info: UploadInfo): Promise<string> => {
      const key = decodeURIComponent(info.path.slice(`/${external.bucket}/`.length));
      const listed = await s3.send(
        new ListPartsCommand({ Bucket: external.bucket, Key: key, UploadId: info.uploadId }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: external.bucket,
          Key: key,
          UploadId: info.uploadId,
          MultipartUpload: {
            Parts: (listed.Parts ?? []).map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })),
          },
        }),
      );
      return key;
    };
    const data = bytesOf('lost-complete', 200_000);
    const kept = await node1.beginTask('multipart', 'lost-complete.bin');
    await putParts(kept, [data]);
    await completeBehindItsBack(kept);
    const file = await node2.confirmFile(kept.confirmKey);
    assert.equal(file.size, String(data.length));
    assert.equal(md5Hex((await node1.download('lost-complete.bin')).body), md5Hex(data));

    const dropped = await node1.beginTask('multipart', 'lost-then-cancelled.bin');
    await putParts(dropped, [data]);
    const key = await completeBehindItsBack(dropped);
    assert.equal((await node2.cancel(dropped.confirmKey)).status, 204);
    assert.deepEqual(await objectsUnder(key), [], 'the cancel removed the object too');
  });

  it('files are one library across nodes: info, copy and delete on either node act on the store', async () => {
    const data = bytesOf('shared', 100_000);
    const begin = await node1.beginTask('simple', 'shared.bin');
    await putSimple(begin, data);
    await node1.confirmFile(begin.confirmKey);
    const before = (await objectsUnder('files/')).length;
    const copy = await node2.request('PUT', 'file', 'shared-copy.bin', { body: { copyFrom: 'shared.bin' } });
    assert.equal(copy.status, 200, await copy.text());
    assert.equal(md5Hex((await node1.download('shared-copy.bin')).body), md5Hex(data));
    assert.equal((await objectsUnder('files/')).length, before + 1);
    assert.equal((await node2.request('DELETE', 'file', 'shared.bin')).status, 204);
    assert.equal((await node1.request('DELETE', 'file', 'shared-copy.bin')).status, 204);
    assert.equal((await objectsUnder('files/')).length, before - 1);
    const key = (await objectsUnder('files/')).at(0);
    if (key)
      assert.ok((await s3.send(new HeadObjectCommand({ Bucket: external.bucket, Key: key }))).ContentLength);
  });

  it("the nodes' own COS/S3 endpoint keeps its bytes in the store too: write on one node, read on the other", async () => {
    const client = (node: RunningServer) =>
      new S3Client({
        endpoint: node.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: objectKeys.accessKeyId, secretAccessKey: objectKeys.secretAccessKey },
      });
    const [a, b] = [client(nodes[0]!), client(nodes[1]!)];
    try {
      const small = bytesOf('object-api', 300_000);
      await a.send(new PutObjectCommand({ Bucket: objectKeys.bucket, Key: 'photos/one.jpg', Body: small }));
      const got = await b.send(new GetObjectCommand({ Bucket: objectKeys.bucket, Key: 'photos/one.jpg' }));
      assert.equal(md5Hex(Buffer.from(await got.Body!.transformToByteArray())), md5Hex(small));

      // A multipart upload begun on one node, its parts sent to both, completed on the other.
      const parts = [bytesOf('mp1', 5 * MiB), bytesOf('mp2', 123_456)];
      const { UploadId } = await a.send(
        new CreateMultipartUploadCommand({ Bucket: objectKeys.bucket, Key: 'videos/big.mp4' }),
      );
      const etags = await Promise.all(
        parts.map(async (body, i) => {
          const out = await (i === 0 ? a : b).send(
            new UploadPartCommand({
              Bucket: objectKeys.bucket,
              Key: 'videos/big.mp4',
              UploadId,
              PartNumber: i + 1,
              Body: body,
            }),
          );
          return { PartNumber: i + 1, ETag: out.ETag! };
        }),
      );
      await b.send(
        new CompleteMultipartUploadCommand({
          Bucket: objectKeys.bucket,
          Key: 'videos/big.mp4',
          UploadId,
          MultipartUpload: { Parts: etags },
        }),
      );
      const big = await a.send(new GetObjectCommand({ Bucket: objectKeys.bucket, Key: 'videos/big.mp4' }));
      assert.equal(md5Hex(Buffer.from(await big.Body!.transformToByteArray())), md5Hex(Buffer.concat(parts)));
      // The blobs behind them are objects of the external store; the nodes hold none.
      assert.ok((await objectsUnder('blobs/')).length >= 3);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it("the library's object-API keys reach no SMH file: not in the store, not under the SMH prefix of the nodes' endpoint", async () => {
    const data = bytesOf('out-of-reach', 40_000);
    const begin = await node1.beginTask('simple', 'out-of-reach.bin');
    await putSimple(begin, data);
    await node2.confirmFile(begin.confirmKey);
    const stored = await objectsUnder(`files/${node1.libraryId}/`);
    assert.ok(stored.length > 0, 'SMH files live in the external store');
    const smhKey = stored.at(-1)!.slice('files/'.length);
    const Bucket = objectKeys.bucket;
    const credentials = { accessKeyId: objectKeys.accessKeyId, secretAccessKey: objectKeys.secretAccessKey };
    const node = new S3Client({
      endpoint: nodes[0]!.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    });
    const store = new S3Client({
      endpoint: external.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    });
    const refused = (promise: Promise<unknown>, name: string) =>
      assert.rejects(promise, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, name);
        assert.equal(err.$metadata?.httpStatusCode, 403);
        return true;
      });
    try {
      // The store does not know the library's key pair: only the nodes sign for it.
      await refused(
        store.send(new GetObjectCommand({ Bucket: external.bucket, Key: stored.at(-1)! })),
        'InvalidAccessKeyId',
      );
      // On the nodes' own endpoint the SMH prefix is reserved as in embedded mode (ADR 0001 §17).
      await refused(node.send(new GetObjectCommand({ Bucket, Key: smhKey })), 'AccessDenied');
      await refused(node.send(new PutObjectCommand({ Bucket, Key: smhKey, Body: 'x' })), 'AccessDenied');
      const listed = await node.send(new ListObjectsV2Command({ Bucket }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      assert.ok(
        keys.every((k) => !k.startsWith(`${node1.libraryId}/`) && !k.startsWith('files/')),
        keys.join(),
      );
      assert.ok((await node1.download('out-of-reach.bin')).body.equals(data));
    } finally {
      node.destroy();
      store.destroy();
    }
  });

  it('confirms racing on two nodes into one quota: exactly as many as fit succeed', async () => {
    // Last in this suite: the quota then covers the files of the tests before it too.
    const used = Number(
      (await expectJson<{ size: string }>(await node1.request('GET', 'space', 'size'), 200)).size,
    );
    const admin = `${nodes[0]!.url}/api/v1/quota/${node1.libraryId}?access_token=${node1.token}`;
    const created = await fetch(admin, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        capacity: String(used + 1_000_000),
        removeWhenExceed: false,
        removeAfterDays: 0,
      }),
    });
    assert.equal(created.status, 201, await created.text());
    // Six uploads of 300,000 bytes pass the precheck at begin (nothing is used yet); three fit.
    const tasks = [];
    for (let i = 0; i < 6; i++) {
      const begin = await node1.beginTask('simple', `quota-${i}.bin`);
      await putSimple(begin, bytesOf(`quota${i}`, 300_000));
      tasks.push(begin);
    }
    const answers = await Promise.all(tasks.map((t, i) => (i % 2 ? node2 : node1).confirm(t.confirmKey)));
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 3, JSON.stringify(statuses));
    for (const r of answers.filter((a) => a.status !== 200))
      await expectSmhError(r, 400, 'QuotaLimitReached');
    const after = Number(
      (await expectJson<{ size: string }>(await node2.request('GET', 'space', 'size'), 200)).size,
    );
    assert.equal(after, used + 900_000);
  });
});
