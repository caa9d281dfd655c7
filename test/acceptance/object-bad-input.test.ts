// Hostile and malformed input to the object API: each gets its COS/S3 error, nothing is half-stored,
// nothing is written outside the data dir, and the server keeps serving.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blobFiles } from '../helpers/blob-files.ts';
import { md5Hex, ObjectClient, partBytes, xmlValue } from '../helpers/object-client.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { cosFetch } from '../helpers/sign.ts';

const MiB = 1024 * 1024;

async function expectError(res: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(xmlValue(text, 'Code'), code, text);
  assert.ok(res.headers.get('x-cos-request-id'), 'errors carry x-cos-request-id');
  assert.ok(res.headers.get('date'), 'errors carry Date');
  if (message) assert.match(xmlValue(text, 'Message') ?? '', message);
}

describe('object API bad input', { timeout: 300_000 }, () => {
  let parent: string;
  let server: TestServer;
  let client: ObjectClient;

  before(async () => {
    parent = tempDir('mediahost-jail-');
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir);
    server = await startTestServer({ dataDir });
    client = new ObjectClient({
      url: server.url,
      bucket: server.bucket,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
  });

  after(async () => {
    await server.close();
    rmSync(parent, { recursive: true, force: true });
  });

  it('an unknown access key: 403 InvalidAccessKeyId', async () => {
    const res = await cosFetch(
      server.url,
      { accessKeyId: 'AKIDnotakey', secretAccessKey: 'x' },
      {
        method: 'GET',
        path: `/${server.bucket}/a`,
      },
    );
    await expectError(res, 403, 'InvalidAccessKeyId');
  });

  it('a wrong secret: 403 SignatureDoesNotMatch', async () => {
    const res = await cosFetch(
      server.url,
      { accessKeyId: server.accessKeyId, secretAccessKey: 'wrong' },
      {
        method: 'PUT',
        path: `/${server.bucket}/a`,
        body: 'x',
      },
    );
    await expectError(res, 403, 'SignatureDoesNotMatch');
    assert.equal((await client.get('a')).status, 404);
  });

  it('an expired signature: 403 AccessDenied "Request has expired"', async () => {
    const res = await cosFetch(
      server.url,
      { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      {
        method: 'GET',
        path: `/${server.bucket}/a`,
        window: { start: -3600, end: -60 },
      },
    );
    await expectError(res, 403, 'AccessDenied', /^Request has expired$/);
  });

  it('a signature from the far future: 403 RequestTimeTooSkewed', async () => {
    const res = await cosFetch(
      server.url,
      { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      {
        method: 'GET',
        path: `/${server.bucket}/a`,
        window: { start: 7200, end: 9000 },
      },
    );
    await expectError(res, 403, 'RequestTimeTooSkewed');
  });

  it('anonymous requests are refused', async () => {
    const res = await fetch(`${server.url}/${server.bucket}/a`, { method: 'PUT', body: 'x' });
    await expectError(res, 403, 'AccessDenied');
  });

  it('a bad Content-MD5: 400 BadDigest and nothing stored; a malformed one: 400 InvalidDigest', async () => {
    const wrong = Buffer.from(md5Hex(Buffer.from('other')), 'hex').toString('base64');
    await expectError(
      await client.put('digest', Buffer.from('payload'), { 'content-md5': wrong }),
      400,
      'BadDigest',
    );
    await expectError(
      await client.put('digest', Buffer.from('payload'), { 'content-md5': 'nope' }),
      400,
      'InvalidDigest',
    );
    assert.equal((await client.get('digest')).status, 404);
    const right = Buffer.from(md5Hex(Buffer.from('payload')), 'hex').toString('base64');
    assert.equal((await client.put('digest', Buffer.from('payload'), { 'content-md5': right })).status, 200);
  });

  it('malformed and out-of-order Complete XML, too-small parts, part 10001', async () => {
    const key = 'complete/bad.bin';
    const uploadId = await client.initiate(key);
    const small = partBytes(key, 1, 1000);
    const big = partBytes(key, 2, MiB);
    assert.equal((await client.uploadPart(key, uploadId, 1, small)).status, 200);
    assert.equal((await client.uploadPart(key, uploadId, 2, big)).status, 200);
    const post = (body: string) =>
      client.request('POST', key, {
        query: { uploadId },
        body,
        headers: { 'content-type': 'application/xml' },
      });
    await expectError(await post('<CompleteMultipartUpload><Part>'), 400, 'MalformedXML');
    await expectError(await post('<Other/>'), 400, 'MalformedXML');
    await expectError(await post('<CompleteMultipartUpload></CompleteMultipartUpload>'), 400, 'MalformedXML');
    await expectError(
      await client.complete(key, uploadId, [
        { n: 2, etag: md5Hex(big) },
        { n: 1, etag: md5Hex(small) },
      ]),
      400,
      'InvalidPartOrder',
    );
    await expectError(
      await client.complete(key, uploadId, [{ n: 1, etag: md5Hex(big) }]),
      400,
      'InvalidPart',
    );
    await expectError(
      await client.complete(key, uploadId, [
        { n: 1, etag: md5Hex(small) },
        { n: 2, etag: md5Hex(big) },
      ]),
      400,
      'EntityTooSmall',
    );
    await expectError(
      await client.uploadPart(key, uploadId, 10001, Buffer.from('x')),
      400,
      'InvalidArgument',
    );
    await expectError(await client.uploadPart(key, uploadId, 0, Buffer.from('x')), 400, 'InvalidArgument');
    await expectError(
      await client.uploadPart(key, 'no-such-upload', 1, Buffer.from('x')),
      404,
      'NoSuchUpload',
    );
    // None of that touched the upload: it still completes with its valid parts.
    assert.equal((await client.uploadPart(key, uploadId, 1, big)).status, 200);
    const ok = await client.complete(key, uploadId, [
      { n: 1, etag: md5Hex(big) },
      { n: 2, etag: md5Hex(big) },
    ]);
    assert.equal(ok.status, 200, await ok.text());
  });

  it('oversized headers: 431 from the server, 400 MetadataTooLarge for metadata above 2 KB', async () => {
    const status = await new Promise<{ status: number; requestId: string | undefined }>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/${server.bucket}/big-headers`,
        { method: 'GET', headers: { 'x-filler': 'a'.repeat(32 * 1024) } },
        (res) => {
          res.resume();
          resolve({
            status: res.statusCode ?? 0,
            requestId: res.headers['x-cos-request-id'] as string | undefined,
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status.status, 431);
    assert.ok(status.requestId);
    const res = await client.put('meta', Buffer.from('x'), { 'x-cos-meta-big': 'v'.repeat(3000) });
    await expectError(res, 400, 'MetadataTooLarge');
  });

  it('keys that look like paths never leave the data dir', async () => {
    const marker = `escape-${process.pid}-${Date.now()}`;
    const keys = [
      `../../${marker}`,
      `../../../../../../tmp/${marker}`,
      `/${marker}`,
      `a/./b/../../${marker}`,
      `..\\..\\${marker}`,
      `%2e%2e/${marker}`,
      `//${marker}//`,
    ];
    for (const key of keys) {
      const body = Buffer.from(`content of ${key}`);
      const put = await client.put(key, body);
      assert.equal(put.status, 200, `${key}: ${await put.text()}`);
      const got = await client.get(key);
      assert.ok(got.body.equals(body), `${key} reads back`);
    }
    // Raw dot segments on the wire are key characters too, not path navigation.
    const creds = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
    const rawPath = `/${server.bucket}/../../${marker}-raw`;
    const raw = await cosFetch(server.url, creds, { method: 'PUT', path: rawPath, body: 'raw' });
    assert.equal(raw.status, 200, await raw.text());
    const back = await cosFetch(server.url, creds, { method: 'GET', path: rawPath });
    assert.equal(await back.text(), 'raw');
    assert.deepEqual(readdirSync(parent), ['data'], 'nothing was created beside the data dir');
    assert.equal(existsSync(`/tmp/${marker}`), false);
    assert.equal(existsSync(`/${marker}`), false);
    assert.ok(!readdirSync(join(parent, 'data')).some((name) => name.includes('escape')));
    assert.ok(!blobFiles(join(parent, 'data')).blobs.some((name) => name.includes('escape')));
  });

  it('the process is still healthy after all of it', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
  });
});
