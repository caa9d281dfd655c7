// SMH uploads in a multi-tenant library over HTTP (spec smh §1.2, §1.3): many users uploading into
// their spaces at once, each space seeing only its own files, and tokens confined to their space.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  bytesOf,
  createToken,
  expectJson,
  expectSmhError,
  type FileObject,
  instantHashes,
  MiB,
  mapLimit,
  putParts,
  putSimple,
  SmhClient,
} from '../helpers/smh-client.ts';

const SPACES = 3;
const USERS = 10;
const TASKS = 100;

describe('SMH uploads by many users in several spaces', { timeout: 240_000 }, () => {
  let server: TestServer;
  let library: { libraryId: string; librarySecret: string };
  let admin: SmhClient;
  const spaces: string[] = [];
  /** User u uploads into spaces[u % SPACES]. */
  const users: SmhClient[] = [];

  before(async () => {
    server = await startTestServer();
    const created = await server.server.container.libraries.create({ name: 'tenants', multiTenant: true });
    library = { libraryId: created.library.id, librarySecret: created.librarySecret };
    const adminToken = await createToken(server.url, library, { grant: 'admin' });
    admin = new SmhClient({ url: server.url, libraryId: library.libraryId, token: adminToken });
    for (let i = 0; i < SPACES; i++) {
      const res = await fetch(`${server.url}/api/v1/space/${library.libraryId}?access_token=${adminToken}`, {
        method: 'POST',
      });
      spaces.push((await expectJson<{ spaceId: string }>(res, 201)).spaceId);
    }
    assert.equal(new Set(spaces).size, SPACES);
    for (let u = 0; u < USERS; u++) {
      const spaceId = spaces[u % SPACES]!;
      const token = await createToken(server.url, library, {
        space_id: spaceId,
        user_id: `user-${u}`,
        grant: 'upload_file,create_directory',
      });
      users.push(new SmhClient({ url: server.url, libraryId: library.libraryId, spaceId, token }));
    }
  });

  after(async () => {
    await server?.close();
  });

  it(`${TASKS} begin → part → confirm flows by ${USERS} users in ${SPACES} spaces at once`, async () => {
    const results = await mapLimit(
      Array.from({ length: TASKS }, (_, j) => j),
      20,
      async (j) => {
        const user = users[j % USERS]!;
        const name = `file-${j}.bin`;
        const begin = await user.beginTask('multipart', name);
        await putParts(begin, [bytesOf(`tenant-${j}`, 10_000 + j)]);
        const confirm = await user.confirm(begin.confirmKey);
        return {
          j,
          spaceId: user.spaceId,
          status: confirm.status,
          file: (await confirm.json()) as FileObject,
        };
      },
    );
    assert.deepEqual(
      results.filter((r) => r.status !== 200),
      [],
      'every confirm answered 200',
    );
    for (const r of results) assert.deepEqual(r.file.path, [`file-${r.j}.bin`], 'no name was renamed');

    for (const spaceId of spaces) {
      const listing = await expectJson<{ contents: { name: string }[] }>(
        await admin.with({ spaceId }).list(''),
        200,
      );
      const expected = results.filter((r) => r.spaceId === spaceId).map((r) => `file-${r.j}.bin`);
      assert.deepEqual(
        listing.contents.map((c) => c.name).sort(),
        expected.sort(),
        `space ${spaceId} lists its own files`,
      );
    }
    // Every user reads the bytes of a file of their space that another user uploaded.
    for (const [u, user] of users.entries()) {
      const j = (u + SPACES) % USERS;
      if (users[j]!.spaceId !== user.spaceId) continue;
      assert.ok((await user.download(`file-${j}.bin`)).body.equals(bytesOf(`tenant-${j}`, 10_000 + j)));
    }
  });

  it("a token cannot reach another space's files, tasks or confirm keys", async () => {
    const [a, b] = [users[0]!, users[1]!];
    assert.notEqual(a.spaceId, b.spaceId);
    const intruder = a.with({ spaceId: b.spaceId });
    await expectSmhError(
      await intruder.request('GET', 'file', 'file-1.bin'),
      403,
      'AccessTokenNotMatchSpace',
    );
    await expectSmhError(await intruder.list(''), 403, 'AccessTokenNotMatchSpace');
    await expectSmhError(await intruder.begin('multipart', 'planted.bin'), 403, 'AccessTokenNotMatchSpace');
    // Another space's file is simply absent from one's own space.
    await expectSmhError(await a.request('GET', 'file', 'file-1.bin'), 404, 'FileNotFound');

    const data = bytesOf('private', 5000);
    const task = await b.beginTask('simple', 'private.bin');
    await putSimple(task, data);
    await expectSmhError(await intruder.status(task.confirmKey), 403, 'AccessTokenNotMatchSpace');
    await expectSmhError(await intruder.confirm(task.confirmKey), 403, 'AccessTokenNotMatchSpace');
    await expectSmhError(await intruder.cancel(task.confirmKey), 403, 'AccessTokenNotMatchSpace');
    // Through one's own space the key is unknown.
    await expectSmhError(await a.status(task.confirmKey), 404, 'ConfirmKeyNotFound');
    await expectSmhError(await a.confirm(task.confirmKey), 404, 'ConfirmKeyNotFound');
    await expectSmhError(await a.cancel(task.confirmKey), 404, 'ConfirmKeyNotFound');
    await expectSmhError(await a.request('GET', 'file', 'private.bin'), 404, 'FileNotFound');

    assert.deepEqual(
      (await b.confirmFile(task.confirmKey)).path,
      ['private.bin'],
      'the owner confirms as usual',
    );
    assert.ok((await b.download('private.bin')).body.equals(data));
  });

  it('instant upload never matches files of another space', async () => {
    const [a, b] = [users[0]!, users[1]!];
    const data = bytesOf('shared-content', MiB + 100);
    const body = { ...instantHashes(data), size: String(data.length) };
    const original = await a.beginTask('simple', 'shared.bin', { body });
    await putSimple(original, data);
    await a.confirmFile(original.confirmKey);
    const elsewhere = await b.begin('simple', 'shared.bin', { body });
    assert.equal(elsewhere.status, 201, 'no hint that another space holds the bytes');
    await elsewhere.text();
    const sameSpace = await users[3]!.begin('simple', 'shared-again.bin', { body });
    assert.equal(users[3]!.spaceId, a.spaceId);
    assert.equal(sameSpace.status, 200, 'in the same space the file is reused');
    await sameSpace.text();
  });
});
