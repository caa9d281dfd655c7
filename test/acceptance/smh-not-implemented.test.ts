// Acceptance over HTTP: SMH operations mediahost does not implement answer 400 FunctionNotEnabled and
// change nothing, instead of falling into the upload, create-directory or download handlers (spec smh
// §2.3, §2.4; ADR 0002 §16); `directory_only=1` deletes only an empty directory.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  createToken,
  expectJson,
  expectSmhError,
  SmhClient,
  type SmhRequest,
  uploadFile,
} from '../helpers/smh-client.ts';

const SUITE = { timeout: 240_000 };

let server: TestServer;
let smh: SmhClient;

interface Listing {
  contents: { name: string; type: string }[];
}

const names = async (path: string): Promise<string[]> =>
  (await expectJson<Listing>(await smh.list(path), 200)).contents.map((e) => `${e.type}:${e.name}`).sort();

before(async () => {
  server = await startTestServer();
  const token = await createToken(server.url, server, { grant: 'admin' });
  smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
  assert.equal((await smh.mkdir('docs/inner')).status, 201);
  await uploadFile(smh, 'docs/report.pdf', Buffer.from('report bytes'));
});
after(async () => {
  await server?.close();
});

describe('SMH operations that are not implemented', SUITE, () => {
  const refused: [string, string, string, string, SmhRequest][] = [
    ['CreateSymlink', 'PUT', 'file', 'docs/link.pdf', { body: { linkTo: 'docs/report.pdf' } }],
    [
      'CreateVirtualFile',
      'PUT',
      'file',
      'docs/virtual.pdf',
      { query: { virtual_file: '' }, body: { size: '9' } },
    ],
    ['ConvertFile', 'PUT', 'file', 'docs/report.pdf', { query: { convert: '1' } }],
    ['UncompressFile', 'POST', 'file', 'docs/report.pdf', { query: { uncompress: '' } }],
    ['PreviewFile', 'GET', 'file', 'docs/report.pdf', { query: { preview: '', size: '64' } }],
    ['GetFileVersion', 'GET', 'file', 'docs/report.pdf', { query: { history_id: '3' } }],
    ['GetFileVersion', 'GET', 'file', 'docs/report.pdf', { query: { info: '', history_id: '3' } }],
    ['CalibrateDirectoryStats', 'PUT', 'directory', 'docs/calibrated', { query: { calibrate: '' } }],
    ['GetDirectoryStats', 'GET', 'directory', 'docs', { query: { stats: '', stats_type: 'normal' } }],
    ['CopyDirectory', 'PUT', 'directory', 'docs-copy', { body: { copyFrom: 'docs' } }],
    [
      'UpdateEntryAttributes',
      'POST',
      'directory',
      'docs',
      { query: { update: '' }, body: { labels: ['x'] } },
    ],
    ['ListRecycled', 'GET', 'recycled', '', {}],
    ['BatchDelete', 'POST', 'batch', '', { query: { delete: '' }, body: [{ path: 'docs/report.pdf' }] }],
  ];

  for (const [name, method, resource, path, init] of refused) {
    it(`${name}: ${method} ${resource}/…/${path}?${Object.keys(init.query ?? {}).join('&')} → 400 FunctionNotEnabled, nothing changes`, async () => {
      const root = await names('');
      const docs = await names('docs');
      const body = await expectSmhError(
        await smh.request(method, resource, path, init),
        400,
        'FunctionNotEnabled',
      );
      assert.match(body.message, new RegExp(`^${name} \\(`));
      assert.deepEqual(await names(''), root);
      assert.deepEqual(await names('docs'), docs);
    });
  }

  it('HEAD of a file version answers 400 without a body', async () => {
    const res = await smh.request('HEAD', 'file', 'docs/report.pdf', { query: { history_id: '3' } });
    assert.equal(res.status, 400);
    assert.equal(await res.text(), '');
  });

  it('families listed by path only answer FunctionNotEnabled whatever the method; unknown paths 404', async () => {
    const url = `${server.url}/api/v1/share/${server.libraryId}/anything?access_token=${smh.token}`;
    for (const method of ['GET', 'POST', 'PUT', 'DELETE'])
      await expectSmhError(await fetch(url, { method }), 400, 'FunctionNotEnabled');
    await expectSmhError(
      await fetch(`${server.url}/api/v1/no-such-thing/${server.libraryId}`),
      404,
      'RouteNotFound',
    );
    await expectSmhError(await smh.request('PATCH', 'file', 'docs/report.pdf'), 404, 'RouteNotFound');
  });
});

describe('DELETE directory with directory_only', SUITE, () => {
  it('refuses a directory that has contents with 409 DirectoryNotEmpty and leaves them untouched', async () => {
    for (const value of ['1', 'true']) {
      await expectSmhError(
        await smh.request('DELETE', 'directory', 'docs', { query: { directory_only: value } }),
        409,
        'DirectoryNotEmpty',
      );
      assert.deepEqual(await names('docs'), ['dir:inner', 'file:report.pdf']);
      const { body } = await smh.download('docs/report.pdf');
      assert.equal(body.toString(), 'report bytes');
    }
  });

  it('refuses a directory holding only an empty directory', async () => {
    assert.equal((await smh.mkdir('nest/child')).status, 201);
    await expectSmhError(
      await smh.request('DELETE', 'directory', 'nest', { query: { directory_only: '1' } }),
      409,
      'DirectoryNotEmpty',
    );
    assert.deepEqual(await names('nest'), ['dir:child']);
  });

  it('deletes an empty directory', async () => {
    assert.equal((await smh.mkdir('empty')).status, 201);
    const res = await smh.request('DELETE', 'directory', 'empty', { query: { directory_only: '1' } });
    assert.equal(res.status, 204, await res.text());
    assert.equal((await smh.request('HEAD', 'directory', 'empty')).status, 404);
  });

  it('refuses a value that is not a boolean, deleting nothing', async () => {
    await expectSmhError(
      await smh.request('DELETE', 'directory', 'docs', { query: { directory_only: 'yes-please' } }),
      400,
      'ParamInvalid',
    );
    assert.deepEqual(await names('docs'), ['dir:inner', 'file:report.pdf']);
  });

  it('without it (or with 0) deletes the directory and its contents', async () => {
    assert.equal((await smh.mkdir('tree/a/b')).status, 201);
    await uploadFile(smh, 'tree/a/file.txt', Buffer.from('x'));
    const res = await smh.request('DELETE', 'directory', 'tree', { query: { directory_only: '0' } });
    assert.equal(res.status, 204, await res.text());
    assert.equal((await smh.request('HEAD', 'directory', 'tree')).status, 404);
  });
});
