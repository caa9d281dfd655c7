// Acceptance: the real @aws-sdk/client-s3 and @aws-sdk/lib-storage against mediahost over HTTP in path
// style, once per request checksum mode (WHEN_SUPPORTED sends aws-chunked bodies with a trailing CRC32
// for streams; WHEN_REQUIRED sends plain bodies), plus presigned GETs built with our own SigV4 helper.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { presignSigV4 } from '../../src/lib/sigv4.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;
/** Per-test bound; the whole suite has its own. */
const LIMIT = { timeout: 240_000 };
const REGION = 'ap-guangzhou';
type ChecksumMode = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';

const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

/** x-amz-checksum-crc32 form: base64 of the big-endian CRC-32. */
function crc32Base64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
}

/** A stream that yields `data` in pieces, so the SDK cannot treat it as one buffer. */
const streamOf = (data: Buffer, piece = 64 * 1024): Readable =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
    })(),
  );

/** Asserts that `promise` fails with the given S3 error name and HTTP status. */
async function rejectsWith(promise: Promise<unknown>, name: string, status: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof S3ServiceException, `expected an S3 error, got ${String(err)}`);
    assert.equal(err.name, name);
    assert.equal(err.$metadata.httpStatusCode, status);
    return true;
  });
}

describe('@aws-sdk/client-s3 against mediahost', { timeout: 300_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
  });

  for (const mode of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const satisfies readonly ChecksumMode[]) {
    describe(`requestChecksumCalculation ${mode}`, () => {
      let s3: S3Client;
      let Bucket: string;
      /** Headers of every request as signed and sent, keyed by the SDK's x-id (or method). */
      const wire: { op: string; headers: Record<string, string> }[] = [];
      const lastSent = (op: string): Record<string, string> => {
        const entry = wire.findLast((w) => w.op === op);
        assert.ok(entry, `no ${op} request was sent`);
        return entry.headers;
      };
      /** Every key of this pass lives under its own prefix, so the two passes never meet. */
      const p = (key: string): string => `${mode}/${key}`;

      const newClient = (systemClockOffset = 0): S3Client =>
        new S3Client({
          region: REGION,
          endpoint: server.url,
          forcePathStyle: true,
          credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
          requestChecksumCalculation: mode,
          responseChecksumValidation: mode,
          systemClockOffset,
        });

      const getBytes = async (Key: string, Range?: string): Promise<Buffer> => {
        const got = await s3.send(new GetObjectCommand({ Bucket, Key, ...(Range ? { Range } : {}) }));
        assert.ok(got.Body, 'GetObject returns a body');
        return Buffer.from(await got.Body.transformToByteArray());
      };

      before(() => {
        Bucket = server.bucket;
        s3 = newClient();
        s3.middlewareStack.add(
          (next) => async (args) => {
            const request = args.request as {
              method: string;
              query: Record<string, unknown>;
              headers: Record<string, string>;
            };
            const op = typeof request.query['x-id'] === 'string' ? request.query['x-id'] : request.method;
            wire.push({ op, headers: { ...request.headers } });
            return next(args);
          },
          { step: 'deserialize', name: 'recordWire' },
        );
      });

      after(() => {
        s3?.destroy();
      });

      test('ListBuckets and HeadBucket', LIMIT, async () => {
        const listed = await s3.send(new ListBucketsCommand({}));
        assert.deepEqual(
          (listed.Buckets ?? []).map((b) => b.Name),
          [Bucket],
        );
        assert.ok(listed.Buckets?.[0]?.CreationDate instanceof Date);
        const head = await s3.send(new HeadBucketCommand({ Bucket }));
        assert.equal(head.$metadata.httpStatusCode, 200);
        await rejectsWith(s3.send(new HeadBucketCommand({ Bucket: `missing-${Bucket}` })), 'NotFound', 404);
      });

      test('PutObject with a Buffer, then GetObject, a Range read and HeadObject', LIMIT, async () => {
        const data = randomBytes(256 * 1024 + 7);
        const Key = p('buffer.bin');
        const put = await s3.send(
          new PutObjectCommand({
            Bucket,
            Key,
            Body: data,
            ContentType: 'video/mp4',
            Metadata: { origin: 'acceptance' },
          }),
        );
        assert.equal(put.ETag, `"${md5(data)}"`);
        const sent = lastSent('PutObject');
        if (mode === 'WHEN_SUPPORTED') {
          assert.equal(sent['x-amz-checksum-crc32'], crc32Base64(data));
          assert.equal(put.ChecksumCRC32, crc32Base64(data));
        } else {
          assert.equal(sent['x-amz-checksum-crc32'], undefined);
        }

        assert.equal(md5(await getBytes(Key)), md5(data));

        const ranged = await s3.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=1000-4999' }));
        assert.equal(ranged.$metadata.httpStatusCode, 206);
        assert.equal(ranged.ContentRange, `bytes 1000-4999/${data.length}`);
        assert.equal(ranged.ContentLength, 4000);
        const slice = await ranged.Body!.transformToByteArray();
        assert.ok(Buffer.from(slice).equals(data.subarray(1000, 5000)));

        const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
        assert.equal(head.ContentLength, data.length);
        assert.equal(head.ContentType, 'video/mp4');
        assert.equal(head.ETag, put.ETag);
        assert.deepEqual(head.Metadata, { origin: 'acceptance' });
        assert.ok(head.LastModified instanceof Date);
      });

      test('PutObject with a stream body of known length', LIMIT, async () => {
        const data = randomBytes(3 * MiB + 5);
        const Key = p('stream.bin');
        const put = await s3.send(
          new PutObjectCommand({ Bucket, Key, Body: streamOf(data), ContentLength: data.length }),
        );
        assert.equal(put.ETag, `"${md5(data)}"`);
        const sent = lastSent('PutObject');
        if (mode === 'WHEN_SUPPORTED') {
          // aws-chunked framing with the CRC-32 in a trailer (spec cos-api §5.7).
          assert.equal(sent['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
          assert.equal(sent['x-amz-trailer'], 'x-amz-checksum-crc32');
          assert.equal(sent['x-amz-decoded-content-length'], String(data.length));
          assert.equal(put.ChecksumCRC32, crc32Base64(data));
        } else {
          assert.equal(sent['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
          assert.equal(sent['x-amz-trailer'], undefined);
        }
        const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
        assert.equal(head.ContentLength, data.length);
        // aws-chunked is a transfer detail, never stored as the object's encoding (spec cos-api §5.7).
        assert.equal(head.ContentEncoding, undefined);
        assert.equal(md5(await getBytes(Key)), md5(data));
      });

      test('lib-storage Upload of 13 MiB in 5 MiB parts (real S3 minimum)', LIMIT, async () => {
        const data = randomBytes(13 * MiB + 11);
        const Key = p('multipart/big file.bin');
        const upload = new Upload({
          client: s3,
          params: { Bucket, Key, Body: streamOf(data, MiB), ContentType: 'application/x-test' },
        });
        const mark = wire.length;
        const result = await upload.done();
        const partCount = Math.ceil(data.length / (5 * MiB));
        const partRequests = wire.slice(mark).filter((w) => w.op === 'UploadPart');
        assert.equal(partRequests.length, partCount);
        for (const { headers } of partRequests) {
          // lib-storage sends each part as a Buffer: checksum in a header, not aws-chunked.
          assert.equal(headers['x-amz-checksum-crc32'] !== undefined, mode === 'WHEN_SUPPORTED');
        }
        assert.match(result.ETag ?? '', new RegExp(`^"[0-9a-f]{32}-${partCount}"$`));
        assert.equal(result.Key, Key);
        assert.equal(result.Bucket, Bucket);

        const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
        assert.equal(head.ContentLength, data.length);
        assert.equal(head.ContentType, 'application/x-test');
        assert.equal(head.ETag, result.ETag);
        assert.equal(md5(await getBytes(Key)), md5(data));
        const tail = await getBytes(Key, `bytes=-${MiB + 3}`);
        assert.ok(tail.equals(data.subarray(data.length - MiB - 3)));
        const empty = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
        assert.deepEqual(empty.Uploads ?? [], []);
      });

      test('ListObjectsV2 with prefix, delimiter and continuation by MaxKeys', LIMIT, async () => {
        const keys = ['a.txt', 'b/1.txt', 'b/2.txt', 'c.txt', 'd/3.txt', 'e.txt'].map((k) => p(`list/${k}`));
        for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));

        const rolled = await s3.send(
          new ListObjectsV2Command({ Bucket, Prefix: p('list/'), Delimiter: '/' }),
        );
        assert.deepEqual(
          (rolled.Contents ?? []).map((c) => c.Key),
          [p('list/a.txt'), p('list/c.txt'), p('list/e.txt')],
        );
        assert.deepEqual(
          (rolled.CommonPrefixes ?? []).map((c) => c.Prefix),
          [p('list/b/'), p('list/d/')],
        );
        assert.equal(rolled.KeyCount, 5);
        assert.equal(rolled.Contents?.[0]?.ETag, `"${md5(Buffer.from(p('list/a.txt')))}"`);
        assert.equal(rolled.Contents?.[0]?.Size, p('list/a.txt').length);

        const flat: string[] = [];
        let ContinuationToken: string | undefined;
        let pages = 0;
        do {
          const page = await s3.send(
            new ListObjectsV2Command({
              Bucket,
              Prefix: p('list/'),
              MaxKeys: 4,
              ...(ContinuationToken ? { ContinuationToken } : {}),
            }),
          );
          pages++;
          flat.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
          ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (ContinuationToken && pages < 10);
        assert.deepEqual(flat, keys);
        assert.equal(pages, Math.ceil(keys.length / 4));

        // Paging across common prefixes: each prefix counts as one entry.
        const seen: string[] = [];
        ContinuationToken = undefined;
        do {
          const page: ListObjectsV2CommandOutput = await s3.send(
            new ListObjectsV2Command({
              Bucket,
              Prefix: p('list/'),
              Delimiter: '/',
              MaxKeys: 1,
              ...(ContinuationToken ? { ContinuationToken } : {}),
            }),
          );
          seen.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
          seen.push(...(page.CommonPrefixes ?? []).map((c) => c.Prefix ?? ''));
          ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (ContinuationToken && seen.length < 20);
        assert.deepEqual(seen, [
          p('list/a.txt'),
          p('list/b/'),
          p('list/c.txt'),
          p('list/d/'),
          p('list/e.txt'),
        ]);
      });

      test('AbortMultipartUpload: later UploadPart and ListParts get NoSuchUpload', LIMIT, async () => {
        const Key = p('abort/upload.bin');
        const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
        const UploadId = created.UploadId;
        assert.ok(UploadId);
        const part = randomBytes(64 * 1024);
        const uploaded = await s3.send(
          new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: part }),
        );
        assert.equal(uploaded.ETag, `"${md5(part)}"`);
        const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
        assert.deepEqual(
          (listed.Parts ?? []).map((x) => [x.PartNumber, x.ETag, x.Size]),
          [[1, uploaded.ETag, part.length]],
        );
        const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
        assert.deepEqual(
          (uploads.Uploads ?? []).map((u) => [u.Key, u.UploadId]),
          [[Key, UploadId]],
        );

        const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
        assert.equal(aborted.$metadata.httpStatusCode, 204);
        await rejectsWith(
          s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: part })),
          'NoSuchUpload',
          404,
        );
        await rejectsWith(s3.send(new ListPartsCommand({ Bucket, Key, UploadId })), 'NoSuchUpload', 404);
        await rejectsWith(
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket,
              Key,
              UploadId,
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: uploaded.ETag }] },
            }),
          ),
          'NoSuchUpload',
          404,
        );
        const remaining = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
        assert.deepEqual(remaining.Uploads ?? [], []);
        await rejectsWith(s3.send(new HeadObjectCommand({ Bucket, Key })), 'NotFound', 404);
      });

      test('CopyObject copies bytes and metadata, or replaces the metadata', LIMIT, async () => {
        const data = randomBytes(100 * 1024);
        const source = p('copy/source file ü.bin');
        await s3.send(
          new PutObjectCommand({
            Bucket,
            Key: source,
            Body: data,
            ContentType: 'image/png',
            Metadata: { kept: 'yes' },
          }),
        );
        const CopySource = `${Bucket}/${encodeURIComponent(source)}`;

        const copied = await s3.send(new CopyObjectCommand({ Bucket, Key: p('copy/same'), CopySource }));
        assert.equal(copied.CopyObjectResult?.ETag, `"${md5(data)}"`);
        assert.ok(copied.CopyObjectResult?.LastModified instanceof Date);
        const same = await s3.send(new HeadObjectCommand({ Bucket, Key: p('copy/same') }));
        assert.equal(same.ContentType, 'image/png');
        assert.deepEqual(same.Metadata, { kept: 'yes' });
        assert.equal(md5(await getBytes(p('copy/same'))), md5(data));

        await s3.send(
          new CopyObjectCommand({
            Bucket,
            Key: p('copy/replaced'),
            CopySource,
            MetadataDirective: 'REPLACE',
            ContentType: 'text/plain',
            Metadata: { fresh: '1' },
          }),
        );
        const replaced = await s3.send(new HeadObjectCommand({ Bucket, Key: p('copy/replaced') }));
        assert.equal(replaced.ContentType, 'text/plain');
        assert.deepEqual(replaced.Metadata, { fresh: '1' });
        assert.equal(replaced.ETag, `"${md5(data)}"`);

        await rejectsWith(
          s3.send(
            new CopyObjectCommand({
              Bucket,
              Key: p('copy/none'),
              CopySource: `${Bucket}/${encodeURIComponent(p('copy/missing'))}`,
            }),
          ),
          'NoSuchKey',
          404,
        );
      });

      test('DeleteObjects removes listed keys; missing keys count as deleted', LIMIT, async () => {
        const keys = ['x', 'y', 'z'].map((k) => p(`bulk/${k}`));
        for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
        const requested = [...keys, p('bulk/never-existed')];
        const result = await s3.send(
          new DeleteObjectsCommand({ Bucket, Delete: { Objects: requested.map((Key) => ({ Key })) } }),
        );
        assert.deepEqual((result.Deleted ?? []).map((d) => d.Key).sort(), [...requested].sort());
        assert.deepEqual(result.Errors ?? [], []);
        const left = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: p('bulk/') }));
        assert.equal(left.KeyCount, 0);
        for (const Key of keys)
          await rejectsWith(s3.send(new HeadObjectCommand({ Bucket, Key })), 'NotFound', 404);
      });

      test('a checksum that does not match the body is BadDigest and nothing is stored', LIMIT, async () => {
        const Key = p('integrity/corrupt.bin');
        const command = new PutObjectCommand({
          Bucket,
          Key,
          Body: randomBytes(1000),
          ChecksumAlgorithm: 'CRC32',
        });
        // After the SDK computed the checksum and before it signs: the request is self-consistent
        // apart from the checksum, which now belongs to other bytes.
        command.middlewareStack.add(
          (next) => async (args) => {
            const request = args.request as { headers: Record<string, string> };
            assert.ok(request.headers['x-amz-checksum-crc32'], 'the SDK sent a CRC-32');
            request.headers['x-amz-checksum-crc32'] = crc32Base64(Buffer.from('other bytes'));
            return next(args);
          },
          { step: 'build', priority: 'low', name: 'corruptChecksum' },
        );
        await rejectsWith(s3.send(command), 'BadDigest', 400);
        await rejectsWith(s3.send(new HeadObjectCommand({ Bucket, Key })), 'NotFound', 404);
      });

      test(
        'missing keys: HeadObject is NotFound, GetObject is NoSuchKey, DeleteObject succeeds',
        LIMIT,
        async () => {
          const Key = p('missing/nothing-here');
          await rejectsWith(s3.send(new HeadObjectCommand({ Bucket, Key })), 'NotFound', 404);
          await rejectsWith(s3.send(new GetObjectCommand({ Bucket, Key })), 'NoSuchKey', 404);
          const deleted = await s3.send(new DeleteObjectCommand({ Bucket, Key }));
          assert.equal(deleted.$metadata.httpStatusCode, 204);
        },
      );

      test(
        'a presigned GET URL (SigV4 query form) downloads the object; a tampered one is refused',
        LIMIT,
        async () => {
          const data = randomBytes(10_000);
          const Key = p('presigned/clip 1.mp4');
          await s3.send(new PutObjectCommand({ Bucket, Key, Body: data }));
          const encodedKey = Key.split('/').map(encodeURIComponent).join('/');
          const url = presignSigV4({
            accessKeyId: server.accessKeyId,
            secretAccessKey: server.secretAccessKey,
            region: REGION,
            method: 'GET',
            url: `${server.url}/${Bucket}/${encodedKey}`,
            expiresSeconds: 300,
            now: new Date(),
          });
          const ok = await fetch(url);
          assert.equal(ok.status, 200);
          assert.ok(Buffer.from(await ok.arrayBuffer()).equals(data));

          const ranged = await fetch(url, { headers: { range: 'bytes=0-99' } });
          assert.equal(ranged.status, 206);
          assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(0, 100)));

          const tampered = await fetch(url.replace(/X-Amz-Expires=300/, 'X-Amz-Expires=3000'));
          assert.equal(tampered.status, 403);
          assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

          const expired = presignSigV4({
            accessKeyId: server.accessKeyId,
            secretAccessKey: server.secretAccessKey,
            region: REGION,
            method: 'GET',
            url: `${server.url}/${Bucket}/${encodedKey}`,
            expiresSeconds: 60,
            now: new Date(Date.now() - 10 * 60_000),
          });
          const late = await fetch(expired);
          assert.equal(late.status, 403);
          assert.match(
            await late.text(),
            /<Code>AccessDenied<\/Code>\s*<Message>Request has expired<\/Message>/,
          );
        },
      );

      test(
        'a client clock an hour ahead gets RequestTimeTooSkewed and corrects itself from Date',
        LIMIT,
        async () => {
          const skewed = newClient(3600_000);
          try {
            const Key = p('skew/object');
            const put = () => skewed.send(new PutObjectCommand({ Bucket, Key, Body: 'skewed' }));
            // The SDK resets its clock offset from the error's Date header. It retries at once only when
            // the corrected offset is itself large (a wrong machine clock); here server and client share
            // the machine's clock, so the offset returns to ~0 and the next call succeeds.
            await rejectsWith(put(), 'RequestTimeTooSkewed', 403);
            assert.ok(Math.abs(skewed.config.systemClockOffset) < 5_000, 'the offset was corrected');
            const ok = await put();
            assert.equal(ok.$metadata.httpStatusCode, 200);
          } finally {
            skewed.destroy();
          }
        },
      );

      const ODD_KEYS = [
        'odd/unicode 文件/ünïcødé 🎬.mp4',
        'odd/with  spaces/a b.txt',
        'odd/dots/../escape.txt',
        'odd/double//slash.txt',
        'odd/trailing/dir/',
        "odd/punct !'()*+,;=&@$%~.txt",
      ];

      test('keys with unicode, spaces, `..`, `//` and a trailing `/` round-trip', LIMIT, async () => {
        const keys = ODD_KEYS.map(p);
        for (const Key of keys) {
          const Body = Buffer.from(`content of ${Key}`);
          const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
          assert.equal(put.ETag, `"${md5(Body)}"`, Key);
          assert.ok((await getBytes(Key)).equals(Body), Key);
          const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
          assert.equal(head.ContentLength, Body.length, Key);
        }
        const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: p('odd/') }));
        assert.deepEqual(
          (listed.Contents ?? []).map((c) => c.Key),
          [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
        );
        // With EncodingType url the keys come back percent-encoded; the SDK hands them over as sent.
        const encoded = await s3.send(
          new ListObjectsV2Command({ Bucket, Prefix: p('odd/'), EncodingType: 'url' }),
        );
        assert.deepEqual(
          (encoded.Contents ?? []).map((c) => decodeURIComponent(c.Key ?? '')),
          (listed.Contents ?? []).map((c) => c.Key),
        );

        // Multipart and copy on odd keys.
        const Key = keys[0]!;
        const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
        const Body = randomBytes(4096);
        const part = await s3.send(
          new UploadPartCommand({ Bucket, Key, UploadId: created.UploadId, PartNumber: 1, Body }),
        );
        const completed = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId: created.UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        );
        assert.equal(completed.Key, Key);
        assert.match(completed.ETag ?? '', /^"[0-9a-f]{32}-1"$/);
        const copyTarget = keys[3]!;
        await s3.send(
          new CopyObjectCommand({
            Bucket,
            Key: copyTarget,
            CopySource: `${Bucket}/${encodeURIComponent(keys[2]!)}`,
          }),
        );
        assert.equal((await getBytes(copyTarget)).toString(), `content of ${keys[2]}`);
        assert.ok((await getBytes(Key)).equals(Body));

        for (const k of keys) await s3.send(new DeleteObjectCommand({ Bucket, Key: k }));
        const none = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: p('odd/') }));
        assert.equal(none.KeyCount, 0);
      });
    });
  }
});
