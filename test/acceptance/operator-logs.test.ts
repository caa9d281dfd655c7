// What an operator reads in the log of a real server: one request line per answer whose reqId is the
// request id the client got (header and error body, on every surface), client errors as warnings
// with their code and reason and no stack, no secret of any kind, and no line for healthy /healthz.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/app/create-logger.ts';
import { presignSigV4 } from '../../src/lib/sigv4.ts';
import { captureLog, type LogCapture } from '../helpers/log-capture.ts';
import { ObjectClient, xmlValue } from '../helpers/object-client.ts';
import { exchangeUntilClosed } from '../helpers/raw-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createToken, expectSmhError, SmhClient, uploadFile, waitFor } from '../helpers/smh-client.ts';

type LogLine = Record<string, unknown>;

describe('operator logs', { timeout: 300_000 }, () => {
  let log: LogCapture;
  let server: TestServer;
  let objects: ObjectClient;

  const requestLines = (): LogLine[] => log.records().filter((r) => r.msg === 'request');

  async function lineFor(reqId: string): Promise<LogLine> {
    await waitFor(() => requestLines().some((r) => r.reqId === reqId), 30_000, `the log line of ${reqId}`);
    return requestLines().find((r) => r.reqId === reqId)!;
  }

  async function lineWhere(check: (line: LogLine) => boolean, what: string): Promise<LogLine> {
    await waitFor(() => requestLines().some(check), 30_000, what);
    return requestLines().find(check)!;
  }

  function assertClientErrorLine(line: LogLine, code: string): void {
    assert.equal(line.level, 'warn', JSON.stringify(line));
    assert.equal(line.code, code, JSON.stringify(line));
    assert.equal(typeof line.reason, 'string');
    assert.ok((line.reason as string).length > 0);
    assert.equal(line.err, undefined, 'client errors carry no error object');
    assert.ok(!JSON.stringify(line).includes('"stack"'), 'client errors carry no stack');
  }

  before(async () => {
    log = captureLog();
    server = await startTestServer(
      {},
      { logger: createLogger({ logLevel: 'info', logFormat: 'json' }, { destination: log.destination }) },
    );
    objects = new ObjectClient({
      url: server.url,
      bucket: server.bucket,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
  });

  after(async () => {
    await server.close();
  });

  it('no library secret, access token, signature or security token reaches the log', async () => {
    const library = { libraryId: server.libraryId, librarySecret: server.librarySecret };
    const token = await createToken(server.url, library, { grant: 'admin' });
    const smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    await uploadFile(smh, 'clip.bin', Buffer.from('some bytes'));
    // The download redirects to a presigned object URL, which is then fetched (and logged).
    const { location } = await smh.download('clip.bin');
    const presigned = new URL(location).searchParams;
    const cosSignature = presigned.get('q-signature') ?? presigned.get('X-Amz-Signature');
    assert.ok(cosSignature, location);
    // Renewal carries the token in the path.
    assert.equal(
      (await fetch(`${server.url}/api/v1/token/${server.libraryId}/${token}`, { method: 'POST' })).status,
      200,
    );
    const v4 = presignSigV4({
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: 'local',
      method: 'GET',
      url: `${server.url}/${server.bucket}/logs-missing.bin`,
      expiresSeconds: 300,
      now: new Date(),
      sessionToken: 'sessionTOKENvalue42',
    });
    await (await fetch(v4)).text();
    const v4Signature = new URL(v4).searchParams.get('X-Amz-Signature')!;
    // Errors raised before routing log their URL too: a bad escape, and bytes Node cannot parse.
    await (await fetch(`${server.url}/api/v1/directory/%zz?access_token=routerSECRET77`)).text();
    const raw = await exchangeUntilClosed(
      server.port,
      'GET /api/v1/directory/x?access_token=parserSECRET88 HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n',
    );
    assert.equal(raw.status, 400);

    await lineWhere(
      (r) => String(r.url).includes('routerSECRET77') || String(r.url).includes('/directory/%zz'),
      'the router error line',
    );
    await lineWhere((r) => r.parserError !== undefined, 'the parser error line');
    await lineWhere((r) => String(r.url).startsWith(`/${server.bucket}/logs-missing.bin`), 'the SigV4 line');
    const text = log.text();
    const secrets = {
      librarySecret: server.librarySecret,
      token,
      cosSignature,
      v4Signature,
      sessionToken: 'sessionTOKENvalue42',
      routerSecret: 'routerSECRET77',
      parserSecret: 'parserSECRET88',
    };
    for (const [name, secret] of Object.entries(secrets)) {
      assert.ok(!text.includes(secret), `${name} (${secret}) is in the log`);
    }
    // The lines are there, masked, not missing.
    assert.ok(requestLines().some((r) => String(r.url).includes('library_secret=[REDACTED]')));
    assert.ok(requestLines().some((r) => String(r.url).includes('access_token=[REDACTED]')));
    assert.ok(
      requestLines().some((r) => String(r.url).startsWith(`/api/v1/token/${server.libraryId}/[REDACTED]`)),
    );
  });

  it("the log's reqId is the request id of the response, on every surface", async () => {
    const put = await objects.put('ids/a.txt', Buffer.from('hello'));
    assert.equal(put.status, 200);
    const putId = put.headers.get('x-cos-request-id')!;
    assert.equal(put.headers.get('x-amz-request-id'), putId);
    const putLine = await lineFor(putId);
    assert.equal(putLine.level, 'info');
    assert.equal(putLine.status, 200);
    assert.equal(putLine.code, undefined);
    assert.match(String(putLine.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const missing = await objects.request('GET', 'ids/missing.txt');
    const xml = await missing.text();
    const missingId = missing.headers.get('x-cos-request-id')!;
    assert.equal(xmlValue(xml, 'RequestId'), missingId);
    assertClientErrorLine(await lineFor(missingId), 'NoSuchKey');

    const smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token: 'not-a-token' });
    const refused = await smh.list('');
    const body = await expectSmhError(refused, 403, 'InvalidAccessToken');
    assert.equal(refused.headers.get('x-request-id'), body.requestId);
    assertClientErrorLine(await lineFor(body.requestId), 'InvalidAccessToken');

    const vod = await fetch(`${server.url}/v1/${server.libraryId}/asset/tasks`, {
      headers: { 'x-auth-token': 'not-a-token' },
    });
    await vod.text();
    const vodId = vod.headers.get('x-request-id')!;
    assert.ok(vodId);
    assertClientErrorLine(await lineFor(vodId), 'APIGW.0301');
  });

  it('a refused confirm and a 501 are warnings with their code and reason, without a stack', async () => {
    const library = { libraryId: server.libraryId, librarySecret: server.librarySecret };
    const smh = new SmhClient({
      url: server.url,
      libraryId: server.libraryId,
      token: await createToken(server.url, library, { grant: 'admin' }),
    });
    const confirm = await smh.confirm('no-such-confirm-key');
    const body = await expectSmhError(confirm, 404, 'ConfirmKeyNotFound');
    const line = await lineFor(body.requestId);
    assertClientErrorLine(line, 'ConfirmKeyNotFound');
    assert.equal(line.reason, body.message);

    const acl = await objects.request('GET', undefined, { query: { acl: '' } });
    assert.equal(acl.status, 501);
    await acl.text();
    assertClientErrorLine(await lineFor(acl.headers.get('x-cos-request-id')!), 'NotImplemented');
  });

  it('healthy /healthz probes are not logged', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    await health.text();
    // A request answered after the probe: once its line is written, the probe's would be too.
    const marker = await objects.request('GET', 'healthz-marker');
    await marker.text();
    await lineFor(marker.headers.get('x-cos-request-id')!);
    assert.equal(requestLines().filter((r) => r.url === '/healthz').length, 0);
  });
});
