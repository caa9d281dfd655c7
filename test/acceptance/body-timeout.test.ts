// --body-timeout-seconds: a body that stops arriving is answered with its surface's RequestTimeout
// (object XML 400, SMH 408 ReadRequestTimeout, VOD 408) and the connection is closed, leaving
// nothing stored; a body that is slow but keeps moving is not cut off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signCosRequest } from '../../src/lib/cos-signature.ts';
import { ObjectClient, slowBody, xmlValue } from '../helpers/object-client.ts';
import { exchangeUntilClosed, type RawAnswer } from '../helpers/raw-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TIMEOUT_SECONDS = 3;

describe('body timeout', { timeout: 300_000 }, () => {
  let server: TestServer;
  let objects: ObjectClient;

  before(async () => {
    server = await startTestServer({ bodyTimeoutSeconds: TIMEOUT_SECONDS });
    objects = new ObjectClient({
      url: server.url,
      bucket: server.bucket,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
  });

  after(async () => {
    await server.close();
  });

  /** A COS-signed request head for the object API, declaring a body of `length` bytes. */
  function signedHead(method: string, path: string, query: Record<string, string>, length: number): string {
    const host = `127.0.0.1:${server.port}`;
    const now = Math.floor(Date.now() / 1000);
    const authorization = signCosRequest({
      secretId: server.accessKeyId,
      secretKey: server.secretAccessKey,
      method,
      path: decodeURIComponent(path),
      query: Object.entries(query),
      headers: { host },
      startSeconds: now - 60,
      endSeconds: now + 900,
    });
    const search = new URLSearchParams(query).toString();
    return (
      `${method} ${path}${search ? `?${search}` : ''} HTTP/1.1\r\nHost: ${host}\r\n` +
      `Authorization: ${authorization}\r\nContent-Length: ${length}\r\n\r\n`
    );
  }

  /** Sends a head and the first bytes of a longer body, then nothing more. */
  function stall(head: string, firstBytes: string): Promise<RawAnswer> {
    return exchangeUntilClosed(server.port, head + firstBytes, { end: false });
  }

  function assertClosedAfter(answer: RawAnswer): void {
    assert.equal(answer.headers.connection, 'close', JSON.stringify(answer.headers));
  }

  it('a PUT whose body stalls: 400 RequestTimeout, the connection closed, nothing stored', async () => {
    const path = `/${server.bucket}/stalled.bin`;
    const answer = await stall(signedHead('PUT', path, {}, 1000), 'only ten b');
    assert.equal(answer.status, 400, answer.body);
    assert.equal(xmlValue(answer.body, 'Code'), 'RequestTimeout');
    assert.equal(answer.headers['x-cos-request-id'], xmlValue(answer.body, 'RequestId'));
    assertClosedAfter(answer);
    assert.equal((await objects.get('stalled.bin')).status, 404);
  });

  it('a Complete whose XML stalls: 400 RequestTimeout, and the upload is still there', async () => {
    const uploadId = await objects.initiate('stalled-complete.bin');
    const path = `/${server.bucket}/stalled-complete.bin`;
    const answer = await stall(signedHead('POST', path, { uploadId }, 500), '<CompleteMultipartUpload>');
    assert.equal(answer.status, 400, answer.body);
    assert.equal(xmlValue(answer.body, 'Code'), 'RequestTimeout');
    assertClosedAfter(answer);
    assert.equal((await objects.listParts('stalled-complete.bin', uploadId)).status, 200);
  });

  it('a POST Object form that stalls: 400 RequestTimeout', async () => {
    const head =
      `POST /${server.bucket} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
      'Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 5000\r\n\r\n';
    const answer = await stall(head, '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nk');
    assert.equal(answer.status, 400, answer.body);
    assert.equal(xmlValue(answer.body, 'Code'), 'RequestTimeout');
    assertClosedAfter(answer);
  });

  it('an SMH body that stalls: 408 ReadRequestTimeout in SMH JSON', async () => {
    const head =
      `POST /api/v1/directory/${server.libraryId}/-/a?access_token=x HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
    const answer = await stall(head, '{"a":');
    assert.equal(answer.status, 408, answer.body);
    const body = JSON.parse(answer.body) as { code: string; message: string; requestId: string };
    assert.equal(body.code, 'ReadRequestTimeout');
    assert.equal(answer.headers['x-smh-request-id'], body.requestId);
    assertClosedAfter(answer);
  });

  it('a VOD body that stalls: 408 in VOD JSON', async () => {
    const head =
      `POST /v1/${server.libraryId}/asset/editing/tasks HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
      'X-Auth-Token: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';
    const answer = await stall(head, '{"a":');
    assert.equal(answer.status, 408, answer.body);
    const body = JSON.parse(answer.body) as { error_code: string; error_msg: string };
    assert.equal(body.error_code, 'APIGW.0201');
    assert.ok(answer.headers['x-request-id']);
    assertClosedAfter(answer);
  });

  it('a form refused at its file part whose body then stalls: 403, and the server lives on', async () => {
    const head =
      `POST /${server.bucket} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
      'Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 100000\r\n\r\n';
    const form =
      '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nrefused.bin\r\n' +
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\nfirst bytes';
    const answer = await stall(head, form);
    assert.equal(answer.status, 403, answer.body);
    assertClosedAfter(answer);
    // The abandoned file part fails once the body timeout passes; the process must survive it.
    const sent = { bytes: 0 };
    const slow = await objects.request('PUT', 'after-refused-form.bin', {
      body: slowBody(Math.ceil((TIMEOUT_SECONDS * 1000 * 1.5) / 150), 1, 150, sent),
      headers: { 'content-length': String(Math.ceil((TIMEOUT_SECONDS * 1000 * 1.5) / 150)) },
    });
    assert.equal(slow.status, 200, await slow.text());
  });

  it('a body slower than the timeout in total but never idle that long is stored whole', async () => {
    // One byte every 150 ms for longer than the timeout: idle time, not total time, is limited.
    const total = Math.ceil((TIMEOUT_SECONDS * 1000 * 1.5) / 150);
    const sent = { bytes: 0 };
    const started = Date.now();
    const slow = await objects.request('PUT', 'slow-but-moving.bin', {
      body: slowBody(total, 1, 150, sent),
      headers: { 'content-length': String(total) },
    });
    assert.equal(slow.status, 200, await slow.text());
    assert.ok(Date.now() - started > TIMEOUT_SECONDS * 1000, 'the upload outlasted the timeout');
    const got = await objects.get('slow-but-moving.bin');
    assert.equal(got.status, 200);
    assert.equal(got.body.length, total);
    assert.ok(got.body.every((b) => b === 7));
  });
});
