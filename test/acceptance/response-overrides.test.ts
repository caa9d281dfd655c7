// Acceptance over HTTP: GET's response-* overrides are honoured only where the signature covers them.
// A download URL handed out by SMH signs its content-disposition; adding an unsigned
// response-content-type=text/html to it must not make the server send the file as an HTML page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BucketName, LibraryId } from '../../src/core/ids.ts';
import { signCosRequest } from '../../src/lib/cos-signature.ts';
import { presignSigV4 } from '../../src/lib/sigv4.ts';
import { ObjectClient, xmlValue } from '../helpers/object-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createToken, SmhClient, uploadFile } from '../helpers/smh-client.ts';

const PAGE = Buffer.from('<script>alert(document.cookie)</script>');

async function expectRefused(res: Response, status: number, code: string, what: string): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, `${what}: ${text}`);
  assert.equal(xmlValue(text, 'Code'), code, `${what}: ${text}`);
  assert.match(xmlValue(text, 'Message') ?? '', /response-/, `${what}: the message names the parameter`);
  assert.doesNotMatch(res.headers.get('content-type') ?? '', /html/, what);
  assert.ok(!text.includes('<script>'), `${what}: the file's bytes are not sent`);
}

describe('response-* overrides need a signature that covers them', { timeout: 120_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;

  before(async () => {
    server = await startTestServer();
    const library = { libraryId: server.libraryId, librarySecret: server.librarySecret };
    const token = await createToken(server.url, library, { grant: 'admin' });
    smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    await uploadFile(smh, 'page.txt', PAGE);
  });
  after(async () => {
    await server?.close();
  });

  /** The URL an SMH download redirects to (a COS q-sign URL signing response-content-disposition). */
  async function downloadUrl(): Promise<string> {
    const res = await smh.request('GET', 'file', 'page.txt');
    assert.equal(res.status, 302, await res.text());
    return res.headers.get('location')!;
  }

  it('a handed-out download URL works as given, with the disposition it signed', async () => {
    const url = await downloadUrl();
    assert.match(url, /q-url-param-list=response-content-disposition/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.match(res.headers.get('content-disposition') ?? '', /^inline; filename\*=UTF-8''page\.txt$/);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), PAGE);
  });

  it('an unsigned response-* parameter added to a download URL is refused, never served as HTML', async () => {
    const url = await downloadUrl();
    const added: [string, string][] = [
      ['response-content-type', 'text/html'],
      ['response-content-encoding', 'identity'],
      ['response-cache-control', 'public, max-age=31536000'],
    ];
    for (const [name, value] of added) {
      await expectRefused(
        await fetch(`${url}&${name}=${encodeURIComponent(value)}`),
        403,
        'AccessDenied',
        `${name} added`,
      );
    }
    // Placed before the signed parameters instead of after them: still not signed.
    const [base, search] = url.split('?') as [string, string];
    await expectRefused(
      await fetch(`${base}?response-content-type=text%2Fhtml&${search}`),
      403,
      'AccessDenied',
      'response-content-type first',
    );
    // A second content-disposition is no way around it: the first occurrence is the one signed.
    const twice = await fetch(`${url}&response-content-disposition=attachment`);
    assert.equal(twice.status, 200);
    assert.match(twice.headers.get('content-disposition') ?? '', /^inline;/);
    await twice.arrayBuffer();
  });

  it('overrides the key holder signed are honoured: COS q-url-param-list and SigV4 presigned', async () => {
    const path = `/${server.bucket}/page-object.txt`;
    const client = new ObjectClient({
      url: server.url,
      bucket: server.bucket,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    assert.equal((await client.put('page-object.txt', PAGE, { 'content-type': 'text/plain' })).status, 200);
    const host = new URL(server.url).host;
    const now = Math.floor(Date.now() / 1000);
    const query: [string, string][] = [['response-content-type', 'text/html']];
    const auth = signCosRequest({
      secretId: server.accessKeyId,
      secretKey: server.secretAccessKey,
      method: 'GET',
      path,
      query,
      headers: { host },
      startSeconds: now - 60,
      endSeconds: now + 600,
    });
    const cos = await fetch(`${server.url}${path}?response-content-type=text%2Fhtml`, {
      headers: { authorization: auth },
    });
    assert.equal(cos.status, 200, await cos.clone().text());
    assert.equal(cos.headers.get('content-type'), 'text/html');
    await cos.arrayBuffer();
    // The same header signature without the parameter in its list: refused.
    const unlisted = signCosRequest({
      secretId: server.accessKeyId,
      secretKey: server.secretAccessKey,
      method: 'GET',
      path,
      query: [],
      headers: { host },
      startSeconds: now - 60,
      endSeconds: now + 600,
    });
    await expectRefused(
      await fetch(`${server.url}${path}?response-content-type=text%2Fhtml`, {
        headers: { authorization: unlisted },
      }),
      403,
      'AccessDenied',
      'COS header signature not listing the parameter',
    );
    // SigV4 signs every query parameter: a presigned override works, one added afterwards fails.
    const presigned = presignSigV4({
      url: `${server.url}${path}?response-content-type=text%2Fhtml`,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: 'us-east-1',
      method: 'GET',
      expiresSeconds: 600,
      now: new Date(),
    });
    const s3 = await fetch(presigned);
    assert.equal(s3.status, 200);
    assert.equal(s3.headers.get('content-type'), 'text/html');
    await s3.arrayBuffer();
    const plain = presignSigV4({
      url: `${server.url}${path}`,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: 'us-east-1',
      method: 'GET',
      expiresSeconds: 600,
      now: new Date(),
    });
    const tampered = await fetch(`${plain}&response-content-type=text%2Fhtml`);
    assert.equal(tampered.status, 403);
    assert.doesNotMatch(tampered.headers.get('content-type') ?? '', /html/);
    await tampered.arrayBuffer();
  });

  it('anonymous reads of a public-read bucket cannot override headers (COS 403, S3 400)', async () => {
    const bucket = `public-${server.bucket}` as BucketName;
    await server.server.container.store.buckets.insert({
      name: bucket,
      libraryId: server.libraryId as LibraryId,
      acl: 'public-read',
      createdAt: Date.now(),
    });
    const client = new ObjectClient({
      url: server.url,
      bucket,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    assert.equal((await client.put('page.txt', PAGE, { 'content-type': 'text/plain' })).status, 200);
    const url = `${server.url}/${bucket}/page.txt`;
    const plain = await fetch(url);
    assert.equal(plain.status, 200, 'the bucket is readable anonymously');
    assert.equal(plain.headers.get('content-type'), 'text/plain');
    await plain.arrayBuffer();
    await expectRefused(
      await fetch(`${url}?response-content-type=text%2Fhtml`),
      403,
      'AccessDenied',
      'anonymous COS',
    );
    await expectRefused(
      await fetch(`${url}?response-content-type=text%2Fhtml`, {
        headers: { 'x-amz-request-payer': 'requester' },
      }),
      400,
      'InvalidRequest',
      'anonymous S3',
    );
  });

  it('stored pages run sandboxed and no body is sniffed: SMH downloads and object GETs', async () => {
    await uploadFile(smh, 'page.html', PAGE);
    const res = await smh.request('GET', 'file', 'page.html');
    assert.equal(res.status, 302, await res.text());
    const page = await fetch(res.headers.get('location')!);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(
      page.headers.get('content-security-policy'),
      'sandbox',
      'a tenant page gets an opaque origin',
    );
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    await page.arrayBuffer();

    const client = new ObjectClient({
      url: server.url,
      bucket: server.bucket,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    const types: [string, string | null][] = [
      ['image/svg+xml', 'sandbox'],
      ['application/xhtml+xml; charset=utf-8', 'sandbox'],
      ['application/rss+xml', 'sandbox'],
      ['image/png', null],
      ['application/pdf', null],
      ['video/mp4', null],
    ];
    for (const [type, csp] of types) {
      const key = `typed/${type.replace(/\W+/g, '-')}`;
      assert.equal((await client.put(key, PAGE, { 'content-type': type })).status, 200);
      for (const method of ['GET', 'HEAD'] as const) {
        const got = await client.request(method, key);
        assert.equal(got.status, 200, type);
        assert.equal(got.headers.get('content-security-policy'), csp, `${method} ${type}`);
        assert.equal(got.headers.get('x-content-type-options'), 'nosniff', `${method} ${type}`);
        await got.arrayBuffer();
      }
    }
  });
});
