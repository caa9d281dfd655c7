// SMH confirm over HTTP (spec smh §2.3.8, §3.2, §3.3): conflict strategies, repeated confirm, missing
// bytes, crc64, quotas, instant upload, and the expiry of abandoned tasks by the sweeper.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LibraryId } from '../../src/core/ids.ts';
import { blobFiles } from '../helpers/blob-files.ts';
import { startTestServer, type TestClock, type TestServer, testClock } from '../helpers/server.ts';
import {
  bytesOf,
  crc64,
  createToken,
  expectJson,
  expectSmhError,
  type FileObject,
  instantHashes,
  MiB,
  md5Hex,
  putPart,
  putParts,
  putSimple,
  SmhClient,
  type TaskStatus,
  type UploadInfo,
  uploadFile,
  waitFor,
} from '../helpers/smh-client.ts';
import { WAIT_MS } from '../helpers/wait.ts';

const blobCount = (server: TestServer): number => blobFiles(server.dataDir).blobs.length;

interface Listing {
  contents: { name: string; type: string }[];
}

const names = async (smh: SmhClient, dir: string): Promise<string[]> =>
  (await expectJson<Listing>(await smh.list(dir), 200)).contents.map((c) => c.name);

describe('SMH confirm: conflicts, repeats and incomplete bytes', { timeout: 240_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;
  let force: SmhClient;

  before(async () => {
    server = await startTestServer();
    const client = (grant: string) =>
      createToken(server.url, server, { grant }).then(
        (token) => new SmhClient({ url: server.url, libraryId: server.libraryId, token }),
      );
    smh = await client('upload_file,create_directory');
    force = await client('upload_file_force,create_directory');
    for (const dir of ['ask', 'rename', 'over', 'repeat', 'parts', 'crc'])
      assert.equal((await smh.mkdir(dir)).status, 201);
  });

  after(async () => {
    await server?.close();
  });

  it('ask: 409 at begin for a taken name, and at confirm for a name taken meanwhile; rename then works', async () => {
    await uploadFile(smh, 'ask/taken.txt', bytesOf('taken', 100));
    await expectSmhError(
      await smh.begin('simple', 'ask/taken.txt', { query: { conflict_resolution_strategy: 'ask' } }),
      409,
      'SameNameDirectoryOrFileExists',
    );

    const mine = bytesOf('mine', 1000);
    const begin = await smh.beginTask('simple', 'ask/late.txt', {
      query: { conflict_resolution_strategy: 'ask' },
    });
    await putSimple(begin, mine);
    const theirs = bytesOf('theirs', 1000);
    assert.deepEqual((await uploadFile(smh, 'ask/late.txt', theirs)).path, ['ask', 'late.txt']);
    await expectSmhError(await smh.confirm(begin.confirmKey), 409, 'SameNameDirectoryOrFileExists');
    const status = await expectJson<TaskStatus>(await smh.status(begin.confirmKey), 200);
    assert.equal(status.confirmed, false, 'a refused confirm leaves the task open');

    const file = await smh.confirmFile(begin.confirmKey, {
      query: { conflict_resolution_strategy: 'rename' },
    });
    assert.deepEqual(file.path, ['ask', 'late (1).txt']);
    assert.equal(file.name, 'late (1).txt');
    assert.ok((await smh.download('ask/late (1).txt')).body.equals(mine));
    assert.ok((await smh.download('ask/late.txt')).body.equals(theirs));
  });

  it('a task whose parts a refused confirm assembled still cancels and frees its bytes', async () => {
    const before = blobCount(server);
    const begin = await smh.beginTask('multipart', 'ask/assembled.bin', {
      query: { conflict_resolution_strategy: 'ask' },
    });
    await putParts(begin, [bytesOf('assembled-1', MiB), bytesOf('assembled-2', 10)]);
    await uploadFile(smh, 'ask/assembled.bin', bytesOf('first-come', 10));
    const withAll = blobCount(server);
    await expectSmhError(await smh.confirm(begin.confirmKey), 409, 'SameNameDirectoryOrFileExists');
    assert.equal((await smh.cancel(begin.confirmKey)).status, 204);
    await waitFor(() => blobCount(server) === withAll - 2, WAIT_MS, 'the assembled parts freed');
    assert.ok(blobCount(server) > before, 'the other file keeps its bytes');
    assert.ok((await smh.download('ask/assembled.bin')).body.equals(bytesOf('first-come', 10)));
  });

  it('rename (the default): "name (1).ext", then "(2)", each keeping its own bytes', async () => {
    const contents = [0, 1, 2].map((i) => bytesOf(`rename-${i}`, 500 + i));
    const paths: (string[] | null)[] = [];
    for (const data of contents) paths.push((await uploadFile(smh, 'rename/photo.jpg', data)).path);
    assert.deepEqual(paths, [
      ['rename', 'photo.jpg'],
      ['rename', 'photo (1).jpg'],
      ['rename', 'photo (2).jpg'],
    ]);
    for (const [i, path] of paths.entries()) {
      assert.ok((await smh.download(path!.join('/'))).body.equals(contents[i]!));
    }
  });

  it('overwrite: needs a force grant, replaces the bytes, frees the old ones, never replaces a directory', async () => {
    await expectSmhError(
      await smh.begin('simple', 'over/file.txt', { query: { conflict_resolution_strategy: 'overwrite' } }),
      403,
      'NoPermission',
    );
    const before = blobCount(server);
    const original = bytesOf('original', 300_000);
    await uploadFile(force, 'over/file.txt', original);
    const withOriginal = blobCount(server);
    assert.ok(withOriginal > before);

    // A task begun without force cannot overwrite at confirm either; it stays open.
    const plain = await smh.beginTask('simple', 'over/file.txt');
    await putSimple(plain, bytesOf('plain', 10));
    await expectSmhError(
      await smh.confirm(plain.confirmKey, { query: { conflict_resolution_strategy: 'overwrite' } }),
      403,
      'NoPermission',
    );
    assert.equal((await smh.cancel(plain.confirmKey)).status, 204);
    await waitFor(() => blobCount(server) === withOriginal, WAIT_MS, 'the cancelled bytes freed');

    const replacement = bytesOf('replacement', 200_000);
    const begin = await force.beginTask('simple', 'over/file.txt', {
      query: { conflict_resolution_strategy: 'overwrite' },
    });
    await putSimple(begin, replacement);
    const withBoth = blobCount(server);
    const file = await force.confirmFile(begin.confirmKey);
    assert.equal(file.isOverwritten, true);
    assert.deepEqual(file.path, ['over', 'file.txt']);
    assert.equal(file.size, String(replacement.length));
    assert.equal(file.eTag, `"${md5Hex(replacement)}"`);
    assert.ok((await smh.download('over/file.txt')).body.equals(replacement));
    assert.deepEqual(await names(smh, 'over'), ['file.txt']);
    await waitFor(
      () => blobCount(server) === withBoth - (withOriginal - before),
      WAIT_MS,
      'the old bytes freed',
    );

    assert.equal((await smh.mkdir('over/folder')).status, 201);
    await expectSmhError(
      await force.begin('simple', 'over/folder', { query: { conflict_resolution_strategy: 'overwrite' } }),
      409,
      'SameNameDirectoryOrFileExists',
    );
    // A directory that appears between begin and confirm is not replaced either.
    const late = await force.beginTask('simple', 'over/later', {
      query: { conflict_resolution_strategy: 'overwrite' },
    });
    await putSimple(late, bytesOf('later', 10));
    assert.equal((await smh.mkdir('over/later')).status, 201);
    await expectSmhError(await force.confirm(late.confirmKey), 409, 'SameNameDirectoryOrFileExists');
    assert.deepEqual(await names(smh, 'over'), ['folder', 'later', 'file.txt']);
  });

  it('a repeated confirm returns the same file; renew and cancel after confirm are 409 UploadComplete', async () => {
    const data = bytesOf('repeat', MiB + 10);
    const begin = await smh.beginTask('multipart', 'repeat/file.bin');
    await putParts(begin, [data.subarray(0, MiB), data.subarray(MiB)]);
    // Two confirms at once both answer with the one file.
    const [first, concurrent] = await Promise.all([
      smh.confirmFile(begin.confirmKey),
      smh.confirmFile(begin.confirmKey),
    ]);
    assert.deepEqual(concurrent.path, first.path);
    const again = await smh.confirmFile(begin.confirmKey);
    assert.deepEqual(
      { path: again.path, eTag: again.eTag, crc64: again.crc64, size: again.size },
      { path: first.path, eTag: first.eTag, crc64: first.crc64, size: first.size },
    );
    assert.equal(first.crc64, crc64(data));
    await expectSmhError(await smh.renew(begin.confirmKey), 409, 'UploadComplete');
    await expectSmhError(await smh.cancel(begin.confirmKey), 409, 'UploadComplete');
    assert.deepEqual(await names(smh, 'repeat'), ['file.bin'], 'one file, however often confirmed');
    assert.ok((await smh.download('repeat/file.bin')).body.equals(data));
  });

  it('missing parts (none, or a gap) are 400 MultipartUploadIncomplete; the task can still finish', async () => {
    const parts = [bytesOf('p1', MiB), bytesOf('p2', MiB), bytesOf('p3', 1234)];
    const begin = await smh.beginTask('multipart', 'parts/gappy.bin');
    await expectSmhError(await smh.confirm(begin.confirmKey), 400, 'MultipartUploadIncomplete');
    await putParts(begin, [parts[0]!]);
    await putParts(begin, [parts[2]!], 3);
    await expectSmhError(await smh.confirm(begin.confirmKey), 400, 'MultipartUploadIncomplete');
    await putParts(begin, [parts[1]!], 2);
    const file = await smh.confirmFile(begin.confirmKey);
    assert.equal(file.size, String(MiB * 2 + 1234));
    assert.ok((await smh.download('parts/gappy.bin')).body.equals(Buffer.concat(parts)));
  });

  it('a non-last part under 1 MiB is 400 MultipartUploadPartTooSmall', async () => {
    const begin = await smh.beginTask('multipart', 'parts/small.bin');
    await putParts(begin, [bytesOf('s1', 100_000), bytesOf('s2', 100_000)]);
    await expectSmhError(await smh.confirm(begin.confirmKey), 400, 'MultipartUploadPartTooSmall');
    // Sending part 1 again at full size lets the same task finish.
    const big = bytesOf('s1-big', MiB);
    await putParts(begin, [big]);
    const file = await smh.confirmFile(begin.confirmKey);
    assert.equal(file.size, String(MiB + 100_000));
  });

  it('a simple task whose PUT never happened is 400 UploadIncomplete', async () => {
    const data = bytesOf('simple-late', 4000);
    const begin = await smh.beginTask('simple', 'parts/simple.bin');
    await expectSmhError(await smh.confirm(begin.confirmKey), 400, 'UploadIncomplete');
    const form = await smh.beginTask('form', 'parts/form.bin');
    await expectSmhError(await smh.confirm(form.confirmKey), 400, 'UploadIncomplete');
    await putSimple(begin, data);
    assert.equal((await smh.confirmFile(begin.confirmKey)).eTag, `"${md5Hex(data)}"`);
  });

  it('a wrong crc64 is 400 BadCrc64, and the right one then confirms', async () => {
    const data = bytesOf('crc', 70_000);
    const begin = await smh.beginTask('simple', 'crc/file.bin');
    await putSimple(begin, data);
    const right = crc64(data);
    const wrong = (BigInt(right) ^ 1n).toString();
    await expectSmhError(await smh.confirm(begin.confirmKey, { body: { crc64: wrong } }), 400, 'BadCrc64');
    await expectSmhError(await smh.request('GET', 'file', 'crc/file.bin'), 404, 'FileNotFound');
    const file = await smh.confirmFile(begin.confirmKey, { body: { crc64: right } });
    assert.equal(file.crc64, right);
  });

  it('begin into a missing directory is 404 DirectoryNotFound (parents are never created)', async () => {
    await expectSmhError(await smh.begin('multipart', 'nowhere/file.bin'), 404, 'DirectoryNotFound');
    await expectSmhError(await smh.begin('simple', 'crc/file.bin/below.txt'), 404, 'DirectoryNotFound');
    await expectSmhError(await smh.request('GET', 'directory', 'nowhere'), 404, 'DirectoryNotFound');
  });
});

describe('SMH quota gates uploads', { timeout: 180_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;

  before(async () => {
    server = await startTestServer();
    const admin = await createToken(server.url, server, { grant: 'admin' });
    const quota = await fetch(`${server.url}/api/v1/quota/${server.libraryId}?access_token=${admin}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capacity: '1000000', removeWhenExceed: false, removeAfterDays: 0 }),
    });
    assert.equal(typeof (await expectJson<{ quotaId: number }>(quota, 201)).quotaId, 'number');
    smh = new SmhClient({
      url: server.url,
      libraryId: server.libraryId,
      token: await createToken(server.url, server, { grant: 'upload_file_force' }),
    });
  });

  after(async () => {
    await server?.close();
  });

  it('begin with a filesize over the quota is 400 QuotaLimitReached', async () => {
    await expectSmhError(
      await smh.begin('multipart', 'big.bin', { query: { filesize: '2000000' } }),
      400,
      'QuotaLimitReached',
    );
    const fits = await smh.beginTask('multipart', 'fits.bin', { query: { filesize: '900000' } });
    assert.equal((await smh.cancel(fits.confirmKey)).status, 204);
  });

  it('a confirm whose real size exceeds the quota is 400 QuotaLimitReached, and no file appears', async () => {
    const begin = await smh.beginTask('multipart', 'liar.bin', { query: { filesize: '1000' } });
    await putParts(begin, [bytesOf('liar', 1_200_000)]);
    await expectSmhError(await smh.confirm(begin.confirmKey), 400, 'QuotaLimitReached');
    await expectSmhError(await smh.request('GET', 'file', 'liar.bin'), 404, 'FileNotFound');
    assert.equal((await smh.cancel(begin.confirmKey)).status, 204);

    // Usage counts: 600 kB fit, another 600 kB no longer do.
    await uploadFile(smh, 'first.bin', bytesOf('first', 600_000));
    const second = await smh.beginTask('simple', 'second.bin');
    await putSimple(second, bytesOf('second', 600_000));
    await expectSmhError(await smh.confirm(second.confirmKey), 400, 'QuotaLimitReached');
  });

  it('overwriting counts the size the file will have, not both versions', async () => {
    const file = await uploadFile(smh, 'first.bin', bytesOf('first-again', 700_000), {
      query: { conflict_resolution_strategy: 'overwrite' },
    });
    assert.equal(file.isOverwritten, true);
    assert.equal(file.size, '700000');
  });
});

describe('SMH instant upload', { timeout: 180_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;
  let admin: SmhClient;

  before(async () => {
    server = await startTestServer();
    const token = await createToken(server.url, server, { grant: 'upload_file,create_directory' });
    smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    admin = smh.with({ token: await createToken(server.url, server, { grant: 'admin' }) });
    assert.equal((await smh.mkdir('instant')).status, 201);
  });

  after(async () => {
    await server?.close();
  });

  it('202 on a beginningHash match, 200 with the file on a fullHash match, 201 otherwise', async () => {
    const data = bytesOf('instant', 2 * MiB + 777);
    const hashes = instantHashes(data);
    const size = String(data.length);
    const original = await smh.beginTask('simple', 'instant/original.bin', { body: { ...hashes, size } });
    await putSimple(original, data);
    const stored = await smh.confirmFile(original.confirmKey);

    const probe = await smh.begin('simple', 'instant/copy.bin', {
      body: { beginningHash: hashes.beginningHash, size },
    });
    assert.equal(probe.status, 202, 'send the fullHash too');
    assert.equal(await probe.text(), '');

    const instant = await smh.begin('simple', 'instant/copy.bin', { body: { ...hashes, size: data.length } });
    const file = await expectJson<FileObject>(instant, 200);
    assert.deepEqual(file.path, ['instant', 'copy.bin']);
    assert.equal(file.size, size);
    assert.equal(file.crc64, stored.crc64);
    assert.ok((await smh.download('instant/copy.bin')).body.equals(data));

    // The multipart flavour works the same way, and the name conflict follows the strategy.
    const again = await smh.begin('multipart', 'instant/copy.bin', { body: { ...hashes, size } });
    assert.deepEqual((await expectJson<FileObject>(again, 200)).path, ['instant', 'copy (1).bin']);

    const wrong = { ...hashes, fullHash: instantHashes(bytesOf('other', data.length)).fullHash };
    const normal = await smh.begin('simple', 'instant/wrong.bin', { body: { ...wrong, size } });
    const task = await expectJson<UploadInfo>(normal, 201);
    assert.ok(task.confirmKey && task.headers, 'a normal task');
    assert.equal((await smh.cancel(task.confirmKey)).status, 204);
    const otherSize = await smh.begin('simple', 'instant/size.bin', {
      body: { ...hashes, size: String(data.length + 1) },
    });
    assert.equal(otherSize.status, 201);
    await otherSize.text();

    // The copy keeps its bytes when the original goes.
    assert.equal((await admin.request('DELETE', 'file', 'instant/original.bin')).status, 204);
    assert.ok((await smh.download('instant/copy.bin')).body.equals(data));
  });

  it('a file over 64 MiB is confirmed without reading it; a background job records its hashes', async () => {
    const data = bytesOf('large-instant', 65 * MiB + 3);
    const hashes = instantHashes(data);
    const size = String(data.length);
    const liar = await smh.beginTask('multipart', 'instant/large-liar.bin', {
      body: { ...hashes, fullHash: instantHashes(bytesOf('not it', data.length)).fullHash, size },
    });
    const begin = await smh.beginTask('multipart', 'instant/large.bin', { body: { ...hashes, size } });
    for (const task of [begin, liar]) {
      await putParts(task, [data.subarray(0, 40 * MiB), data.subarray(40 * MiB)]);
      await smh.confirmFile(task.confirmKey);
    }
    const jobs = async () =>
      (
        await server.server.container.store.jobs.list({
          libraryId: server.libraryId as never,
          kinds: ['instant-hash'],
          offset: 0,
          limit: 10,
        })
      ).jobs;
    assert.equal((await jobs()).length, 2, 'two checks queued, in the confirms');
    await waitFor(async () => (await jobs()).every((j) => j.state === 'SUCCEED'), 120_000, 'the checks');
    const results = (await jobs()).map((j) => j.result as { recorded: boolean });
    assert.deepEqual(results.map((r) => r.recorded).sort(), [false, true]);
    // Recorded for the honest upload only: instant upload now finds it.
    const instant = await smh.begin('simple', 'instant/large-copy.bin', { body: { ...hashes, size } });
    assert.equal((await expectJson<FileObject>(instant, 200)).size, size);
  });

  it('hashes are only matched when declared at begin and true of the bytes', async () => {
    const unhashed = bytesOf('unhashed', MiB + 5);
    await uploadFile(smh, 'instant/unhashed.bin', unhashed);
    const probe = await smh.begin('simple', 'instant/unhashed-copy.bin', {
      body: { ...instantHashes(unhashed), size: String(unhashed.length) },
    });
    assert.equal(probe.status, 201, 'a file uploaded without hashes is no candidate');
    await probe.text();

    // A client that declares the hashes of one content and uploads another poisons nothing.
    const claimed = bytesOf('claimed', MiB + 5);
    const sent = bytesOf('sent', MiB + 5);
    const liar = await smh.beginTask('simple', 'instant/liar.bin', {
      body: { ...instantHashes(claimed), size: String(claimed.length) },
    });
    await putSimple(liar, sent);
    await smh.confirmFile(liar.confirmKey);
    const victim = await smh.begin('simple', 'instant/victim.bin', {
      body: { ...instantHashes(claimed), size: String(claimed.length) },
    });
    assert.equal(victim.status, 201, 'the claimed hashes were not recorded for other bytes');
    await victim.text();
  });

  it('an instant upload counts against the quota like any other', async () => {
    const data = bytesOf('instant-quota', MiB + 10);
    const hashes = instantHashes(data);
    const size = String(data.length);
    const original = await smh.beginTask('simple', 'instant/quota.bin', { body: { ...hashes, size } });
    await putSimple(original, data);
    await smh.confirmFile(original.confirmKey);
    const used = await expectJson<{ size: string }>(await admin.request('GET', 'space', 'size'), 200);
    const quota = await fetch(`${server.url}/api/v1/quota/${server.libraryId}?access_token=${admin.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        capacity: String(Number(used.size) + MiB),
        removeWhenExceed: false,
        removeAfterDays: 0,
      }),
    });
    assert.equal(quota.status, 201, await quota.text());
    await expectSmhError(
      await smh.begin('simple', 'instant/quota-copy.bin', { body: { ...hashes, size } }),
      400,
      'QuotaLimitReached',
    );
    await expectSmhError(await smh.request('GET', 'file', 'instant/quota-copy.bin'), 404, 'FileNotFound');
  });
});

describe('SMH abandoned upload tasks expire', { timeout: 180_000 }, () => {
  let server: TestServer;
  let clock: TestClock;
  let smh: SmhClient;

  before(async () => {
    clock = testClock();
    server = await startTestServer({ uploadCredentialSeconds: 600, uploadTaskGraceSeconds: 0 }, { clock });
    smh = new SmhClient({
      url: server.url,
      libraryId: server.libraryId,
      token: await createToken(server.url, server, { grant: 'upload_file' }),
    });
  });

  after(async () => {
    await server?.close();
  });

  /** The object key behind a grant's path `/{bucket}/{key}`. */
  const keyOf = (info: UploadInfo): string => decodeURIComponent(info.path.slice(server.bucket.length + 2));

  it('the sweeper expires a task past its credentials: 404, upload aborted, bytes reclaimed', async () => {
    const before = blobCount(server);
    const abandoned = await smh.beginTask('multipart', 'abandoned.bin');
    await putParts(abandoned, [bytesOf('abandoned', MiB)]);
    const simple = await smh.beginTask('simple', 'abandoned-simple.bin');
    await putSimple(simple, bytesOf('abandoned-simple', 5000));
    const kept = await smh.beginTask('multipart', 'kept.bin');
    const keptData = bytesOf('kept', MiB + 50);
    await putParts(kept, [keptData.subarray(0, MiB)]);
    const withAll = blobCount(server);
    assert.equal(withAll, before + 3);

    clock.advance(700_000);
    // Renewing keeps a task alive; the other two were abandoned.
    const renewed = await expectJson<UploadInfo>(await smh.renew(kept.confirmKey), 200);
    await server.server.container.sweeper.sweep();

    for (const task of [abandoned, simple]) {
      await expectSmhError(await smh.status(task.confirmKey), 404, 'ConfirmKeyNotFound');
      await expectSmhError(await smh.confirm(task.confirmKey), 404, 'ConfirmKeyNotFound');
      await expectSmhError(await smh.renew(task.confirmKey), 404, 'ConfirmKeyNotFound');
    }
    // The library's object-API keys cannot see SMH keys (ADR 0001 §17): ask the store SMH uses.
    const { store, objectStore } = server.server.container;
    const library = (await store.libraries.get(server.libraryId as LibraryId))!;
    const parts = await objectStore.listParts({ library, key: keyOf(abandoned) }, abandoned.uploadId!);
    assert.equal(parts, undefined, 'the multipart upload was aborted');
    const part = await putPart(abandoned, 2, bytesOf('late', 1000));
    assert.equal(part.status, 403, "no part can be added with the task's grant");
    await part.text();
    const head = await objectStore.headObject({ library, key: keyOf(simple) });
    assert.equal(head, undefined, 'the simple upload object was deleted');
    await waitFor(() => blobCount(server) === before + 1, WAIT_MS, 'the abandoned bytes reclaimed');

    await putParts(renewed, [keptData.subarray(MiB)], 2);
    const file = await smh.confirmFile(kept.confirmKey);
    assert.equal(file.crc64, crc64(keptData));
  });
});
