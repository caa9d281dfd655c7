// The object API refuses with 501 NotImplemented what it cannot do, instead of answering as if it had:
// Cloud Infinite processing on GET (`?imageMogr2/…`, `?ci-process=…`) would otherwise return the
// original bytes, processing on upload (Pic-Operations) and SSE-C would store the object unprocessed
// and unencrypted (spec cos-api §2, ADR 0001 §20).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectClient, xmlValue } from '../helpers/object-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { rawFetch } from '../helpers/sign.ts';

async function expectNotImplemented(res: Response, message: RegExp): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, 501, text);
  assert.equal(xmlValue(text, 'Code'), 'NotImplemented', text);
  assert.match(xmlValue(text, 'Message') ?? '', message);
  assert.ok(res.headers.get('x-cos-request-id'), 'errors carry x-cos-request-id');
}

describe('object API operations that are not implemented', { timeout: 120_000 }, () => {
  let server: TestServer;
  let client: ObjectClient;
  const original = Buffer.from('not really a jpeg');

  before(async () => {
    server = await startTestServer();
    client = new ObjectClient({
      url: server.url,
      bucket: server.bucket,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    assert.equal((await client.put('photo.jpg', original)).status, 200);
  });
  after(async () => {
    await server?.close();
  });

  const processing: Record<string, string>[] = [
    { 'imageMogr2/thumbnail/!50p': '' },
    { 'imageMogr2/format/webp|watermark/2/text/aGk': '' },
    { 'imageView2/1/w/200/h/200': '' },
    { imageInfo: '' },
    { exif: '' },
    { imageAve: '' },
    { 'ci-process': 'videoinfo' },
    { 'ci-process': 'snapshot', time: '1' },
  ];
  for (const query of processing) {
    it(`signed GET ?${Object.entries(query)
      .map(([k, v]) => (v ? `${k}=${v}` : k))
      .join('&')} → 501, not the original bytes`, async () => {
      await expectNotImplemented(await client.request('GET', 'photo.jpg', { query }), /processing/);
    });
  }

  it('the processing parameter as the COS SDK writes it, unencoded, is refused before authentication', async () => {
    const res = await rawFetch(`${server.url}/${server.bucket}/photo.jpg?imageMogr2/thumbnail/!50p`, {
      method: 'GET',
      headers: { host: new URL(server.url).host },
    });
    await expectNotImplemented(res, /imageMogr2/);
  });

  it('other query parameters still get the object', async () => {
    const { status, body } = await client.get('photo.jpg');
    assert.equal(status, 200);
    assert.deepEqual(body, original);
    const res = await client.request('GET', 'photo.jpg', { query: { 'response-content-type': 'image/png' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
  });

  const uploads: [string, Record<string, string>, RegExp][] = [
    ['Pic-Operations', { 'pic-operations': '{"is_pic_info":1,"rules":[]}' }, /Pic-Operations/],
    [
      'SSE-C',
      {
        'x-cos-server-side-encryption-customer-algorithm': 'AES256',
        'x-cos-server-side-encryption-customer-key': Buffer.alloc(32, 1).toString('base64'),
      },
      /SSE-C/,
    ],
    ['SSE-C (S3 names)', { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' }, /SSE-C/],
  ];
  for (const [what, headers, message] of uploads) {
    it(`PUT with ${what} → 501 and nothing is stored`, async () => {
      const key = `upload-${what.replace(/\W+/g, '-')}.jpg`;
      await expectNotImplemented(await client.put(key, original, headers), message);
      assert.equal((await client.request('HEAD', key)).status, 404);
    });
  }
});
