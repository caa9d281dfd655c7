// Acceptance over HTTP: each SMH operation takes the query parameters and body fields its schema
// lists and no others. A parameter it does not honour (a typo, a spec feature mediahost lacks) is a
// 400 ParamInvalid naming it, and the request changes nothing; the common caller parameters and the
// ones documented as harmless (ADR 0002 §16, §26) pass.
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
  contents: { name: string }[];
}

const names = async (path: string): Promise<string[]> =>
  (await expectJson<Listing>(await smh.list(path), 200)).contents.map((e) => e.name).sort();

before(async () => {
  server = await startTestServer();
  const token = await createToken(server.url, server, { grant: 'admin' });
  smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
  assert.equal((await smh.mkdir('docs/inner')).status, 201);
  await uploadFile(smh, 'docs/a.txt', Buffer.from('a'));
  await uploadFile(smh, 'docs/b.txt', Buffer.from('b'));
});
after(async () => {
  await server?.close();
});

describe('SMH request schemas', SUITE, () => {
  it('refuses a query parameter the operation does not take, naming it, and changes nothing', async () => {
    const cases: [string, string, string, SmhRequest, RegExp][] = [
      // A typo must not fall back to the default strategy.
      [
        'PUT',
        'directory',
        'docs/typo',
        { query: { conflict_resolution_stratgy: 'rename' } },
        /conflict_resolution_stratgy is not a parameter of CreateDirectory/,
      ],
      ['DELETE', 'file', 'docs/a.txt', { query: { content_cas: 'x1' } }, /content_cas is not supported/],
      ['DELETE', 'directory', 'docs/inner', { query: { recursive: '0' } }, /recursive/],
      ['GET', 'directory', 'docs', { query: { prefix: 'a' } }, /prefix is not supported/],
      ['GET', 'file', 'docs/a.txt', { query: { info: '', traffic_limit: '102400' } }, /traffic_limit/],
      ['GET', 'file', 'docs/a.txt', { query: { info: '', with_favorite_status: '1' } }, /favorites/],
      ['PUT', 'file', 'docs/c.txt', { query: { part_number_range: '1-2' } }, /part_number_range/],
    ];
    for (const [method, resource, path, init, message] of cases) {
      const body = await expectSmhError(await smh.request(method, resource, path, init), 400, 'ParamInvalid');
      assert.match(body.message, message, `${method} ${resource} ${JSON.stringify(init)}`);
    }
    assert.deepEqual(await names('docs'), ['a.txt', 'b.txt', 'inner']);
  });

  it('refuses a body field the operation does not take, and a field of the wrong type', async () => {
    const unknown = await expectSmhError(
      await smh.request('PUT', 'directory', 'docs/labelled', { body: { lables: ['x'] } }),
      400,
      'ParamInvalid',
    );
    assert.match(unknown.message, /lables is not a body field of CreateDirectory/);
    const both = await expectSmhError(
      await smh.request('PUT', 'file', 'docs/moved.txt', {
        body: { copyFrom: 'docs/a.txt', from: 'docs/b.txt' },
      }),
      400,
      'ParamInvalid',
    );
    assert.match(both.message, /from is not a body field of CopyFile/);
    const typed = await expectSmhError(
      await smh.request('PUT', 'directory', 'docs/typed', { body: { labels: 'x' } }),
      400,
      'ParamInvalid',
    );
    assert.equal(typed.message, 'labels must be a list of strings.');
    assert.deepEqual(await names('docs'), ['a.txt', 'b.txt', 'inner']);
  });

  it('words a bad value by what the field expects, with the code the spec gives it', async () => {
    const limit = await expectSmhError(
      await smh.request('GET', 'directory', 'docs', { query: { limit: '5000' } }),
      400,
      'ParamInvalid',
    );
    assert.equal(limit.message, 'limit must be an integer from 1 to 1000.');
    await expectSmhError(
      await smh.request('PUT', 'directory', 'docs/s', {
        query: { conflict_resolution_strategy: 'overwrite' },
      }),
      400,
      'InvalidConflictResolutionStrategy',
    );
  });

  it('takes the caller parameters everywhere, and the harmless ones where the spec lists them', async () => {
    const harmless: [string, string, string, SmhRequest][] = [
      ['GET', 'directory', 'docs', { query: { with_favorite_status: '0', user_id: 'someone' } }],
      ['GET', 'directory', 'docs', { query: { info: '', with_inode: '0', with_favorite_status: '0' } }],
      ['GET', 'file', 'docs/a.txt', { query: { info: '', purpose: 'download', internal_domain: '1' } }],
      ['DELETE', 'file', 'docs/b.txt', { query: { permanent: '1' } }],
    ];
    for (const [method, resource, path, init] of harmless) {
      const res = await smh.request(method, resource, path, init);
      assert.ok(
        res.status < 300,
        `${method} ${resource} ${JSON.stringify(init)}: ${res.status} ${await res.text()}`,
      );
    }
    assert.deepEqual(await names('docs'), ['a.txt', 'inner']);
  });
});
