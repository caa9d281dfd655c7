// Acceptance: the real cos-nodejs-sdk-v5 (2.15.4) against mediahost over HTTP, virtual-host style through
// the SDK's `Ip` option (spec cos-api §1.3 A): slice upload with resume, simple objects, ranges, multipart
// listing and abort, bucket listing, and keys with unicode, spaces, `..`, `//` and a trailing `/`.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import COS from 'cos-nodejs-sdk-v5';
import { crc64 } from '../../src/lib/crc64.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';

const MiB = 1024 * 1024;
/** Per-test bound; the whole suite has its own. */
const LIMIT = { timeout: 240_000 };
const REGION = 'ap-guangzhou';
const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

/** sliceUploadFile also reports the UploadId it completed, which its typings leave out. */
const uploadIdOf = (result: COS.SliceUploadFileResult): unknown =>
  (result as { UploadId?: unknown }).UploadId;

interface ProxiedRequest {
  method: string;
  url: string;
}

/**
 * A pass-through HTTP proxy in front of the server that records every request it forwards, so tests
 * can count what reached the server (e.g. UploadPart calls). Client aborts propagate upstream.
 */
class CountingProxy {
  readonly log: ProxiedRequest[] = [];
  /** Requests whose client or server side is still open. */
  inFlight = 0;
  /** Called as each request arrives, before it is forwarded. */
  onRequest: ((entry: ProxiedRequest) => void) | undefined;
  readonly #server: Server;
  #onIdle: (() => void)[] = [];

  constructor(targetPort: number) {
    this.#server = createServer((req, res) => {
      const entry: ProxiedRequest = { method: req.method ?? '', url: req.url ?? '' };
      this.log.push(entry);
      this.inFlight++;
      // Done once the client's side closed and the server answered or was cut off: a client that
      // gives up early does not end what the server does with the bytes it already has.
      let open = 2;
      const closed = (): void => {
        if (--open > 0) return;
        this.inFlight--;
        // The next turn of the event loop reads requests already on their way (a cancelling
        // client's last ones) before the proxy counts as idle.
        if (this.inFlight === 0) setImmediate(() => this.#settle());
      };
      res.once('close', closed);
      this.onRequest?.(entry);
      const upstream = httpRequest(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (up: IncomingMessage) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          pipeline(up, res).catch(() => res.destroy());
        },
      );
      upstream.once('error', () => res.destroy());
      upstream.once('close', closed);
      pipeline(req, upstream).catch(() => upstream.destroy());
    });
  }

  #settle(): void {
    if (this.inFlight > 0) return;
    for (const resolve of this.#onIdle.splice(0)) resolve();
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  uploadPartsSince(index: number): number {
    return this.log.slice(index).filter((e) => e.method === 'PUT' && /[?&]partNumber=/.test(e.url)).length;
  }

  /** Resolves once no forwarded request is open any more, on either side. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#onIdle.push(resolve);
      setImmediate(() => this.#settle());
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe('cos-nodejs-sdk-v5 against mediahost', { timeout: 180_000 }, () => {
  let server: TestServer;
  let proxy: CountingProxy;
  let cos: COS;
  /** Same credentials, requests routed through the counting proxy. */
  let counted: COS;
  let workDir: string;
  let Bucket: string;

  const client = (port: number, options: COS.COSOptions = {}): COS =>
    new COS({
      SecretId: server.accessKeyId,
      SecretKey: server.secretAccessKey,
      Protocol: 'http:',
      Ip: `127.0.0.1:${port}`,
      // The SDK caches upload ids on disk for resume; keep that cache inside the test's temp dir.
      ConfCwd: workDir,
      ...options,
    });

  const writeTempFile = (name: string, size: number): { path: string; data: Buffer } => {
    const data = randomBytes(size);
    const path = join(workDir, name);
    writeFileSync(path, data);
    return { path, data };
  };

  const download = async (Key: string): Promise<Buffer> => {
    const got = await cos.getObject({ Bucket, Region: REGION, Key });
    assert.equal(got.statusCode, 200);
    return got.Body as Buffer;
  };

  const uploadsFor = async (Key: string): Promise<string[]> => {
    const listed = await cos.multipartList({ Bucket, Region: REGION, Prefix: Key, Delimiter: '' });
    return (listed.Upload ?? []).filter((u) => u.Key === Key).map((u) => u.UploadId);
  };

  const allParts = async (Key: string, UploadId: string): Promise<{ PartNumber: number; ETag: string }[]> => {
    const listed = await cos.multipartListPart({ Bucket, Region: REGION, Key, UploadId });
    assert.equal(listed.IsTruncated, 'false');
    return (listed.Part ?? []).map((p) => ({ PartNumber: Number(p.PartNumber), ETag: p.ETag }));
  };

  before(async () => {
    workDir = tempDir('mediahost-cos-sdk-');
    server = await startTestServer();
    Bucket = server.bucket;
    proxy = new CountingProxy(server.port);
    const proxyPort = await proxy.listen();
    cos = client(server.port);
    counted = client(proxyPort);
  });

  after(async () => {
    await proxy?.close();
    await server?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  test(
    'sliceUploadFile uploads 20 MiB in 1 MiB parts (real COS minimum); getObject and downloadFile match',
    LIMIT,
    async () => {
      const size = 20 * MiB + 12_345;
      const { path, data } = writeTempFile('fresh.bin', size);
      const Key = 'slice/fresh.bin';
      const mark = proxy.log.length;
      const result = await counted.sliceUploadFile({ Bucket, Region: REGION, Key, FilePath: path });
      const expectedParts = Math.ceil(size / MiB);
      assert.equal(proxy.uploadPartsSince(mark), expectedParts);
      assert.match(result.ETag, new RegExp(`^"[0-9a-f]{32}-${expectedParts}"$`));
      assert.equal(result.statusCode, 200);
      const head = await cos.headObject({ Bucket, Region: REGION, Key });
      assert.equal(head.headers?.['content-length'], String(size));
      assert.equal(head.headers?.etag, result.ETag);
      assert.equal(md5(await download(Key)), md5(data));
      assert.deepEqual(await uploadsFor(Key), []);

      // downloadFile fetches 1 MiB ranges in parallel and fails if any 206 carries a CRC-64 other than
      // the whole object's (spec cos-api §2.2).
      const target = join(workDir, 'fresh.downloaded');
      await cos.downloadFile({ Bucket, Region: REGION, Key, FilePath: target, ChunkSize: MiB });
      assert.equal(md5(readFileSync(target)), md5(data));
    },
  );

  test(
    'sliceUploadFile resumes a cancelled upload: same UploadId, only the missing parts are sent',
    LIMIT,
    async () => {
      const size = 10 * MiB + 777;
      const totalParts = Math.ceil(size / MiB);
      const { path, data } = writeTempFile('resume-cancel.bin', size);
      const Key = 'slice/resume cancel.bin';

      // First attempt: cancel the task while its fifth part is on the wire, with earlier ones stored.
      let taskId: string | undefined;
      const firstAttempt = proxy.log.length;
      const cancelled = new Promise<void>((resolve) => {
        proxy.onRequest = () => {
          if (proxy.uploadPartsSince(firstAttempt) < 5 || taskId === undefined) return;
          counted.cancelTask(taskId);
          proxy.onRequest = undefined;
          resolve();
        };
      });
      // A cancelled task never calls back; only its start matters here.
      void counted.sliceUploadFile({
        Bucket,
        Region: REGION,
        Key,
        FilePath: path,
        onTaskReady: (id) => {
          taskId = id;
        },
      });
      await cancelled;
      await proxy.idle();

      const [uploadId, ...others] = await uploadsFor(Key);
      assert.ok(uploadId, 'the cancelled upload stays listed');
      assert.deepEqual(others, []);
      // Parts still streaming when the SDK cancelled were discarded; those it had sent whole were
      // answered (stored) before the proxy went idle.
      const stored = await allParts(Key, uploadId);
      assert.ok(stored.length >= 1 && stored.length < totalParts, `stored ${stored.length} of ${totalParts}`);
      for (const part of stored) {
        const slice = data.subarray((part.PartNumber - 1) * MiB, part.PartNumber * MiB);
        assert.equal(part.ETag, `"${md5(slice)}"`);
      }

      // Second attempt on the same file: the SDK finds the upload and sends only what is missing.
      const mark = proxy.log.length;
      const result = await counted.sliceUploadFile({ Bucket, Region: REGION, Key, FilePath: path });
      assert.equal(uploadIdOf(result), uploadId);
      assert.equal(proxy.uploadPartsSince(mark), totalParts - stored.length);
      assert.ok(proxy.uploadPartsSince(mark) < totalParts);
      assert.match(result.ETag, new RegExp(`-${totalParts}"$`));
      assert.equal(md5(await download(Key)), md5(data));
      assert.deepEqual(await uploadsFor(Key), []);
    },
  );

  test(
    'sliceUploadFile picks the upload whose parts match the file (ListParts ETags are MD5s)',
    LIMIT,
    async () => {
      const size = 5 * MiB + 100;
      const totalParts = Math.ceil(size / MiB);
      const { path, data } = writeTempFile('resume-remote.bin', size);
      const Key = 'slice/resume-remote.bin';
      const sliceOf = (n: number): Buffer => data.subarray((n - 1) * MiB, n * MiB);
      const uploadParts = async (UploadId: string, bodies: Buffer[]): Promise<void> => {
        for (const [i, Body] of bodies.entries()) {
          const part = await cos.multipartUpload({
            Bucket,
            Region: REGION,
            Key,
            UploadId,
            PartNumber: i + 1,
            Body,
          });
          assert.equal(part.ETag, `"${md5(Body)}"`);
        }
      };
      // Two uploads the SDK did not start itself: the older one holds other bytes, the newer one the
      // file's first two slices. The SDK checks them oldest first and must skip the decoy.
      const decoy = await cos.multipartInit({ Bucket, Region: REGION, Key });
      await uploadParts(decoy.UploadId, [randomBytes(MiB)]);
      const matching = await cos.multipartInit({ Bucket, Region: REGION, Key });
      await uploadParts(matching.UploadId, [sliceOf(1), sliceOf(2)]);

      const mark = proxy.log.length;
      const result = await counted.sliceUploadFile({ Bucket, Region: REGION, Key, FilePath: path });
      assert.equal(uploadIdOf(result), matching.UploadId);
      assert.equal(proxy.uploadPartsSince(mark), totalParts - 2);
      assert.equal(md5(await download(Key)), md5(data));
      assert.deepEqual(await uploadsFor(Key), [decoy.UploadId]);
      await cos.multipartAbort({ Bucket, Region: REGION, Key, UploadId: decoy.UploadId });
    },
  );

  test('putObject, headObject, getObject with Range, deleteObject', LIMIT, async () => {
    const data = randomBytes(64 * 1024 + 3);
    const Key = 'simple/object.bin';
    const put = await cos.putObject({
      Bucket,
      Region: REGION,
      Key,
      Body: data,
      ContentType: 'video/mp4',
      Headers: { 'x-cos-meta-origin': 'acceptance' },
    });
    assert.equal(put.statusCode, 200);
    assert.equal(put.ETag, `"${md5(data)}"`);
    assert.equal(put.headers?.['x-cos-hash-crc64ecma'], crc64(data).toString(10));

    const head = await cos.headObject({ Bucket, Region: REGION, Key });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers?.['content-length'], String(data.length));
    assert.equal(head.headers?.['content-type'], 'video/mp4');
    assert.equal(head.headers?.['x-cos-meta-origin'], 'acceptance');
    assert.equal(head.headers?.['x-cos-hash-crc64ecma'], put.headers?.['x-cos-hash-crc64ecma']);

    const notModified = await cos.headObject({
      Bucket,
      Region: REGION,
      Key,
      Headers: { 'If-Modified-Since': String(head.headers?.['last-modified']) },
    });
    // The SDK turns a 304 into NotModified (spec cos-api §2.3); its typings do not list it.
    assert.equal((notModified as { NotModified?: boolean }).NotModified, true);

    const full = await cos.getObject({ Bucket, Region: REGION, Key });
    assert.equal(full.statusCode, 200);
    assert.ok((full.Body as Buffer).equals(data));

    const ranged = await cos.getObject({ Bucket, Region: REGION, Key, Range: 'bytes=1000-1999' });
    assert.equal(ranged.statusCode, 206);
    assert.equal(ranged.headers?.['content-range'], `bytes 1000-1999/${data.length}`);
    assert.equal(ranged.headers?.['content-length'], '1000');
    assert.ok((ranged.Body as Buffer).equals(data.subarray(1000, 2000)));

    const tail = await cos.getObject({ Bucket, Region: REGION, Key, Range: 'bytes=-10' });
    assert.equal(tail.statusCode, 206);
    assert.ok((tail.Body as Buffer).equals(data.subarray(data.length - 10)));

    // A Content-MD5 of other bytes is BadDigest and leaves the stored object alone.
    await assert.rejects(
      cos.putObject({
        Bucket,
        Region: REGION,
        Key,
        Body: randomBytes(100),
        Headers: { 'Content-MD5': createHash('md5').update('other bytes').digest('base64') },
      }),
      (err: COS.CosSdkError) => {
        assert.equal(err.statusCode, 400);
        assert.equal(err.code, 'BadDigest');
        return true;
      },
    );
    assert.equal(md5(await download(Key)), md5(data));

    const deleted = await cos.deleteObject({ Bucket, Region: REGION, Key });
    assert.equal(deleted.statusCode, 204);
    const again = await cos.deleteObject({ Bucket, Region: REGION, Key });
    assert.equal(again.statusCode, 204);
    await assert.rejects(cos.headObject({ Bucket, Region: REGION, Key }), (err: COS.CosSdkError) => {
      assert.equal(err.statusCode, 404);
      return true;
    });
    await assert.rejects(cos.getObject({ Bucket, Region: REGION, Key }), (err: COS.CosSdkError) => {
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, 'NoSuchKey');
      return true;
    });
  });

  test('Content-Type is stored as sent, even when it is not a well-formed media type', LIMIT, async () => {
    for (const ContentType of ['video', 'text/plain; charset=utf-8', 'application/vnd.custom+json']) {
      const Key = `content-type/${ContentType.replace(/\W+/g, '-')}`;
      await cos.putObject({ Bucket, Region: REGION, Key, Body: Buffer.from('x'), ContentType });
      const head = await cos.headObject({ Bucket, Region: REGION, Key });
      assert.equal(head.headers?.['content-type'], ContentType);
    }
    // multipartInit sends an empty Content-Type when none is given; the object gets the default.
    const Key = 'content-type/default.bin';
    const init = await cos.multipartInit({ Bucket, Region: REGION, Key });
    const part = await cos.multipartUpload({
      Bucket,
      Region: REGION,
      Key,
      UploadId: init.UploadId,
      PartNumber: 1,
      Body: Buffer.from('x'),
    });
    await cos.multipartComplete({
      Bucket,
      Region: REGION,
      Key,
      UploadId: init.UploadId,
      Parts: [{ PartNumber: 1, ETag: part.ETag }],
    });
    const head = await cos.headObject({ Bucket, Region: REGION, Key });
    assert.equal(head.headers?.['content-type'], 'application/octet-stream');
  });

  test(
    'uploadFile of a small file (simple upload of a file stream) and a presigned getObjectUrl',
    LIMIT,
    async () => {
      const { path, data } = writeTempFile('small clip.mp4', 300 * 1024);
      const Key = 'small/clip 1.mp4';
      const uploaded = await cos.uploadFile({ Bucket, Region: REGION, Key, FilePath: path });
      assert.equal(uploaded.ETag, `"${md5(data)}"`);
      const head = await cos.headObject({ Bucket, Region: REGION, Key });
      assert.equal(head.headers?.['content-length'], String(data.length));

      // A presigned URL names the real COS host; send it to the server with that Host header.
      const url = new URL(cos.getObjectUrl({ Bucket, Region: REGION, Key, Sign: true, Expires: 60 }));
      assert.match(url.search, /q-sign-algorithm=sha1/);
      const fetchVia = (path: string): Promise<{ status: number; body: Buffer }> =>
        new Promise((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port: server.port, path, headers: { host: url.host } },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end();
        });
      const got = await fetchVia(`${url.pathname}${url.search}`);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(data));
      const forged = await fetchVia(
        `${url.pathname}${url.search.replace(/q-signature=[0-9a-f]{4}/, 'q-signature=0000')}`,
      );
      assert.equal(forged.status, 403);
      assert.match(forged.body.toString(), /<Code>SignatureDoesNotMatch<\/Code>/);
    },
  );

  test('multipartAbort ends an upload: its parts and further part uploads are refused', LIMIT, async () => {
    const Key = 'abort/by-id.bin';
    const init = await cos.multipartInit({ Bucket, Region: REGION, Key });
    await cos.multipartUpload({
      Bucket,
      Region: REGION,
      Key,
      UploadId: init.UploadId,
      PartNumber: 1,
      Body: randomBytes(1000),
    });
    const aborted = await cos.multipartAbort({ Bucket, Region: REGION, Key, UploadId: init.UploadId });
    assert.equal(aborted.statusCode, 204);
    const noSuchUpload = (err: COS.CosSdkError): boolean => {
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, 'NoSuchUpload');
      return true;
    };
    await assert.rejects(
      cos.multipartListPart({ Bucket, Region: REGION, Key, UploadId: init.UploadId }),
      noSuchUpload,
    );
    await assert.rejects(
      cos.multipartUpload({
        Bucket,
        Region: REGION,
        Key,
        UploadId: init.UploadId,
        PartNumber: 2,
        Body: randomBytes(10),
      }),
      noSuchUpload,
    );
    await assert.rejects(
      cos.multipartAbort({ Bucket, Region: REGION, Key, UploadId: init.UploadId }),
      noSuchUpload,
    );
    assert.deepEqual(await uploadsFor(Key), []);
  });

  test("abortUploadTask with Level 'file' aborts every upload of exactly that key", LIMIT, async () => {
    const Key = 'abort/file.bin';
    const sibling = `${Key}.keep`;
    const first = await cos.multipartInit({ Bucket, Region: REGION, Key });
    const second = await cos.multipartInit({ Bucket, Region: REGION, Key });
    const kept = await cos.multipartInit({ Bucket, Region: REGION, Key: sibling });
    assert.deepEqual((await uploadsFor(Key)).sort(), [first.UploadId, second.UploadId].sort());

    await cos.abortUploadTask({ Bucket, Region: REGION, Key, Level: 'file' });
    assert.deepEqual(await uploadsFor(Key), []);
    assert.deepEqual(await uploadsFor(sibling), [kept.UploadId]);
    await cos.abortUploadTask({
      Bucket,
      Region: REGION,
      Key: sibling,
      Level: 'task',
      UploadId: kept.UploadId,
    });
    assert.deepEqual(await uploadsFor(sibling), []);
  });

  test('multipartListPart pages with MaxParts and PartNumberMarker', LIMIT, async () => {
    const Key = 'parts/paged.bin';
    const init = await cos.multipartInit({ Bucket, Region: REGION, Key });
    const bodies = [1, 2, 3, 4, 5].map((n) => randomBytes(100 + n));
    for (const [i, Body] of bodies.entries()) {
      await cos.multipartUpload({
        Bucket,
        Region: REGION,
        Key,
        UploadId: init.UploadId,
        PartNumber: i + 1,
        Body,
      });
    }
    const seen: { PartNumber: number; ETag: string; Size: number }[] = [];
    const pages: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await cos.multipartListPart({
        Bucket,
        Region: REGION,
        Key,
        UploadId: init.UploadId,
        MaxParts: 2,
        ...(marker === undefined ? {} : { PartNumberMarker: marker }),
      });
      for (const p of page.Part ?? [])
        seen.push({ PartNumber: Number(p.PartNumber), ETag: p.ETag, Size: Number(p.Size) });
      pages.push(page.IsTruncated);
      if (page.IsTruncated !== 'true') break;
      marker = String(page.NextPartNumberMarker);
    }
    assert.deepEqual(pages, ['true', 'true', 'false']);
    assert.deepEqual(
      seen,
      bodies.map((b, i) => ({ PartNumber: i + 1, ETag: `"${md5(b)}"`, Size: b.length })),
    );
    await cos.multipartAbort({ Bucket, Region: REGION, Key, UploadId: init.UploadId });
  });

  test(
    'multipartList filters by prefix, rolls up by delimiter and pages with MaxUploads',
    LIMIT,
    async () => {
      const keys = ['mpl/a.bin', 'mpl/b.bin', 'mpl/c.bin', 'mpl/sub/d.bin'];
      const ids = new Map<string, string>();
      for (const Key of keys)
        ids.set(Key, (await cos.multipartInit({ Bucket, Region: REGION, Key })).UploadId);

      const rolled = await cos.multipartList({ Bucket, Region: REGION, Prefix: 'mpl/', Delimiter: '/' });
      assert.deepEqual(
        (rolled.Upload ?? []).map((u) => [u.Key, u.UploadId, u.StorageClass]),
        keys.slice(0, 3).map((k) => [k, ids.get(k), 'STANDARD']),
      );
      // The SDK hands CommonPrefixes through as parsed: a lone entry is an object, not an array.
      const common = (rolled as { CommonPrefixes?: { Prefix: string } | { Prefix: string }[] })
        .CommonPrefixes;
      assert.deepEqual(
        [common ?? []].flat().map((c) => c.Prefix),
        ['mpl/sub/'],
      );

      const paged: string[] = [];
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      for (let page = 0; page < 10; page++) {
        const listed = await cos.multipartList({
          Bucket,
          Region: REGION,
          Prefix: 'mpl/',
          Delimiter: '',
          MaxUploads: 3,
          ...(KeyMarker === undefined ? {} : { KeyMarker }),
          ...(UploadIdMarker === undefined ? {} : { UploadIdMarker }),
        });
        paged.push(...(listed.Upload ?? []).map((u) => u.Key));
        if (listed.IsTruncated !== 'true') break;
        KeyMarker = listed.NextKeyMarker;
        UploadIdMarker = listed.NextUploadIdMarker;
      }
      assert.deepEqual(paged, keys);
      for (const [Key, UploadId] of ids) await cos.multipartAbort({ Bucket, Region: REGION, Key, UploadId });
    },
  );

  test('getBucket lists with Prefix, Delimiter and Marker paging', LIMIT, async () => {
    const keys = ['ls/a.txt', 'ls/b/1.txt', 'ls/b/2.txt', 'ls/c.txt', 'ls/d/3.txt'];
    for (const Key of keys) await cos.putObject({ Bucket, Region: REGION, Key, Body: Buffer.from(Key) });

    const rolled = await cos.getBucket({ Bucket, Region: REGION, Prefix: 'ls/', Delimiter: '/' });
    assert.deepEqual(
      rolled.Contents.map((c) => c.Key),
      ['ls/a.txt', 'ls/c.txt'],
    );
    assert.deepEqual(
      rolled.CommonPrefixes.map((c) => c.Prefix),
      ['ls/b/', 'ls/d/'],
    );
    const a = rolled.Contents[0]!;
    assert.equal(a.ETag, `"${md5(Buffer.from('ls/a.txt'))}"`);
    assert.equal(String(a.Size), String('ls/a.txt'.length));

    const flat: string[] = [];
    let Marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const listed = await cos.getBucket({
        Bucket,
        Region: REGION,
        Prefix: 'ls/',
        MaxKeys: 2,
        ...(Marker === undefined ? {} : { Marker }),
      });
      flat.push(...listed.Contents.map((c) => c.Key));
      if (listed.IsTruncated !== 'true') break;
      Marker = listed.NextMarker;
    }
    assert.deepEqual(flat, keys);
  });

  test(
    'putObjectCopy and sliceCopyFile (UploadPartCopy with a COS copy-source host) copy the bytes',
    LIMIT,
    async () => {
      const data = randomBytes(3 * MiB + 5);
      const source = 'copy/source ü.bin';
      await cos.putObject({ Bucket, Region: REGION, Key: source, Body: data });
      const CopySource = `${Bucket}.cos.${REGION}.myqcloud.com/${encodeURIComponent(source)}`;

      const simple = await cos.putObjectCopy({ Bucket, Region: REGION, Key: 'copy/simple', CopySource });
      assert.equal(simple.ETag, `"${md5(data)}"`);
      assert.equal(md5(await download('copy/simple')), md5(data));

      const Key = 'copy/sliced ✓.bin';
      await cos.sliceCopyFile({
        Bucket,
        Region: REGION,
        Key,
        CopySource,
        CopySliceSize: MiB,
        CopyChunkSize: MiB,
      });
      const head = await cos.headObject({ Bucket, Region: REGION, Key });
      assert.match(String(head.headers?.etag), new RegExp(`-${Math.ceil(data.length / MiB)}"$`));
      assert.equal(head.headers?.['x-cos-hash-crc64ecma'], crc64(data).toString(10));
      assert.equal(md5(await download(Key)), md5(data));
    },
  );

  test(
    "path style through the Domain template signs '/key' without the bucket (spec cos-api §1.3 C)",
    LIMIT,
    async () => {
      const pathStyle = client(server.port, { Ip: '', Domain: `127.0.0.1:${server.port}/{Bucket}` });
      const Key = 'path-style/a b.txt';
      const Body = Buffer.from('path style');
      const put = await pathStyle.putObject({ Bucket, Region: REGION, Key, Body });
      assert.equal(put.ETag, `"${md5(Body)}"`);
      const got = await pathStyle.getObject({ Bucket, Region: REGION, Key });
      assert.ok((got.Body as Buffer).equals(Body));
      const listed = await pathStyle.getBucket({ Bucket, Region: REGION, Prefix: 'path-style/' });
      assert.deepEqual(
        listed.Contents.map((c) => c.Key),
        [Key],
      );
    },
  );

  test(
    'a client clock an hour off is corrected from the Date header and the request retried',
    LIMIT,
    async (t) => {
      // The SDK logs the skew it corrects; keep the test output clean.
      const logged = t.mock.method(console, 'error', () => {});
      for (const SystemClockOffset of [-3600_000, 3600_000]) {
        const skewed = client(server.port, { SystemClockOffset });
        const Key = `skew/${SystemClockOffset}`;
        const put = await skewed.putObject({ Bucket, Region: REGION, Key, Body: Buffer.from(Key) });
        assert.equal(put.statusCode, 200);
        // The live options are not in the SDK's typings.
        const { options } = skewed as unknown as { options: { SystemClockOffset: number } };
        assert.ok(Math.abs(options.SystemClockOffset) < 5_000, 'the offset was corrected');
      }
      assert.equal(logged.mock.callCount(), 2);
    },
  );

  const ODD_KEYS = [
    'odd/unicode 文件/ünïcødé 🎬.mp4',
    'odd/with  spaces/a b.txt',
    'odd/dots/../escape.txt',
    'odd/double//slash.txt',
    'odd/trailing/dir/',
    "odd/punct !'()*+,;=&@$%.txt",
  ];

  test('keys with unicode, spaces, `..`, `//` and a trailing `/` round-trip', LIMIT, async () => {
    for (const Key of ODD_KEYS) {
      const Body = Buffer.from(`content of ${Key}`);
      const put = await cos.putObject({ Bucket, Region: REGION, Key, Body });
      assert.equal(put.ETag, `"${md5(Body)}"`, Key);
      assert.ok((await download(Key)).equals(Body), Key);
      const head = await cos.headObject({ Bucket, Region: REGION, Key });
      assert.equal(head.headers?.['content-length'], String(Body.length), Key);
    }
    const listed = await cos.getBucket({ Bucket, Region: REGION, Prefix: 'odd/' });
    assert.deepEqual(
      listed.Contents.map((c) => c.Key),
      [...ODD_KEYS].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );
    // Multipart on an odd key, through init, part, list and complete.
    const Key = ODD_KEYS[0]!;
    const init = await cos.multipartInit({ Bucket, Region: REGION, Key });
    const Body = randomBytes(2048);
    const part = await cos.multipartUpload({
      Bucket,
      Region: REGION,
      Key,
      UploadId: init.UploadId,
      PartNumber: 1,
      Body,
    });
    assert.deepEqual(await uploadsFor(Key), [init.UploadId]);
    assert.deepEqual(await allParts(Key, init.UploadId), [{ PartNumber: 1, ETag: part.ETag }]);
    await cos.multipartComplete({
      Bucket,
      Region: REGION,
      Key,
      UploadId: init.UploadId,
      Parts: [{ PartNumber: 1, ETag: part.ETag }],
    });
    assert.ok((await download(Key)).equals(Body));
    for (const k of ODD_KEYS) {
      const deleted = await cos.deleteObject({ Bucket, Region: REGION, Key: k });
      assert.equal(deleted.statusCode, 204, k);
    }
    assert.deepEqual((await cos.getBucket({ Bucket, Region: REGION, Prefix: 'odd/' })).Contents, []);
  });
});
