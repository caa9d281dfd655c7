// Acceptance over HTTP: the usage and quota endpoints the SMH JavaScript SDK calls (spec smh §2.2, §2.6;
// ADR 0002 §28): library usage, batch space usage, a space's file count, a space's quota under
// /space-quota/, and reading and changing a quota by its id. Paths are built as the SDK builds them,
// every segment through encodeURIComponent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  createToken,
  expectJson,
  expectSmhError,
  putSimple,
  SmhClient,
  type UploadInfo,
} from '../helpers/smh-client.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field
type Json = Record<string, any>;

let server: TestServer;
let lib: string;
let secret: string;
let admin: string;

/** `/api/v1/{segments…}` with each segment encodeURIComponent'ed, and the access token in the query. */
function sdk(method: string, segments: readonly string[], token: string, body?: unknown): Promise<Response> {
  const path = segments.map((s) => encodeURIComponent(s)).join('/');
  return fetch(`${server.url}/api/v1/${path}?access_token=${token}`, {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
}

async function newSpace(): Promise<string> {
  return (await expectJson<Json>(await sdk('POST', ['space', lib], admin), 201)).spaceId as string;
}

async function createQuota(spaces: string[], capacity: string): Promise<number> {
  const body = { spaces, capacity, removeWhenExceed: false, removeAfterDays: 0 };
  return (await expectJson<Json>(await sdk('POST', ['quota', lib], admin, body), 201)).quotaId as number;
}

async function upload(space: string, path: string, content: string): Promise<void> {
  const smh = new SmhClient({ url: server.url, libraryId: lib, spaceId: space, token: admin });
  const begin = await expectJson<UploadInfo>(await smh.begin('simple', path), 201);
  await putSimple(begin, Buffer.from(content));
  await expectJson(await smh.confirm(begin.confirmKey), 200);
}

describe('SMH usage and quotas as the JS SDK calls them', { timeout: 240_000 }, () => {
  before(async () => {
    server = await startTestServer();
    const created = await server.server.container.libraries.create({ name: 'usage', multiTenant: true });
    lib = created.library.id;
    secret = created.librarySecret;
    admin = await createToken(server.url, { libraryId: lib, librarySecret: secret }, { grant: 'admin' });
  });
  after(async () => {
    await server?.close();
  });

  it('library usage (admin) sums the bytes of every space', async () => {
    const empty = await expectJson<Json>(await sdk('GET', ['usage', lib], admin), 200);
    const base = Number(empty.totalFileSize);
    assert.equal(typeof empty.totalFileSize, 'string', 'sizes are strings');
    const [a, b] = [await newSpace(), await newSpace()];
    await upload(a, 'one.txt', 'x'.repeat(300));
    await upload(b, 'two.txt', 'y'.repeat(45));
    assert.deepEqual(await expectJson<Json>(await sdk('GET', ['usage', lib], admin), 200), {
      totalFileSize: String(base + 345),
    });
    const reader = await createToken(server.url, { libraryId: lib, librarySecret: secret }, { space_id: a });
    await expectSmhError(await sdk('GET', ['usage', lib], reader), 403, 'NoPermission');
  });

  it('batch space usage: size, and capacity and what is left of a quota shared by spaces', async () => {
    const [shared1, shared2, free] = [await newSpace(), await newSpace(), await newSpace()];
    await createQuota([shared1, shared2], '1000');
    await upload(shared1, 'a.bin', 'a'.repeat(100));
    await upload(shared2, 'b.bin', 'b'.repeat(250));
    await upload(free, 'c.bin', 'c'.repeat(7));
    // The SDK encodes the comma list as one segment: shared1%2Cshared2%2Cfree.
    const usage = await expectJson<Json[]>(
      await sdk('GET', ['usage', lib, `${shared1},${shared2},${free}`], admin),
      200,
    );
    assert.deepEqual(usage, [
      { spaceId: shared1, capacity: '1000', availableSpace: '650', size: '100' },
      { spaceId: shared2, capacity: '1000', availableSpace: '650', size: '250' },
      { spaceId: free, capacity: null, availableSpace: null, size: '7' },
    ]);

    // space_admin sees the spaces of its token only; other grants see none.
    const own = await createToken(
      server.url,
      { libraryId: lib, librarySecret: secret },
      { grant: 'space_admin', space_id: free },
    );
    const mine = await expectJson<Json[]>(await sdk('GET', ['usage', lib, free], own), 200);
    assert.deepEqual(mine, [{ spaceId: free, capacity: null, availableSpace: null, size: '7' }]);
    await expectSmhError(
      await sdk('GET', ['usage', lib, `${free},${shared1}`], own),
      403,
      'AccessTokenNotMatchSpace',
    );
    const uploader = await createToken(
      server.url,
      { libraryId: lib, librarySecret: secret },
      { grant: 'upload_file', space_id: free },
    );
    await expectSmhError(await sdk('GET', ['usage', lib, free], uploader), 403, 'NoPermission');
    await expectSmhError(await sdk('GET', ['usage', lib, 'nosuchspace'], admin), 404, 'SpaceNotFound');
    await expectSmhError(await sdk('GET', ['usage', lib, ','], admin), 400, 'ParamInvalid');
  });

  it('file count of a space: files and directories as strings, no recycle bin or history', async () => {
    const space = await newSpace();
    const smh = new SmhClient({ url: server.url, libraryId: lib, spaceId: space, token: admin });
    assert.equal((await smh.mkdir('d1/d2')).status, 201);
    await upload(space, 'd1/f1.txt', 'one');
    await upload(space, 'd1/d2/f2.txt', 'two');
    await upload(space, 'f3.txt', 'three');
    assert.deepEqual(
      await expectJson<Json>(await sdk('GET', ['space', lib, space, 'file-count'], admin), 200),
      {
        fileNum: '3',
        dirNum: '2',
        recycledFileNum: '0',
        recycledDirNum: '0',
        historyFileNum: '0',
      },
    );
    const reader = await createToken(
      server.url,
      { libraryId: lib, librarySecret: secret },
      { space_id: space },
    );
    await expectSmhError(await sdk('GET', ['space', lib, space, 'file-count'], reader), 403, 'NoPermission');
  });

  it('space-quota reads the quota of a space; 404 NoQuota without one', async () => {
    const [space, none] = [await newSpace(), await newSpace()];
    const quotaId = await createQuota([space], '4096');
    assert.deepEqual(await expectJson<Json>(await sdk('GET', ['space-quota', lib, space], admin), 200), {
      id: quotaId,
      capacity: '4096',
    });
    await expectSmhError(await sdk('GET', ['space-quota', lib, none], admin), 404, 'NoQuota');
  });

  it('a quota by id: read its spaces and capacity, change them, 404 QuotaNotFound for unknown ids', async () => {
    const [a, b, c] = [await newSpace(), await newSpace(), await newSpace()];
    const quotaId = await createQuota([a, b], '5000');
    const byId = ['quota', lib, String(quotaId)];
    const read = await expectJson<Json>(await sdk('GET', byId, admin), 200);
    assert.deepEqual(
      { ...read, spaces: [...read.spaces].sort() },
      { spaces: [a, b].sort(), capacity: '5000' },
    );

    assert.equal((await sdk('PUT', byId, admin, { capacity: '6000' })).status, 204);
    assert.equal((await expectJson<Json>(await sdk('GET', byId, admin), 200)).capacity, '6000');
    // `spaces` replaces the covered set: b leaves the quota, c joins it.
    assert.equal((await sdk('PUT', byId, admin, { spaces: [a, c] })).status, 204);
    const moved = await expectJson<Json>(await sdk('GET', byId, admin), 200);
    assert.deepEqual([...moved.spaces].sort(), [a, c].sort());
    await expectSmhError(await sdk('GET', ['quota', lib, b], admin), 404, 'NoQuota');
    assert.equal((await expectJson<Json>(await sdk('GET', ['quota', lib, c], admin), 200)).id, quotaId);

    await upload(c, 'fill.bin', 'f'.repeat(700));
    await expectSmhError(
      await sdk('PUT', byId, admin, { capacity: '699' }),
      400,
      'QuotaCapacityLessThanSize',
    );
    const other = await createQuota([b], '10');
    await expectSmhError(await sdk('PUT', byId, admin, { spaces: [a, b] }), 409, 'DuplicateQuota');
    await expectSmhError(await sdk('PUT', byId, admin, { spaces: [] }), 400, 'ParamInvalid');
    await expectSmhError(await sdk('PUT', byId, admin, { removeAfterDays: 'soon' }), 400, 'ParamInvalid');
    const unchanged = await expectJson<Json>(await sdk('GET', byId, admin), 200);
    assert.deepEqual(
      { ...unchanged, spaces: [...unchanged.spaces].sort() },
      { spaces: [a, c].sort(), capacity: '6000' },
      'refused updates change nothing',
    );
    assert.deepEqual(await expectJson<Json>(await sdk('GET', ['quota', lib, String(other)], admin), 200), {
      spaces: [b],
      capacity: '10',
    });

    await expectSmhError(await sdk('GET', ['quota', lib, '999999'], admin), 404, 'QuotaNotFound');
    await expectSmhError(
      await sdk('PUT', ['quota', lib, '999999'], admin, { capacity: '1' }),
      404,
      'QuotaNotFound',
    );
    // A token of one tenant cannot read a quota that covers another tenant's space.
    const tenant = await createToken(server.url, { libraryId: lib, librarySecret: secret }, { space_id: a });
    await expectSmhError(await sdk('GET', byId, tenant), 403, 'AccessTokenNotMatchSpace');
    const own = await expectJson<Json>(
      await sdk(
        'GET',
        ['quota', lib, String(other)],
        await createToken(server.url, { libraryId: lib, librarySecret: secret }, { space_id: b }),
      ),
      200,
    );
    assert.deepEqual(own.spaces, [b]);
  });
});
