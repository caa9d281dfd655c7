// SMH upload transfers over HTTP (spec smh §2.3.1–2.3.7, §3.1): multipart, simple and form flows using
// only what the API returned, credential expiry and renew, traffic limits, cancel (also mid-part),
// confirm racing cancel, and the shape of SMH errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { blobFiles } from '../helpers/blob-files.ts';
import { heldBody } from '../helpers/held-body.ts';
import { startTestServer, type TestClock, type TestServer, testClock } from '../helpers/server.ts';
import {
  bytesOf,
  crc64,
  createToken,
  expectJson,
  expectObjectError,
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
  waitFor,
} from '../helpers/smh-client.ts';
import { WAIT_MS, within } from '../helpers/wait.ts';

const GRANTS = { grant: 'upload_file,create_directory' };

const blobCount = (server: TestServer): number => blobFiles(server.dataDir).blobs.length;

/** Splits `data` into parts of `size` bytes (the last one shorter). */
function split(data: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += size) parts.push(data.subarray(off, off + size));
  return parts;
}

describe('SMH upload flows', { timeout: 240_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;

  before(async () => {
    server = await startTestServer();
    const token = await createToken(server.url, server, GRANTS);
    smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    assert.equal((await smh.mkdir('flows/deep')).status, 201);
  });

  after(async () => {
    await server?.close();
  });

  it('multipart: begin, parts, status, renew, the rest with the new headers, confirm, download', async () => {
    const data = bytesOf('multipart-flow', 3 * MiB + 12_345);
    const parts = split(data, MiB);
    const begin = await smh.beginTask('multipart', 'flows/deep/big.bin');
    assert.ok(
      begin.uploadId && begin.headers && begin.confirmKey,
      'begin returns uploadId, headers, confirmKey',
    );
    assert.ok(Date.parse(begin.expiration) > Date.now(), 'the headers are valid for a while');
    assert.equal(begin.availableDomainNum, 1);
    assert.equal(new URL(begin.url).host, begin.domain);
    assert.ok(begin.url.endsWith(begin.path), 'url is the domain and path begin named');

    await putParts(begin, parts.slice(0, 2));

    const status = await expectJson<TaskStatus>(await smh.status(begin.confirmKey), 200);
    assert.equal(status.confirmed, false);
    assert.deepEqual(status.path, ['flows', 'deep', 'big.bin']);
    assert.equal(status.conflictResolutionStrategy, 'rename');
    assert.equal(status.uploadId, begin.uploadId);
    assert.ok(status.parts);
    assert.deepEqual(
      status.parts.map((p) => Object.keys(p).sort()),
      [0, 1].map(() => ['ETag', 'LastModified', 'PartNumber', 'Size']),
    );
    assert.deepEqual(
      status.parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag, Size: p.Size })),
      parts.slice(0, 2).map((p, i) => ({ PartNumber: i + 1, ETag: `"${md5Hex(p)}"`, Size: p.length })),
    );
    for (const p of status.parts) assert.ok(Math.abs(Date.parse(p.LastModified) - Date.now()) < 60_000);
    const info = status.uploadPartInfo;
    assert.ok(info?.headers, 'status carries fresh uploadPartInfo');
    assert.equal(info.uploadId, begin.uploadId);
    assert.equal(info.path, begin.path);
    assert.equal(info.domain, begin.domain);
    assert.ok(Date.parse(info.expiration) > Date.now());
    // The status headers work: part 2 sent again with them replaces it with the same bytes.
    const resent = await putPart(info, 2, parts[1]!);
    assert.equal(resent.status, 200, await resent.text());

    // Expirations have millisecond precision: let one pass so "later" is observable.
    await new Promise((r) => setTimeout(r, 5));
    const renewed = await expectJson<UploadInfo>(await smh.renew(begin.confirmKey), 200);
    assert.equal(renewed.confirmKey, begin.confirmKey);
    assert.equal(renewed.uploadId, begin.uploadId);
    assert.equal(renewed.path, begin.path);
    assert.ok(renewed.headers);
    assert.notEqual(renewed.headers.Authorization, begin.headers.Authorization);
    assert.notEqual(renewed.headers['x-cos-security-token'], begin.headers['x-cos-security-token']);
    assert.ok(
      Date.parse(renewed.expiration) > Date.parse(begin.expiration),
      'renew pushes the expiration out',
    );

    await putParts(renewed, parts.slice(2), 3);

    const file = await smh.confirmFile(begin.confirmKey);
    assert.deepEqual(file.path, ['flows', 'deep', 'big.bin']);
    assert.equal(file.name, 'big.bin');
    assert.equal(file.type, 'file');
    assert.equal(file.size, String(data.length));
    assert.equal(file.crc64, crc64(data));
    assert.equal(file.isOverwritten, false);
    const after = await expectJson<TaskStatus>(await smh.status(begin.confirmKey), 200);
    assert.equal(after.confirmed, true);
    assert.deepEqual(after.path, file.path);

    const { location, body } = await smh.download('flows/deep/big.bin');
    assert.equal(md5Hex(body), md5Hex(data));
    // A range across the first part boundary, on the redirect target.
    const start = MiB - 100;
    const end = MiB + 99;
    const ranged = await fetch(location, { headers: { range: `bytes=${start}-${end}` } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes ${start}-${end}/${data.length}`);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(start, end + 1)));
  });

  it('simple: begin with PUT, one PUT of the bytes with the returned headers, confirm', async () => {
    const data = bytesOf('simple-flow', 200_000);
    const begin = await smh.beginTask('simple', 'flows/simple.txt', {
      headers: { 'x-smh-meta-color': 'blue' },
    });
    assert.equal(begin.uploadId, undefined, 'a simple task has no multipart upload');
    assert.ok(begin.headers?.Authorization);
    await putSimple(begin, data);
    const file = await expectJson<FileObject & { metaData: Record<string, string> }>(
      await smh.confirm(begin.confirmKey),
      200,
    );
    assert.deepEqual(file.path, ['flows', 'simple.txt']);
    assert.equal(file.size, String(data.length));
    assert.equal(file.eTag, `"${md5Hex(data)}"`);
    assert.equal(file.crc64, crc64(data));
    assert.deepEqual(file.metaData, { 'x-smh-meta-color': 'blue' });
    assert.ok((await smh.download('flows/simple.txt')).body.equals(data));
  });

  it('form: begin with POST, multipart/form-data with the form fields then file, confirm', async () => {
    const data = bytesOf('form-flow', 50_000);
    const begin = await smh.beginTask('form', 'flows/form.bin');
    assert.equal(begin.path, '/', 'form uploads post to /');
    assert.ok(begin.form?.policy && begin.form['q-signature']);
    await postForm(begin, data, 'form.bin');
    const file = await smh.confirmFile(begin.confirmKey);
    assert.deepEqual(file.path, ['flows', 'form.bin']);
    assert.equal(file.eTag, `"${md5Hex(data)}"`);
    assert.ok((await smh.download('flows/form.bin')).body.equals(data));

    // The declared filesize bounds what the form accepts.
    const bounded = await smh.beginTask('form', 'flows/bounded.bin', { query: { filesize: '1000' } });
    const form = new FormData();
    for (const [k, v] of Object.entries(bounded.form ?? {})) form.append(k, v);
    form.append('file', new Blob([bytesOf('too-big', 2000)]), 'bounded.bin');
    await expectObjectError(await fetch(bounded.url, { method: 'POST', body: form }), 400);
    await expectSmhError(await smh.confirm(bounded.confirmKey), 400, 'UploadIncomplete');
  });

  it('traffic_limit becomes x-cos-traffic-limit in bit/s, and the object endpoint honours it', async () => {
    const data = bytesOf('throttled', 300 * 1024);
    const limited = await smh.beginTask('multipart', 'flows/limited.bin', {
      query: { traffic_limit: '102400' },
    });
    assert.equal(limited.headers?.['x-cos-traffic-limit'], String(102_400 * 8));
    let started = performance.now();
    await putParts(limited, [data]);
    const limitedMs = performance.now() - started;
    // 300 KiB at 100 KiB/s with one second of burst takes about two seconds.
    assert.ok(limitedMs >= 1500, `a 300 KiB part at 100 KiB/s took only ${limitedMs.toFixed(0)} ms`);

    // Renew keeps the task's limit.
    const renewed = await expectJson<UploadInfo>(await smh.renew(limited.confirmKey), 200);
    assert.equal(renewed.headers?.['x-cos-traffic-limit'], String(102_400 * 8));
    // Dropping the header does not lift the limit: the signature covers it.
    const { 'x-cos-traffic-limit': _dropped, ...unlimited } = renewed.headers ?? {};
    await expectObjectError(await putPart(renewed, 1, data, { headers: unlimited }), 403);
    assert.equal((await smh.confirm(limited.confirmKey)).status, 200);

    // A form carries the limit as a field that its policy requires.
    const form = await smh.beginTask('form', 'flows/limited-form.bin', {
      query: { traffic_limit: '102400' },
    });
    assert.equal(form.form?.['x-cos-traffic-limit'], String(102_400 * 8));
    const withoutLimit = new FormData();
    for (const [k, v] of Object.entries(form.form ?? {}))
      if (k !== 'x-cos-traffic-limit') withoutLimit.append(k, v);
    withoutLimit.append('file', new Blob([Buffer.from('small')]), 'x.bin');
    assert.equal((await fetch(form.url, { method: 'POST', body: withoutLimit })).status, 403);
    await postForm(form, Buffer.from('small'), 'x.bin');
    assert.equal((await smh.confirm(form.confirmKey)).status, 200);

    const free = await smh.beginTask('multipart', 'flows/unlimited.bin');
    assert.equal(free.headers?.['x-cos-traffic-limit'], undefined);
    started = performance.now();
    await putParts(free, [data]);
    const freeMs = performance.now() - started;
    assert.ok(freeMs < limitedMs / 2, `an unlimited part took ${freeMs.toFixed(0)} ms`);
    assert.equal((await smh.cancel(free.confirmKey)).status, 204);
  });

  it('cancel: 204, then the confirm key is gone, the headers stop working and the bytes are freed', async () => {
    const before = blobCount(server);
    const begin = await smh.beginTask('multipart', 'flows/cancelled.bin');
    await putParts(begin, [bytesOf('cancel-1', MiB)]);
    assert.ok(blobCount(server) > before, 'the part is on disk');

    const cancelled = await smh.cancel(begin.confirmKey);
    assert.equal(cancelled.status, 204);
    assert.equal(await cancelled.text(), '');
    await expectSmhError(await smh.status(begin.confirmKey), 404, 'ConfirmKeyNotFound');
    await expectSmhError(await smh.confirm(begin.confirmKey), 404, 'ConfirmKeyNotFound');
    await expectSmhError(await smh.renew(begin.confirmKey), 404, 'ConfirmKeyNotFound');
    await expectSmhError(await smh.cancel(begin.confirmKey), 404, 'ConfirmKeyNotFound');
    const late = await putPart(begin, 2, bytesOf('cancel-2', 1000));
    assert.ok(late.status >= 400 && late.status < 500, `a part after cancel answers ${late.status}`);
    await late.text();
    await expectSmhError(await smh.request('GET', 'file', 'flows/cancelled.bin'), 404, 'FileNotFound');
    await waitFor(() => blobCount(server) === before, WAIT_MS, 'blobs back to the count before the task');
  });

  it('cancel while a part is streaming: 204 at once, the part fails, nothing is left', async () => {
    const before = blobCount(server);
    const begin = await smh.beginTask('multipart', 'flows/streaming.bin');
    await putParts(begin, [bytesOf('streaming-1', MiB)]);
    // Half a MiB goes out, then the body holds: the part cannot end before the cancel is answered.
    const body = heldBody(8 * MiB, 512 * 1024, 64 * 1024);
    const streaming = putPart(begin, 2, body.stream)
      .then(async (res) => ({ status: res.status, text: await res.text() }))
      .catch((err: Error) => ({ status: 0, text: err.message }));
    await body.held;

    const cancelled = await within(smh.cancel(begin.confirmKey), WAIT_MS, 'cancel, with a part held open');
    assert.equal(cancelled.status, 204);

    // The server stops the part without waiting for the rest of its body.
    const outcome = await within(streaming, WAIT_MS, 'the held part ending');
    body.release();
    assert.ok(
      outcome.status === 0 || (outcome.status >= 400 && outcome.status < 500),
      `part answered ${outcome.status}`,
    );
    await expectSmhError(await smh.status(begin.confirmKey), 404, 'ConfirmKeyNotFound');
    await waitFor(
      () => {
        const files = blobFiles(server.dataDir);
        return files.blobs.length === before && files.temporary.length === 0;
      },
      WAIT_MS,
      'no blob or temporary file left',
    );
  });

  it('confirm racing cancel: exactly one wins each round, and no bytes are orphaned', async (t) => {
    const before = blobCount(server);
    const rounds = 15;
    let confirmed = 0;
    for (let round = 0; round < rounds; round++) {
      const path = `flows/race-${round}.bin`;
      const data = bytesOf(path, MiB + 100 * 1024);
      const begin = await smh.beginTask('multipart', path);
      await putParts(begin, split(data, MiB));
      // Which request leaves first alternates, so both outcomes are exercised.
      let confirming: Promise<Response>;
      let cancelling: Promise<Response>;
      if (round % 2 === 0) {
        confirming = smh.confirm(begin.confirmKey);
        cancelling = smh.cancel(begin.confirmKey);
      } else {
        cancelling = smh.cancel(begin.confirmKey);
        confirming = smh.confirm(begin.confirmKey);
      }
      const [confirm, cancel] = await Promise.all([confirming, cancelling]);
      if (confirm.status === 200) {
        confirmed++;
        await expectSmhError(cancel, 409, 'UploadComplete');
        const file = await confirm.json();
        assert.deepEqual((file as FileObject).path, path.split('/'));
        assert.ok((await smh.download(path)).body.equals(data));
      } else {
        assert.equal(
          cancel.status,
          204,
          `round ${round}: confirm ${confirm.status}, cancel ${cancel.status}`,
        );
        await expectSmhError(confirm, 404, 'ConfirmKeyNotFound');
        await expectSmhError(await smh.request('GET', 'file', path), 404, 'FileNotFound');
      }
    }
    t.diagnostic(`confirm won ${confirmed} of ${rounds} rounds`);
    // Every blob on disk belongs to a confirmed file: one per part.
    await waitFor(
      () => blobCount(server) === before + confirmed * 2,
      WAIT_MS,
      `${confirmed} confirmed files of 2 blobs`,
    );
  });

  it('SMH errors are JSON {code, message, requestId} with the id in x-smh-request-id', async () => {
    const missing = await expectSmhError(
      await smh.request('GET', 'file', 'flows/nothing.txt'),
      404,
      'FileNotFound',
    );
    const unknown = await expectSmhError(await fetch(`${server.url}/api/v1/nowhere`), 404, 'RouteNotFound');
    assert.notEqual(missing.requestId, unknown.requestId, 'each request has its own id');
    const anonymous = await fetch(`${server.url}/api/v1/file/${server.libraryId}/-/x.txt?multipart`, {
      method: 'POST',
    });
    await expectSmhError(anonymous, 400, 'EmptyAccessToken');
    const forged = new SmhClient({
      url: server.url,
      libraryId: server.libraryId,
      token: 'acctk-not-a-token',
    });
    await expectSmhError(await forged.begin('multipart', 'x.txt'), 403, 'InvalidAccessToken');
    // Successes carry a request id too.
    const ok = await smh.list('flows');
    assert.equal(ok.status, 200);
    assert.ok(ok.headers.get('x-smh-request-id'));
  });
});

describe('SMH upload credentials expire and renew', { timeout: 180_000 }, () => {
  let server: TestServer;
  let clock: TestClock;
  let smh: SmhClient;

  before(async () => {
    clock = testClock();
    server = await startTestServer({ uploadCredentialSeconds: 600 }, { clock });
    smh = new SmhClient({
      url: server.url,
      libraryId: server.libraryId,
      token: await createToken(server.url, server, GRANTS),
    });
  });

  after(async () => {
    await server?.close();
  });

  it('headers past their expiration get 403 "Request has expired"; renewed ones work', async () => {
    const data = bytesOf('expiring', 2 * MiB + 1000);
    const parts = [data.subarray(0, MiB), data.subarray(MiB, 2 * MiB), data.subarray(2 * MiB)];
    const multipart = await smh.beginTask('multipart', 'expiring.bin');
    const simple = await smh.beginTask('simple', 'expiring-simple.bin');
    const form = await smh.beginTask('form', 'expiring-form.bin');
    assert.ok(Date.parse(multipart.expiration) - clock.now() <= 600_000, 'the configured lifetime is used');
    await putParts(multipart, [parts[0]!]);

    clock.advance(700_000);
    await expectObjectError(await putPart(multipart, 2, parts[1]!), 403, 'Request has expired');
    await expectObjectError(
      await fetch(simple.url, { method: 'PUT', headers: simple.headers ?? {}, body: 'late' }),
      403,
      'Request has expired',
    );
    const late = new FormData();
    for (const [k, v] of Object.entries(form.form ?? {})) late.append(k, v);
    late.append('file', new Blob(['late']), 'late.txt');
    // A form carries a POST policy rather than headers; COS words its expiry so.
    await expectObjectError(await fetch(form.url, { method: 'POST', body: late }), 403, /Policy expired/);

    // Status hands out usable info to resume with (spec smh §2.3.4; ADR 0002 §19): signed anew with a
    // whole lifetime once the task's credential has expired.
    const resumed = await expectJson<TaskStatus>(await smh.status(multipart.confirmKey), 200);
    assert.ok(resumed.uploadPartInfo, 'status carries uploadPartInfo');
    assert.ok(
      Date.parse(resumed.uploadPartInfo.expiration) - clock.now() > 300_000,
      'more than 5 minutes left',
    );
    await putParts(
      { ...multipart, ...resumed.uploadPartInfo, confirmKey: multipart.confirmKey },
      [parts[1]!],
      2,
    );

    const renewed = await expectJson<UploadInfo>(await smh.renew(multipart.confirmKey), 200);
    assert.ok(
      Date.parse(renewed.expiration) > clock.now(),
      'renewed headers are valid from the server clock',
    );
    await putParts(renewed, parts.slice(2), 3);
    const status = await expectJson<TaskStatus>(await smh.status(multipart.confirmKey), 200);
    assert.deepEqual(
      status.parts?.map((p) => p.PartNumber),
      [1, 2, 3],
    );
    const file = await smh.confirmFile(multipart.confirmKey);
    assert.equal(file.crc64, crc64(data));
    assert.ok((await smh.download('expiring.bin')).body.equals(data));
    // Simple and form tasks do not renew: their clients begin again.
    await expectSmhError(await smh.renew(simple.confirmKey), 404, 'NotMultipartUpload');
  });

  it('status signs anew only within 5 minutes of expiry, and the task then lives as long', async () => {
    const data = bytesOf('resigned', MiB + 10);
    const task = await smh.beginTask('multipart', 'resigned.bin');
    const first = await expectJson<TaskStatus>(await smh.status(task.confirmKey), 200);
    assert.equal(first.uploadPartInfo?.expiration, task.expiration, 'ten minutes left: the same credential');

    clock.advance(301_000);
    const near = await expectJson<TaskStatus>(await smh.status(task.confirmKey), 200);
    const info = near.uploadPartInfo!;
    assert.ok(Date.parse(info.expiration) > Date.parse(task.expiration), 'a later expiration');
    assert.ok(Date.parse(info.expiration) - clock.now() >= 599_000, 'a whole lifetime from now');
    // The begin headers stay valid until their own expiry; the new ones outlive them.
    await putParts(task, [data.subarray(0, MiB)]);
    clock.advance(400_000);
    await expectObjectError(await putPart(task, 2, data.subarray(MiB)), 403, 'Request has expired');
    await putParts({ ...task, ...info }, [data.subarray(MiB)], 2);
    // The sweeper keeps a task whose credential status renewed.
    await server.server.container.sweeper.sweep();
    const file = await smh.confirmFile(task.confirmKey);
    assert.equal(file.crc64, crc64(data));
  });
});
