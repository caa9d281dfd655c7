// Acceptance: the objects and uploads behind SMH files belong to SMH (ADR 0001 §17). With the library's
// object-API key pair (the AWS and COS SDKs, a form, a presigned URL) or anonymously, nothing under
// `<libraryId>/` can be listed, read, written, copied, deleted or aborted, and SMH state stays whole;
// SMH's own grants and download URLs keep working, and every other key stays fully usable.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import COS from 'cos-nodejs-sdk-v5';
import { cosPolicySignature } from '../../src/lib/cos-signature.ts';
import { presignSigV4 } from '../../src/lib/sigv4.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  bytesOf,
  createToken,
  expectJson,
  MiB,
  md5Hex,
  postForm,
  putParts,
  SmhClient,
  type TaskStatus,
  uploadFile,
} from '../helpers/smh-client.ts';

const REGION = 'ap-guangzhou';

function split(data: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += size) parts.push(data.subarray(off, off + size));
  return parts;
}

async function s3Denied(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(
    promise,
    (err: unknown) => {
      assert.ok(err instanceof S3ServiceException, `${what}: expected an S3 error, got ${String(err)}`);
      assert.equal(err.$metadata.httpStatusCode, 403, what);
      // HEAD answers carry no body, so only the status tells.
      if (!what.startsWith('HeadObject')) assert.equal(err.name, 'AccessDenied', what);
      return true;
    },
    what,
  );
}

async function cosDenied(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(
    promise,
    (err: COS.CosSdkError) => {
      assert.equal(err.statusCode, 403, what);
      return true;
    },
    what,
  );
}

const partsOf = (status: TaskStatus) =>
  (status.parts ?? []).map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag, Size: p.Size }));

describe('SMH files are out of reach of the object-API keys', { timeout: 300_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;
  let s3: S3Client;
  let cos: COS;
  let Bucket: string;
  /** The library's SMH keys start with this. */
  let reserved: string;
  const ordinary = 'ordinary/source.bin';
  const ordinaryData = bytesOf('ordinary-source', 200_000);

  /** The object key behind a grant: its path is `/{bucket}/{key}`. */
  const keyOfGrant = (path: string): string => {
    assert.ok(path.startsWith(`/${Bucket}/`), path);
    return decodeURIComponent(path.slice(Bucket.length + 2));
  };

  /** Keys and upload keys the object-API listings show for `Prefix`, with and without a delimiter. */
  async function listed(Prefix: string): Promise<string[]> {
    const seen: string[] = [];
    for (const Delimiter of [undefined, '/']) {
      const objects = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, Delimiter }));
      seen.push(...(objects.Contents ?? []).map((o) => o.Key!));
      seen.push(...(objects.CommonPrefixes ?? []).map((p) => p.Prefix!));
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix, Delimiter }));
      seen.push(...(uploads.Uploads ?? []).map((u) => u.Key!));
      seen.push(...(uploads.CommonPrefixes ?? []).map((p) => p.Prefix!));
    }
    const v1 = await cos.getBucket({ Bucket, Region: REGION, Prefix, Delimiter: '/' });
    seen.push(...v1.Contents.map((o) => o.Key), ...v1.CommonPrefixes.map((p) => p.Prefix));
    const cosUploads = await cos.multipartList({ Bucket, Region: REGION, Prefix, Delimiter: '' });
    seen.push(...(cosUploads.Upload ?? []).map((u) => u.Key));
    return seen;
  }

  async function assertUnlisted(key: string): Promise<void> {
    for (const prefix of ['', server.libraryId, reserved, key]) {
      const seen = await listed(prefix);
      assert.ok(
        seen.every((k) => !k.startsWith(reserved)),
        `prefix "${prefix}" lists SMH keys: ${seen.join(', ')}`,
      );
    }
  }

  async function assertMissing(Key: string, what: string): Promise<void> {
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket, Key })), (err: unknown) => {
      assert.ok(err instanceof S3ServiceException, what);
      assert.equal(err.$metadata.httpStatusCode, 404, what);
      return true;
    });
  }

  /** A COS POST form signed with the library's key pair, for `key`. */
  async function postWithLibraryKey(key: string, body: Buffer): Promise<Response> {
    const now = Math.floor(Date.now() / 1000);
    const keyTime = `${now - 60};${now + 900}`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 600_000).toISOString(),
        conditions: [{ bucket: Bucket }, { 'q-ak': server.accessKeyId }, { 'q-sign-time': keyTime }],
      }),
    );
    const form = new FormData();
    for (const [name, value] of [
      ['key', key],
      ['policy', policy.toString('base64')],
      ['q-sign-algorithm', 'sha1'],
      ['q-ak', server.accessKeyId],
      ['q-key-time', keyTime],
      ['q-signature', cosPolicySignature(server.secretAccessKey, keyTime, policy)],
    ] as const)
      form.append(name, value);
    form.append('file', new Blob([body]), 'file.bin');
    return fetch(`${server.url}/${Bucket}`, { method: 'POST', body: form });
  }

  before(async () => {
    server = await startTestServer();
    Bucket = server.bucket;
    reserved = `${server.libraryId}/`;
    const token = await createToken(server.url, server, { grant: 'admin' });
    smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    assert.equal((await smh.mkdir('reserved')).status, 201);
    s3 = new S3Client({
      region: REGION,
      endpoint: server.url,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    cos = new COS({
      SecretId: server.accessKeyId,
      SecretKey: server.secretAccessKey,
      Protocol: 'http:',
      Ip: `127.0.0.1:${server.port}`,
    });
    await s3.send(new PutObjectCommand({ Bucket, Key: ordinary, Body: ordinaryData }));
  });

  after(async () => {
    s3?.destroy();
    await server?.close();
  });

  it('a live multipart task: its upload cannot be aborted, listed, completed or written to; it confirms', async () => {
    const data = bytesOf('reserved-live', 2 * MiB + 777);
    const parts = split(data, MiB);
    const begin = await smh.beginTask('multipart', 'reserved/live.bin');
    await putParts(begin, parts.slice(0, 2));
    const Key = keyOfGrant(begin.path);
    const UploadId = begin.uploadId!;
    assert.ok(Key.startsWith(reserved), `${Key} is an SMH key`);
    const before = await expectJson<TaskStatus>(await smh.status(begin.confirmKey), 200);
    assert.equal(before.parts?.length, 2);

    const upload = { Bucket, Key, UploadId };
    await s3Denied(s3.send(new AbortMultipartUploadCommand(upload)), 'AbortMultipartUpload');
    await cosDenied(cos.multipartAbort({ ...upload, Region: REGION }), 'COS multipartAbort');
    await s3Denied(s3.send(new ListPartsCommand(upload)), 'ListParts');
    await cosDenied(cos.multipartListPart({ ...upload, Region: REGION }), 'COS multipartListPart');
    await s3Denied(
      s3.send(new UploadPartCommand({ ...upload, PartNumber: 2, Body: Buffer.from('replaced') })),
      'UploadPart',
    );
    await s3Denied(
      s3.send(new UploadPartCopyCommand({ ...upload, PartNumber: 3, CopySource: `${Bucket}/${ordinary}` })),
      'UploadPartCopy into the task',
    );
    await s3Denied(
      s3.send(
        new CompleteMultipartUploadCommand({
          ...upload,
          MultipartUpload: {
            Parts: partsOf(before).map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })),
          },
        }),
      ),
      'CompleteMultipartUpload',
    );
    await s3Denied(s3.send(new CreateMultipartUploadCommand({ Bucket, Key })), 'CreateMultipartUpload');
    await s3Denied(s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' })), 'PutObject');
    await assertUnlisted(Key);

    const afterwards = await expectJson<TaskStatus>(await smh.status(begin.confirmKey), 200);
    assert.deepEqual(partsOf(afterwards), partsOf(before), 'the task keeps its parts');
    await putParts(begin, parts.slice(2), 3);
    const file = await smh.confirmFile(begin.confirmKey);
    assert.equal(file.size, String(data.length));
    assert.ok((await smh.download('reserved/live.bin')).body.equals(data));
  });

  it('a confirmed file: its object cannot be read, copied, overwritten or deleted; downloads and ?info hold', async () => {
    const data = bytesOf('reserved-done', 300_000);
    await uploadFile(smh, 'reserved/done.bin', data);
    const first = await smh.download('reserved/done.bin');
    assert.ok(first.body.equals(data));
    const Key = decodeURIComponent(new URL(first.location).pathname.slice(Bucket.length + 2));
    assert.ok(Key.startsWith(reserved), `${Key} is an SMH key`);
    const infoOf = async () => {
      const res = await smh.request('GET', 'file', 'reserved/done.bin', {
        query: { info: '', pre_check: '1' },
      });
      return expectJson<Record<string, unknown>>(res, 200);
    };
    const info = await infoOf();
    assert.equal(info.size, String(data.length));

    await s3Denied(s3.send(new GetObjectCommand({ Bucket, Key })), 'GetObject');
    await s3Denied(s3.send(new HeadObjectCommand({ Bucket, Key })), 'HeadObject');
    await cosDenied(cos.getObject({ Bucket, Region: REGION, Key }), 'COS getObject');
    const presigned = presignSigV4({
      url: `${server.url}/${Bucket}/${Key}`,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: REGION,
      method: 'GET',
      expiresSeconds: 600,
      now: new Date(),
    });
    assert.equal((await fetch(presigned)).status, 403, 'a presigned GET with the library key');

    await s3Denied(s3.send(new PutObjectCommand({ Bucket, Key, Body: 'overwritten' })), 'PutObject');
    await cosDenied(cos.putObject({ Bucket, Region: REGION, Key, Body: 'overwritten' }), 'COS putObject');
    await s3Denied(
      s3.send(new CopyObjectCommand({ Bucket, Key, CopySource: `${Bucket}/${ordinary}` })),
      'CopyObject onto the file',
    );
    await s3Denied(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'ordinary/stolen.bin', CopySource: `${Bucket}/${Key}` })),
      'CopyObject from the file',
    );
    await assertMissing('ordinary/stolen.bin', 'the refused copy made nothing');
    const target = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'ordinary/assembled.bin' }));
    await s3Denied(
      s3.send(
        new UploadPartCopyCommand({
          Bucket,
          Key: 'ordinary/assembled.bin',
          UploadId: target.UploadId!,
          PartNumber: 1,
          CopySource: `${Bucket}/${Key}`,
        }),
      ),
      'UploadPartCopy from the file',
    );
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket, Key: 'ordinary/assembled.bin', UploadId: target.UploadId! }),
    );
    await s3Denied(s3.send(new DeleteObjectCommand({ Bucket, Key })), 'DeleteObject');
    await cosDenied(cos.deleteObject({ Bucket, Region: REGION, Key }), 'COS deleteObject');

    // A batch mixing keys: the ordinary one goes, the SMH one is refused on its own.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'ordinary/doomed.bin', Body: 'doomed' }));
    const batch = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: 'ordinary/doomed.bin' }, { Key }] },
      }),
    );
    assert.deepEqual(
      (batch.Deleted ?? []).map((d) => d.Key),
      ['ordinary/doomed.bin'],
    );
    assert.deepEqual(
      (batch.Errors ?? []).map((e) => ({ Key: e.Key, Code: e.Code })),
      [{ Key, Code: 'AccessDenied' }],
    );
    const quiet = await cos.deleteMultipleObject({
      Bucket,
      Region: REGION,
      Objects: [{ Key }],
      Quiet: true,
    });
    assert.deepEqual(
      quiet.Error.map((e) => e.Key),
      [Key],
      'quiet mode still names the refused key',
    );
    await assertMissing('ordinary/doomed.bin', 'the ordinary key of the batch was deleted');

    assert.equal((await postWithLibraryKey(Key, Buffer.from('posted'))).status, 403, 'a form onto the file');
    await assertUnlisted(Key);

    assert.ok(
      (await smh.download('reserved/done.bin')).body.equals(data),
      'the download still has the bytes',
    );
    assert.deepEqual(await infoOf(), info, '?info is unchanged');
  });

  it('no key under the SMH prefix can be created with the keys, so none can collide with a file', async () => {
    const Key = `${reserved}${'0'.repeat(32)}`;
    await s3Denied(s3.send(new PutObjectCommand({ Bucket, Key, Body: 'early' })), 'PutObject');
    await s3Denied(s3.send(new CreateMultipartUploadCommand({ Bucket, Key })), 'CreateMultipartUpload');
    await s3Denied(
      s3.send(new CopyObjectCommand({ Bucket, Key, CopySource: `${Bucket}/${ordinary}` })),
      'CopyObject',
    );
    assert.equal((await postWithLibraryKey(Key, Buffer.from('early'))).status, 403, 'POST Object');
    // The answer does not depend on whether the key exists.
    await s3Denied(s3.send(new GetObjectCommand({ Bucket, Key })), 'GetObject of a missing SMH key');
    await assertUnlisted(Key);
  });

  it('anonymous requests to a public-read-write bucket cannot reach SMH keys either', async () => {
    const data = bytesOf('reserved-public', 10_000);
    await uploadFile(smh, 'reserved/public.bin', data);
    const Key = decodeURIComponent(
      new URL((await smh.download('reserved/public.bin')).location).pathname.slice(Bucket.length + 2),
    );
    // No API sets a bucket ACL; an operator's edit of the database stands in for one.
    const db = new DatabaseSync(join(server.dataDir, 'mediahost.db'), { timeout: 30_000 });
    const setAcl = (acl: string) => db.prepare('UPDATE buckets SET acl = ? WHERE name = ?').run(acl, Bucket);
    setAcl('public-read-write');
    try {
      const at = (key: string) => `${server.url}/${Bucket}/${key}`;
      assert.equal((await fetch(at(ordinary))).status, 200, 'the bucket is public now');
      assert.equal((await fetch(at(Key))).status, 403, 'anonymous GET');
      assert.equal((await fetch(at(Key), { method: 'HEAD' })).status, 403, 'anonymous HEAD');
      assert.equal((await fetch(at(Key), { method: 'PUT', body: 'x' })).status, 403, 'anonymous PUT');
      assert.equal((await fetch(at(Key), { method: 'DELETE' })).status, 403, 'anonymous DELETE');
      const listing = await (await fetch(`${server.url}/${Bucket}?prefix=${server.libraryId}`)).text();
      assert.ok(!listing.includes(reserved), listing);
    } finally {
      setAcl('private');
      db.close();
    }
    assert.ok((await smh.download('reserved/public.bin')).body.equals(data));
  });

  it('SMH grants keep working for every flavour, and download URLs serve only their own file', async () => {
    const simple = bytesOf('reserved-simple', 5000);
    await uploadFile(smh, 'reserved/simple.bin', simple);
    const formData = bytesOf('reserved-form', 7000);
    const form = await smh.beginTask('form', 'reserved/form.bin');
    assert.ok(form.form?.key?.startsWith(reserved), 'a form grant writes an SMH key');
    await postForm(form, formData, 'form.bin');
    await smh.confirmFile(form.confirmKey);
    const one = await smh.download('reserved/simple.bin');
    const two = await smh.download('reserved/form.bin');
    assert.ok(one.body.equals(simple) && two.body.equals(formData));
    // The signature covers the path: the URL of one file does not open another.
    const swapped = new URL(one.location);
    swapped.pathname = new URL(two.location).pathname;
    assert.equal((await fetch(swapped)).status, 403);
  });

  it('every other key stays fully usable, including keys that start like the SMH prefix', async () => {
    const keys = [
      server.libraryId,
      `${server.libraryId}.txt`,
      `${server.libraryId}0/x`,
      `nested/${reserved}x`,
    ];
    for (const Key of keys) {
      const body = bytesOf(Key, 1000);
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: body }));
      const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
      assert.equal(md5Hex(Buffer.from(await got.Body!.transformToByteArray())), md5Hex(body), Key);
      await s3.send(
        new CopyObjectCommand({
          Bucket,
          Key: `${Key}.copy`,
          CopySource: `${Bucket}/${encodeURIComponent(Key)}`,
        }),
      );
    }
    const big = bytesOf('ordinary-multipart', 6 * MiB);
    const Key = `${server.libraryId}.multipart`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: server.libraryId }));
    assert.deepEqual(
      (uploads.Uploads ?? []).map((u) => u.Key),
      [Key],
    );
    const etags: string[] = [];
    for (const [i, part] of split(big, 5 * MiB).entries()) {
      const sent = await s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: part }),
      );
      etags.push(sent.ETag!);
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    // Paging one key at a time across the hidden run loses nothing and shows nothing of it.
    const paged: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket, Prefix: server.libraryId, MaxKeys: 1, ContinuationToken }),
      );
      paged.push(...(page.Contents ?? []).map((o) => o.Key!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    const expected = [...keys.filter((k) => k.startsWith(server.libraryId)), Key]
      .flatMap((k) => (k === Key ? [k] : [k, `${k}.copy`]))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(paged, expected);
    for (const k of [...keys, ...keys.map((k) => `${k}.copy`), Key])
      await s3.send(new DeleteObjectCommand({ Bucket, Key: k }));
    const left = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: server.libraryId }));
    assert.equal(left.KeyCount, 0);
  });
});
