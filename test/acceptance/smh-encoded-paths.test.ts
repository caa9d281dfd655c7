// Acceptance over HTTP: paths exactly as Tencent's SMH JavaScript SDK sends them (ADR 0002 §27). The SDK
// puts `encodeURIComponent(filePath)` in the URL, so `a/b/c.txt` arrives as `a%2Fb%2Fc.txt`, the root
// as `%2F` and `/dir` as `%2Fdir`; action flags arrive as `flag=1`. Every call below is one the SDK makes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  bytesOf,
  crc64,
  createToken,
  expectJson,
  expectSmhError,
  type FileObject,
  MiB,
  postForm,
  putParts,
  putSimple,
  type TaskStatus,
  type UploadInfo,
} from '../helpers/smh-client.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field
type Json = Record<string, any>;

let server: TestServer;
let token: string;

/** One SDK call: `/api/v1/{resource}/{lib}/{space}/{encodeURIComponent(path)}?{flags}&access_token=`. */
function sdk(
  method: string,
  resource: 'directory' | 'file',
  path: string,
  init: { query?: Record<string, string>; body?: unknown } = {},
): Promise<Response> {
  const query = new URLSearchParams({ ...init.query, access_token: token });
  const url = `${server.url}/api/v1/${resource}/${encodeURIComponent(server.libraryId)}/-/${encodeURIComponent(path)}?${query}`;
  return fetch(url, {
    method,
    redirect: 'manual',
    ...(init.body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }
      : {}),
  });
}

const names = (listing: Json): string[] => (listing.contents as Json[]).map((e) => e.name as string).sort();

describe('SMH paths as the JS SDK encodes them', { timeout: 240_000 }, () => {
  before(async () => {
    server = await startTestServer();
    token = await createToken(server.url, server, { grant: 'admin' });
  });
  after(async () => {
    await server?.close();
  });

  it('directories: create nested, list the root as %2F, list, info, HEAD, move, delete', async () => {
    const created = await expectJson<Json>(await sdk('PUT', 'directory', '/sdk-docs/2024'), 201);
    assert.deepEqual(created.path, ['sdk-docs', '2024'], 'an encoded slash separates directories');
    await expectJson(await sdk('PUT', 'directory', 'sdk-docs/2024/q1'), 201);

    const root = await expectJson<Json>(await sdk('GET', 'directory', '/'), 200);
    assert.deepEqual(root.path, []);
    assert.ok(names(root).includes('sdk-docs'), 'the root (%2F) lists its entries');
    const year = await expectJson<Json>(await sdk('GET', 'directory', 'sdk-docs/2024'), 200);
    assert.deepEqual(year.path, ['sdk-docs', '2024']);
    assert.deepEqual(names(year), ['q1']);
    // Empty segments (a leading, doubled or trailing slash) are ignored.
    const same = await expectJson<Json>(await sdk('GET', 'directory', '/sdk-docs//2024/'), 200);
    assert.deepEqual(names(same), ['q1']);
    const paged = await expectJson<Json>(
      await sdk('GET', 'directory', '/sdk-docs', { query: { 'by-page': '1', page: '1', page_size: '10' } }),
      200,
    );
    assert.equal(paged.totalNum, 1);

    const info = await expectJson<Json>(
      await sdk('GET', 'directory', 'sdk-docs/2024/q1', { query: { info: '1' } }),
      200,
    );
    assert.equal(info.type, 'dir');
    assert.equal((await sdk('HEAD', 'directory', '/sdk-docs/2024/q1')).status, 200);
    assert.equal((await sdk('HEAD', 'directory', '/sdk-docs/2024/none')).status, 404);

    const moved = await sdk('PUT', 'directory', '/sdk-docs/2024/first-quarter', {
      body: { from: '/sdk-docs/2024/q1' },
    });
    assert.equal(moved.status, 204, await moved.text());
    const after = await expectJson<Json>(await sdk('GET', 'directory', '/sdk-docs/2024'), 200);
    assert.deepEqual(names(after), ['first-quarter']);

    assert.equal((await sdk('DELETE', 'directory', '/sdk-docs/2024/first-quarter')).status, 204);
    const emptied = await expectJson<Json>(await sdk('GET', 'directory', 'sdk-docs/2024'), 200);
    assert.deepEqual(names(emptied), []);
  });

  it('uploads to nested paths: simple, form and multipart, with status, renew and confirm by key', async () => {
    await expectJson(await sdk('PUT', 'directory', 'up/deep'), 201);

    const simpleData = bytesOf('sdk-simple', 5000);
    const simple = await expectJson<UploadInfo>(await sdk('PUT', 'file', '/up/deep/simple.txt'), 201);
    await putSimple(simple, simpleData);
    const simpleFile = await expectJson<FileObject>(
      await sdk('POST', 'file', simple.confirmKey, { query: { confirm: '1' } }),
      200,
    );
    assert.deepEqual(simpleFile.path, ['up', 'deep', 'simple.txt']);

    const form = await expectJson<UploadInfo>(await sdk('POST', 'file', 'up/deep/form.txt'), 201);
    await postForm(form, Buffer.from('form bytes'), 'form.txt');
    const formFile = await expectJson<FileObject>(
      await sdk('POST', 'file', form.confirmKey, { query: { confirm: '1' } }),
      200,
    );
    assert.deepEqual(formFile.path, ['up', 'deep', 'form.txt']);

    const data = bytesOf('sdk-multipart', 2 * MiB + 77);
    const multipart = await expectJson<UploadInfo>(
      await sdk('POST', 'file', '/up/deep/big.bin', { query: { multipart: '1' } }),
      201,
    );
    await putParts(multipart, [data.subarray(0, MiB)]);
    const status = await expectJson<TaskStatus>(
      await sdk('GET', 'file', multipart.confirmKey, { query: { upload: '1' } }),
      200,
    );
    assert.deepEqual(status.path, ['up', 'deep', 'big.bin']);
    assert.deepEqual(
      status.parts?.map((p) => p.PartNumber),
      [1],
    );
    const renewed = await expectJson<UploadInfo>(
      await sdk('POST', 'file', multipart.confirmKey, { query: { renew: '1' } }),
      200,
    );
    await putParts(renewed, [data.subarray(MiB, 2 * MiB), data.subarray(2 * MiB)], 2);
    const big = await expectJson<FileObject>(
      await sdk('POST', 'file', multipart.confirmKey, { query: { confirm: '1' } }),
      200,
    );
    assert.deepEqual(big.path, ['up', 'deep', 'big.bin']);
    assert.equal(big.crc64, crc64(data));

    const cancelled = await expectJson<UploadInfo>(
      await sdk('POST', 'file', 'up/deep/cancelled.bin', { query: { multipart: '1' } }),
      201,
    );
    assert.equal((await sdk('DELETE', 'file', cancelled.confirmKey, { query: { upload: '1' } })).status, 204);

    const listing = await expectJson<Json>(await sdk('GET', 'directory', '/up/deep'), 200);
    assert.deepEqual(names(listing), ['big.bin', 'form.txt', 'simple.txt']);
  });

  it('files: info, download, HEAD, copy, move and delete by encoded path', async () => {
    await expectJson(await sdk('PUT', 'directory', '/files/a/b'), 201);
    const begin = await expectJson<UploadInfo>(await sdk('PUT', 'file', '/files/a/b/note.txt'), 201);
    await putSimple(begin, Buffer.from('note bytes'));
    await expectJson(await sdk('POST', 'file', begin.confirmKey, { query: { confirm: '1' } }), 200);

    const info = await expectJson<Json>(
      await sdk('GET', 'file', 'files/a/b/note.txt', { query: { info: '1' } }),
      200,
    );
    assert.equal(info.size, '10');
    assert.ok(info.cosUrl, 'info carries a download URL');
    assert.equal(await (await fetch(info.cosUrl)).text(), 'note bytes');

    const download = await sdk('GET', 'file', '/files/a/b/note.txt');
    assert.equal(download.status, 302, await download.text());
    assert.equal(await (await fetch(download.headers.get('location')!)).text(), 'note bytes');

    const head = await sdk('HEAD', 'file', '/files/a/b/note.txt');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-smh-size'), '10');

    const copy = await expectJson<Json>(
      await sdk('PUT', 'file', '/files/a/copy.txt', { body: { copyFrom: '/files/a/b/note.txt' } }),
      200,
    );
    assert.deepEqual(copy.path, ['files', 'a', 'copy.txt']);
    const move = await expectJson<Json>(
      await sdk('PUT', 'file', 'files/moved.txt', { body: { from: 'files/a/copy.txt' } }),
      200,
    );
    assert.deepEqual(move.path, ['files', 'moved.txt']);

    assert.equal((await sdk('DELETE', 'file', '/files/a/b/note.txt')).status, 204);
    await expectSmhError(
      await sdk('GET', 'file', 'files/a/b/note.txt', { query: { info: '1' } }),
      404,
      'FileNotFound',
    );
    const left = await expectJson<Json>(await sdk('GET', 'directory', '/files'), 200);
    assert.deepEqual(names(left), ['a', 'moved.txt']);
  });

  it('a decoded slash never smuggles a `.` or `..` segment past the name rules', async () => {
    await expectJson(await sdk('PUT', 'directory', 'guard'), 201);
    await expectSmhError(await sdk('PUT', 'directory', 'guard/../escape'), 400, 'IllegalFileName');
    // Lookups take `.` and `..` as names, which nothing can be called: not found, never a step up.
    await expectSmhError(await sdk('PUT', 'file', 'guard/./x.txt'), 404, 'DirectoryNotFound');
    await expectSmhError(
      await sdk('GET', 'file', '/guard/../guard/x.txt', { query: { info: '1' } }),
      404,
      'FileNotFound',
    );
    await expectSmhError(await sdk('PUT', 'file', 'guard/..'), 400, 'IllegalFileName');
    // A name is still refused for the characters SMH forbids in it.
    await expectSmhError(await sdk('PUT', 'file', 'guard/a:b.txt'), 400, 'IllegalFileName');
    const root = await expectJson<Json>(await sdk('GET', 'directory', '/'), 200);
    assert.ok(!names(root).includes('escape'), 'nothing was created outside guard');
  });
});
