// Acceptance over HTTP: SMH access tokens (spec smh §1.3, §2.1; ADR 0002 §1–6) with sliding expiry on a
// controllable clock, and tenant spaces with their quotas (§1.2, §2.2, §2.6; ADR 0002 §7–11).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LibraryId } from '../../src/core/ids.ts';
import { startTestServer, type TestClock, type TestServer, testClock } from '../helpers/server.ts';

const SUITE = { timeout: 240_000 };

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field
type Json = Record<string, any>;

interface Reply {
  status: number;
  body: Json | undefined;
  text: string;
}

type Params = Record<string, string | number | undefined>;

function query(params: Params): string {
  const pairs = Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return pairs.length === 0 ? '' : pairs.join('&');
}

async function call(
  server: TestServer,
  method: string,
  path: string,
  options: { params?: Params; body?: unknown } = {},
): Promise<Reply> {
  const q = query(options.params ?? {});
  const url = `${server.url}/api/v1${path}${q === '' ? '' : `${path.includes('?') ? '&' : '?'}${q}`}`;
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    ...(options.body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.body) }
      : {}),
  });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json') && text !== '';
  return { status: res.status, body: isJson ? (JSON.parse(text) as Json) : undefined, text };
}

function expectOk(reply: Reply, status: number, what = ''): Json {
  assert.equal(reply.status, status, `${what} ${reply.text}`);
  return reply.body ?? {};
}

/** SMH errors: JSON `{code, message, requestId}` (spec smh §1.5). */
function expectError(reply: Reply, status: number, code: string, what = ''): void {
  assert.equal(reply.status, status, `${what} ${reply.text}`);
  assert.equal(reply.body?.code, code, `${what} ${reply.text}`);
  assert.equal(typeof reply.body?.message, 'string');
  assert.ok(reply.body?.requestId, 'errors carry a requestId');
}

interface Library {
  lib: string;
  secret: string;
}

async function createToken(server: TestServer, library: Library, params: Params = {}): Promise<string> {
  const reply = await call(server, 'GET', '/token', {
    params: { library_id: library.lib, library_secret: library.secret, ...params },
  });
  return expectOk(reply, 200, 'token').accessToken as string;
}

describe('SMH access tokens', SUITE, () => {
  let server: TestServer;
  let lib: Library;
  const clock: TestClock = testClock();

  /** Any authenticated read of the library: the root listing of the single space. */
  const use = (token: string): Promise<Reply> =>
    call(server, 'GET', `/directory/${lib.lib}/-`, { params: { access_token: token } });

  async function expectAlive(token: string, what: string): Promise<void> {
    expectOk(await use(token), 200, what);
  }

  async function expectDead(token: string, what: string): Promise<void> {
    expectError(await use(token), 403, 'InvalidAccessToken', what);
  }

  before(async () => {
    server = await startTestServer({}, { clock });
    lib = { lib: server.libraryId, secret: server.librarySecret };
  });
  after(async () => {
    await server?.close();
  });

  it('creates tokens by GET and by POST (the POST body of share features is ignored)', async () => {
    const params = { library_id: lib.lib, library_secret: lib.secret, grant: 'admin' };
    const byGet = expectOk(await call(server, 'GET', '/token', { params }), 200);
    const body = { shareDirectoryIdList: [1], shareAuthority: { canView: true }, attachInfo: 'x' };
    const byPost = expectOk(await call(server, 'POST', '/token', { params, body }), 200);
    const byEmptyPost = expectOk(await call(server, 'POST', '/token', { params }), 200);
    for (const issued of [byGet, byPost, byEmptyPost]) {
      // ADR 0002 §1: acctk + 43 base-36 characters; default period one day.
      assert.match(issued.accessToken, /^acctk[0-9a-z]{43}$/);
      assert.equal(issued.expiresIn, 86_400);
      await expectAlive(issued.accessToken, 'a fresh token');
    }
    assert.equal(new Set([byGet.accessToken, byPost.accessToken, byEmptyPost.accessToken]).size, 3);
  });

  it('refuses missing and wrong library ids and secrets', async () => {
    const other = await server.server.container.libraries.create({
      name: 'other-secrets',
      multiTenant: false,
    });
    const cases: [Params, number, string][] = [
      [{}, 400, 'EmptyLibraryIdOrSecret'],
      [{ library_id: '', library_secret: '' }, 400, 'EmptyLibraryIdOrSecret'],
      [{ library_secret: lib.secret }, 400, 'EmptyLibraryId'],
      [{ library_id: lib.lib }, 400, 'EmptyLibrarySecret'],
      [{ library_id: lib.lib, library_secret: '' }, 400, 'EmptyLibrarySecret'],
      [{ library_id: lib.lib, library_secret: `${lib.secret}x` }, 404, 'WrongLibraryIdOrSecret'],
      [{ library_id: 'smhnosuchlibrary', library_secret: lib.secret }, 404, 'WrongLibraryIdOrSecret'],
      // A real secret, but of another library.
      [{ library_id: lib.lib, library_secret: other.librarySecret }, 404, 'WrongLibraryIdOrSecret'],
    ];
    for (const [params, status, code] of cases) {
      for (const method of ['GET', 'POST']) {
        expectError(
          await call(server, method, '/token', { params }),
          status,
          code,
          `${method} ${query(params)}`,
        );
      }
    }
  });

  it('clamps period to [300, 315360000], defaulting non-positive and invalid values to 86400', async () => {
    const cases: [string, number][] = [
      ['0', 86_400],
      ['-5', 86_400],
      ['abc', 86_400],
      ['', 86_400],
      ['10', 300],
      ['299', 300],
      ['300', 300],
      ['3600', 3600],
      ['315360000', 315_360_000],
      ['999999999999', 315_360_000],
    ];
    for (const [period, expiresIn] of cases) {
      const reply = await call(server, 'GET', '/token', {
        params: { library_id: lib.lib, library_secret: lib.secret, period },
      });
      assert.equal(expectOk(reply, 200).expiresIn, expiresIn, `period=${period}`);
    }
  });

  it('limits user_id and client_id to 128 characters and refuses unknown grants', async () => {
    const base = { library_id: lib.lib, library_secret: lib.secret };
    expectOk(await call(server, 'GET', '/token', { params: { ...base, user_id: 'u'.repeat(128) } }), 200);
    const longUser = await call(server, 'GET', '/token', { params: { ...base, user_id: 'u'.repeat(129) } });
    expectError(longUser, 400, 'UserIdLengthExceed');
    const longClient = await call(server, 'GET', '/token', {
      params: { ...base, client_id: 'c'.repeat(129) },
    });
    expectError(longClient, 400, 'ClientIdLengthExceed');
    // ADR 0002 §3: an unknown grant is refused rather than silently ignored.
    for (const grant of ['superuser', 'admin,nope', 'acl']) {
      expectError(
        await call(server, 'GET', '/token', { params: { ...base, grant } }),
        400,
        'ParamInvalid',
        grant,
      );
    }
    expectOk(
      await call(server, 'GET', '/token', { params: { ...base, grant: 'upload_file,,delete_file' } }),
      200,
    );
    // Spec smh §1.3: a single-tenant library has no tenant spaces to scope to.
    expectError(
      await call(server, 'GET', '/token', { params: { ...base, space_id: 'team' } }),
      400,
      'NotMultiSpaceLibrary',
    );
  });

  it('slides expiry on every use: period 300 used every 200 s outlives 600 s; unused for 301 s it dies', async () => {
    const busy = await createToken(server, lib, { period: 300 });
    const idle = await createToken(server, lib, { period: 300 });
    const almost = await createToken(server, lib, { period: 300 });
    for (let elapsed = 200; elapsed <= 1000; elapsed += 200) {
      clock.advance(200_000);
      await expectAlive(busy, `used at ${elapsed} s`);
      if (elapsed === 200) await expectAlive(almost, 'used after 200 s');
    }
    await expectDead(idle, 'unused for 1000 s');
    await expectDead(almost, 'unused for 800 s after its last use');
    // The last use (at 1000 s) keeps it alive up to 300 s later, and no longer.
    clock.advance(299_000);
    await expectAlive(busy, '299 s after the last use');
    clock.advance(301_000);
    await expectDead(busy, '301 s after the last use');
    const renew = await call(server, 'POST', `/token/${lib.lib}/${busy}`);
    expectError(renew, 403, 'InvalidAccessToken', 'renewing an expired token');
  });

  it('an unused token dies after period + 1 s', async () => {
    const token = await createToken(server, lib, { period: 300 });
    clock.advance(301_000);
    await expectDead(token, 'unused for 301 s');
  });

  it('renew resets the validity with the original period and keeps the value', async () => {
    const token = await createToken(server, lib, { period: 600 });
    clock.advance(500_000);
    // A renewal cannot change the period (spec smh §2.1).
    const renewed = expectOk(
      await call(server, 'POST', `/token/${lib.lib}/${token}`, { params: { period: 99_999 } }),
      200,
    );
    assert.deepEqual(renewed, { accessToken: token, expiresIn: 600 });
    clock.advance(500_000);
    await expectAlive(token, '1000 s after creation, 500 s after renewal');
    clock.advance(601_000);
    await expectDead(token, '601 s after its last use');
    expectError(await call(server, 'POST', `/token/${lib.lib}/acctknotatoken`), 403, 'InvalidAccessToken');
  });

  it('a token is valid only in its own library', async () => {
    const other = await server.server.container.libraries.create({
      name: 'other-tokens',
      multiTenant: false,
    });
    const token = await createToken(server, lib);
    const foreign = await call(server, 'GET', `/directory/${other.library.id}/-`, {
      params: { access_token: token },
    });
    expectError(foreign, 403, 'AccessTokenNotMatchLibrary');
    expectError(
      await call(server, 'POST', `/token/${other.library.id}/${token}`),
      403,
      'AccessTokenNotMatchLibrary',
    );
    expectError(
      await call(server, 'DELETE', `/token/${other.library.id}/${token}`),
      403,
      'AccessTokenNotMatchLibrary',
    );
    await expectAlive(token, 'after attempts on another library');
  });

  it('deletes one token (204); it is then invalid everywhere', async () => {
    const token = await createToken(server, lib, { grant: 'admin' });
    const sibling = await createToken(server, lib, { grant: 'admin' });
    expectOk(await call(server, 'DELETE', `/token/${lib.lib}/${token}`), 204);
    await expectDead(token, 'deleted');
    expectError(await call(server, 'POST', `/token/${lib.lib}/${token}`), 403, 'InvalidAccessToken');
    expectError(await call(server, 'DELETE', `/token/${lib.lib}/${token}`), 403, 'InvalidAccessToken');
    await expectAlive(sibling, 'another token of the same library');
  });

  it('deletes all tokens of a user, or only those of listed clients and sessions', async () => {
    const mk = (user: string, client = '', session = '') =>
      createToken(server, lib, { user_id: user, client_id: client, session_id: session });
    const phone = await mk('alice', 'phone');
    const laptop = await mk('alice', 'laptop');
    const tablet = await mk('alice', 'tablet', 's1');
    const web = await mk('alice', 'web', 's2');
    const bob = await mk('bob', 'phone');
    const backend = await createToken(server, lib);
    const revoke = (params: Params) =>
      call(server, 'DELETE', `/token/${lib.lib}`, { params: { library_secret: lib.secret, ...params } });

    expectOk(await revoke({ user_id: 'alice', client_id: 'phone,laptop' }), 204);
    await expectDead(phone, 'alice phone');
    await expectDead(laptop, 'alice laptop');
    await expectAlive(tablet, 'alice tablet (not listed)');
    expectOk(await revoke({ user_id: 'alice', session_id: 's1' }), 204);
    await expectDead(tablet, 'alice session s1');
    await expectAlive(web, 'alice session s2');
    expectOk(await revoke({ user_id: 'alice' }), 204);
    await expectDead(web, 'every token of alice');
    await expectAlive(bob, 'bob, another user with the same client id');
    await expectAlive(backend, 'a token created without a user');

    expectError(await revoke({ user_id: 'bob', library_secret: undefined }), 400, 'EmptyLibrarySecret');
    expectError(await revoke({ user_id: 'bob', library_secret: 'wrong' }), 404, 'WrongLibraryIdOrSecret');
    expectError(await revoke({}), 400, 'ParamInvalid', 'user_id is required');
    await expectAlive(bob, 'after refused revocations');
  });

  it('per-request user_id acts as that user only for admin tokens created without a user', async () => {
    const adminNoUser = await createToken(server, lib, { grant: 'admin' });
    const adminBob = await createToken(server, lib, { grant: 'admin', user_id: 'bob' });
    const plainNoUser = await createToken(server, lib, { grant: 'create_directory' });
    const cases: [string, Params, string][] = [
      ['by-admin-without-user', { access_token: adminNoUser }, 'alice'],
      ['by-admin-bob', { access_token: adminBob }, 'bob'],
      ['by-non-admin', { access_token: plainNoUser }, ''],
      ['by-secret', { library_secret: lib.secret }, 'alice'],
    ];
    for (const [name, auth, recorded] of cases) {
      expectOk(
        await call(server, 'PUT', `/directory/${lib.lib}/-/${name}`, {
          params: { ...auth, user_id: 'alice' },
        }),
        201,
      );
      const info = await call(server, 'GET', `/directory/${lib.lib}/-/${name}?info`, {
        params: { access_token: adminNoUser },
      });
      assert.equal(expectOk(info, 200).userId, recorded, name);
    }
    // Uploads record the acting user too.
    const begin = expectOk(
      await call(server, 'PUT', `/file/${lib.lib}/-/by-alice.txt`, {
        params: { access_token: adminNoUser, user_id: 'alice' },
      }),
      201,
    );
    assert.equal((await fetch(begin.url, { method: 'PUT', headers: begin.headers, body: 'hi' })).status, 200);
    const confirm = await call(server, 'POST', `/file/${lib.lib}/-/${begin.confirmKey}?confirm`, {
      params: { access_token: adminNoUser },
    });
    expectOk(confirm, 200);
    const info = await call(server, 'GET', `/file/${lib.lib}/-/by-alice.txt?info`, {
      params: { access_token: adminNoUser },
    });
    assert.equal(expectOk(info, 200).userId, 'alice');
  });
});

describe('SMH tenant spaces and quotas', SUITE, () => {
  let server: TestServer;
  let single: Library;
  let multi: Library;
  let admin: string;

  const auth = (): Params => ({ access_token: admin });

  async function createSpace(params: Params = {}, body?: unknown, token = admin): Promise<string> {
    const reply = await call(server, 'POST', `/space/${multi.lib}`, {
      params: { access_token: token, ...params },
      body,
    });
    return expectOk(reply, 201, 'create space').spaceId as string;
  }

  /** Simple upload as the multi-tenant admin: begin PUT, PUT the bytes, confirm. */
  async function upload(space: string, path: string, content: string): Promise<void> {
    const begin = expectOk(
      await call(server, 'PUT', `/file/${multi.lib}/${space}/${path}`, { params: auth() }),
      201,
    );
    assert.equal(
      (await fetch(begin.url, { method: 'PUT', headers: begin.headers, body: content })).status,
      200,
    );
    expectOk(
      await call(server, 'POST', `/file/${multi.lib}/${space}/${begin.confirmKey}?confirm`, {
        params: auth(),
      }),
      200,
    );
  }

  async function listAll(token: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 100; page++) {
      const body = expectOk(
        await call(server, 'GET', `/space/${multi.lib}/list`, {
          params: { access_token: token, limit, marker },
        }),
        200,
      );
      assert.ok(body.list.length <= limit);
      for (const s of body.list as Json[]) {
        assert.equal(typeof s.userId, 'string');
        assert.match(s.creationTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        ids.push(s.spaceId);
      }
      // Spec smh §2.2: the same value under both names, both absent on the last page.
      assert.equal(body.marker, body.nextMarker);
      if (body.nextMarker === undefined) return ids;
      marker = body.nextMarker;
    }
    throw new Error('the listing did not end');
  }

  before(async () => {
    server = await startTestServer();
    single = { lib: server.libraryId, secret: server.librarySecret };
    const created = await server.server.container.libraries.create({ name: 'tenants', multiTenant: true });
    multi = { lib: created.library.id, secret: created.librarySecret };
    admin = await createToken(server, multi, { grant: 'admin' });
  });
  after(async () => {
    await server?.close();
  });

  it('creates spaces with generated and caller-chosen ids; refuses invalid and duplicate ids', async () => {
    const generated = await createSpace();
    // ADR 0002 §10: space + 13 base-36 characters.
    assert.match(generated, /^space[0-9a-z]{13}$/);
    for (const id of ['team-1', 'ab', 'x'.repeat(32), '0a-b-c9'])
      assert.equal(await createSpace({ space_id: id }), id);
    for (const id of ['a', 'x'.repeat(33), '-ab', 'ab-', 'Team', 'a_b', 'a b', 'a.b']) {
      const reply = await call(server, 'POST', `/space/${multi.lib}`, {
        params: { ...auth(), space_id: id },
      });
      expectError(reply, 400, 'SpaceIdInvalid', id);
    }
    const duplicate = await call(server, 'POST', `/space/${multi.lib}`, {
      params: { ...auth(), space_id: 'team-1' },
    });
    assert.equal(duplicate.status, 409, duplicate.text);
    assert.equal(duplicate.body?.code, 'SameNameDirectoryOrFileExists');
    // A new space is reachable and empty.
    const listing = await call(server, 'GET', `/directory/${multi.lib}/team-1`, { params: auth() });
    assert.deepEqual(expectOk(listing, 200).contents, []);
    const size = await call(server, 'GET', `/space/${multi.lib}/team-1/size`, { params: auth() });
    assert.deepEqual(expectOk(size, 200), { size: '0' });
    const missing = await call(server, 'GET', `/directory/${multi.lib}/nosuchspace`, { params: auth() });
    expectError(missing, 404, 'SpaceNotFound');
  });

  it('keeps space attributes: set at creation, changed later, isMultiAlbum fixed, spaceTag null clears', async () => {
    const space = await createSpace(
      {},
      { isPublicRead: true, isMultiAlbum: true, allowPhotoExtname: ['.jpg'], spaceTag: 'team' },
    );
    const get = async () =>
      expectOk(await call(server, 'GET', `/space/${multi.lib}/${space}/extension`, { params: auth() }), 200);
    assert.deepEqual(await get(), {
      isPublicRead: true,
      allowPhoto: false,
      allowVideo: false,
      allowPhotoExtname: ['.jpg'],
      allowVideoExtname: [],
      recognizeSensitiveContent: false,
      spaceTag: 'team',
    });
    const set = (body: unknown) =>
      call(server, 'POST', `/space/${multi.lib}/${space}/extension`, { params: auth(), body });
    expectOk(await set({ allowVideo: true, isMultiAlbum: false }), 204);
    const changed = await get();
    assert.equal(changed.allowVideo, true);
    assert.equal(changed.isPublicRead, true, 'absent fields keep their value');
    assert.equal(changed.spaceTag, 'team');
    // GET extension does not show isMultiAlbum (spec smh §2.2); the stored record does.
    const stored = await server.server.container.store.spaces.get(multi.lib as LibraryId, space);
    assert.equal(stored?.extension.isMultiAlbum, true, 'isMultiAlbum cannot change after creation');
    expectOk(await set({ spaceTag: null }), 204);
    assert.equal((await get()).spaceTag, undefined, 'spaceTag null clears the tag');
    expectError(await set({ isPublicRead: 'yes' }), 400, 'ParamInvalid');
    expectError(await set({ allowPhotoExtname: '.png' }), 400, 'ParamInvalid');
  });

  it('lists spaces with limit and marker: admin sees all, other users only the spaces they created', async () => {
    const alice = await createToken(server, multi, { grant: 'create_space', user_id: 'alice' });
    const bob = await createToken(server, multi, { grant: 'create_space', user_id: 'bob' });
    const aliceSpaces = [
      await createSpace({}, undefined, alice),
      await createSpace({ space_id: 'alice-2' }, undefined, alice),
    ];
    const bobSpaces = [await createSpace({}, undefined, bob)];
    const all = await listAll(admin, 1000);
    assert.deepEqual(all, [...all].sort(), 'spaces are listed by id');
    for (const limit of [1, 2, 3]) assert.deepEqual(await listAll(admin, limit), all, `limit=${limit}`);
    for (const id of [...aliceSpaces, ...bobSpaces]) assert.ok(all.includes(id));
    // A read-only token of the user lists that user's spaces, which it may not even touch.
    const aliceReader = await createToken(server, multi, { user_id: 'alice' });
    assert.deepEqual(await listAll(aliceReader, 1), [...aliceSpaces].sort());
    assert.deepEqual(await listAll(bob, 1000), bobSpaces);
    const userList = expectOk(
      await call(server, 'GET', `/space/${multi.lib}/list`, { params: { access_token: bob } }),
      200,
    );
    assert.equal(userList.list[0].userId, 'bob');
    const spaceAdmin = await createToken(server, multi, { grant: 'space_admin', user_id: 'carol' });
    assert.deepEqual(await listAll(spaceAdmin, 1000), all, 'space_admin sees every space');
    const count = await call(server, 'GET', `/space/${multi.lib}/count`, { params: auth() });
    assert.deepEqual(expectOk(count, 200), { total: all.length });
  });

  it('deletes a non-empty space only with force=1, and its files and bytes go with it', async () => {
    const space = await createSpace({ space_id: 'doomed' });
    expectOk(await call(server, 'PUT', `/directory/${multi.lib}/${space}/a/b`, { params: auth() }), 201);
    await upload(space, 'a/b/file.txt', 'tenant bytes');
    const download = await call(server, 'GET', `/file/${multi.lib}/${space}/a/b/file.txt`, {
      params: auth(),
    });
    assert.equal(download.status, 302);
    const res = await fetch(
      `${server.url}/api/v1/file/${multi.lib}/${space}/a/b/file.txt?access_token=${admin}`,
      {
        redirect: 'manual',
      },
    );
    const location = res.headers.get('location')!;
    assert.equal(await (await fetch(location)).text(), 'tenant bytes');

    const remove = (params: Params) =>
      call(server, 'DELETE', `/space/${multi.lib}/${space}`, { params: { ...auth(), ...params } });
    expectError(await remove({}), 409, 'SpaceNotEmpty');
    expectError(await remove({ force: 0 }), 409, 'SpaceNotEmpty');
    expectOk(
      await call(server, 'GET', `/file/${multi.lib}/${space}/a/b/file.txt?info`, { params: auth() }),
      200,
    );
    expectOk(await remove({ force: 1 }), 204);
    expectError(
      await call(server, 'GET', `/directory/${multi.lib}/${space}`, { params: auth() }),
      404,
      'SpaceNotFound',
    );
    assert.ok(!(await listAll(admin, 1000)).includes(space));
    // The stored bytes are gone too, not just the names.
    assert.equal((await fetch(location)).status, 404);
    expectError(await remove({ force: 1 }), 404, 'SpaceNotFound');
    // ADR 0002 §10: the id is never used again (nothing granted for the old space may reach a new one).
    const again = await call(server, 'POST', `/space/${multi.lib}`, {
      params: { ...auth(), space_id: space },
    });
    expectError(again, 409, 'SameNameDirectoryOrFileExists');
    assert.match(again.body?.message, /never reused/);

    const empty = await createSpace();
    expectOk(await call(server, 'DELETE', `/space/${multi.lib}/${empty}`, { params: auth() }), 204);
    expectError(
      await call(server, 'DELETE', `/space/${multi.lib}/-`, { params: auth() }),
      400,
      'NotMultiSpaceLibrary',
    );
  });

  it('refuses tenant-space APIs on a single-tenant library with 400 NotMultiSpaceLibrary', async () => {
    const token = await createToken(server, single, { grant: 'admin' });
    const p = { access_token: token };
    expectError(
      await call(server, 'POST', `/space/${single.lib}`, { params: p }),
      400,
      'NotMultiSpaceLibrary',
    );
    expectError(
      await call(server, 'POST', `/space/${single.lib}`, { params: { ...p, space_id: 'x1' } }),
      400,
      'NotMultiSpaceLibrary',
    );
    expectError(
      await call(server, 'GET', `/space/${single.lib}/list`, { params: p }),
      400,
      'NotMultiSpaceLibrary',
    );
    expectError(
      await call(server, 'GET', `/space/${single.lib}/count`, { params: p }),
      400,
      'NotMultiSpaceLibrary',
    );
    expectError(
      await call(server, 'DELETE', `/space/${single.lib}/-`, { params: p }),
      400,
      'NotMultiSpaceLibrary',
    );
    const secret = { library_secret: single.secret };
    expectError(
      await call(server, 'POST', `/space/${single.lib}`, { params: secret }),
      400,
      'NotMultiSpaceLibrary',
    );
    // ADR 0002 §7: the one space is "-"; any other id does not exist.
    expectOk(await call(server, 'GET', `/space/${single.lib}/-/size`, { params: p }), 200);
    expectError(
      await call(server, 'GET', `/directory/${single.lib}/space1`, { params: p }),
      404,
      'SpaceNotFound',
    );
  });

  it('creates, reads and updates quotas; capacity below usage and duplicates are refused', async () => {
    const space = await createSpace();
    const shared = [await createSpace(), await createSpace()];
    const quota = (body: Json) => call(server, 'POST', `/quota/${multi.lib}`, { params: auth(), body });
    const get = (id: string) => call(server, 'GET', `/quota/${multi.lib}/${id}`, { params: auth() });
    const update = (id: string, body: Json) =>
      call(server, 'PUT', `/quota/${multi.lib}/${id}`, { params: auth(), body });

    expectError(await get(space), 404, 'NoQuota');
    const created = expectOk(
      await quota({ spaces: [space], capacity: '1000', removeWhenExceed: false, removeAfterDays: 0 }),
      201,
    );
    assert.ok(Number.isInteger(created.quotaId));
    assert.deepEqual(expectOk(await get(space), 200), { id: created.quotaId, capacity: '1000' });
    expectError(
      await quota({ spaces: [space], capacity: '5000', removeWhenExceed: false, removeAfterDays: 0 }),
      409,
      'DuplicateQuota',
    );

    // One quota covers several spaces; capacity may arrive as a number.
    const both = expectOk(
      await quota({ spaces: shared, capacity: 2000, removeWhenExceed: false, removeAfterDays: 0 }),
      201,
    );
    for (const id of shared)
      assert.deepEqual(expectOk(await get(id), 200), { id: both.quotaId, capacity: '2000' });
    expectError(
      await quota({
        spaces: [shared[0]!, space],
        capacity: '1',
        removeWhenExceed: false,
        removeAfterDays: 0,
      }),
      409,
      'DuplicateQuota',
    );

    await upload(space, 'bytes.bin', 'x'.repeat(600));
    assert.deepEqual(
      expectOk(await call(server, 'GET', `/space/${multi.lib}/${space}/size`, { params: auth() }), 200),
      { size: '600' },
    );
    expectError(await update(space, { capacity: '599' }), 400, 'QuotaCapacityLessThanSize');
    assert.equal(expectOk(await get(space), 200).capacity, '1000', 'a refused update changes nothing');
    expectOk(await update(space, { capacity: '600' }), 204);
    assert.equal(expectOk(await get(space), 200).capacity, '600');
    // The quota gates uploads: a begin announcing more than is left is refused.
    const over = await call(server, 'PUT', `/file/${multi.lib}/${space}/more.bin`, {
      params: { ...auth(), filesize: 1 },
    });
    expectError(over, 400, 'QuotaLimitReached');
    expectOk(await update(space, { capacity: '5000' }), 204);
    assert.equal(expectOk(await get(space), 200).capacity, '5000');
    expectOk(
      await call(server, 'PUT', `/file/${multi.lib}/${space}/more.bin`, {
        params: { ...auth(), filesize: 1 },
      }),
      201,
    );
    expectError(await update(await createSpace(), { capacity: '5000' }), 404, 'NoQuota');
  });

  it('gives a single-tenant library one quota for its space "-"', async () => {
    const token = await createToken(server, single, { grant: 'admin' });
    const p = { access_token: token };
    const created = await call(server, 'POST', `/quota/${single.lib}`, {
      params: p,
      body: { capacity: '123456', removeWhenExceed: false, removeAfterDays: 0 },
    });
    const { quotaId } = expectOk(created, 201);
    assert.deepEqual(expectOk(await call(server, 'GET', `/quota/${single.lib}/-`, { params: p }), 200), {
      id: quotaId,
      capacity: '123456',
    });
    const again = await call(server, 'POST', `/quota/${single.lib}`, {
      params: p,
      body: { capacity: '1', removeWhenExceed: false, removeAfterDays: 0 },
    });
    expectError(again, 409, 'DuplicateQuota');
  });
});
