// Acceptance over HTTP: deleting a tenant space (spec smh §2.2, ADR 0002 §10) revokes everything that
// was handed out for it: tokens scoped to it, its upload tasks, and the upload credentials (part
// headers, simple-upload grants) of those tasks. Its id is never used again, so nothing granted for the
// old space can ever read a new space of the same id.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  bytesOf,
  createToken,
  expectJson,
  expectSmhError,
  putPart,
  putParts,
  SmhClient,
  type UploadInfo,
  uploadFile,
} from '../helpers/smh-client.ts';

const UPLOADER = { grant: 'upload_file,delete_file' };

describe('SMH space deletion revokes what was granted for the space', { timeout: 120_000 }, () => {
  let server: TestServer;
  let library: { libraryId: string; librarySecret: string };
  let admin: SmhClient;

  before(async () => {
    server = await startTestServer();
    const created = await server.server.container.libraries.create({ name: 'tenants', multiTenant: true });
    library = { libraryId: created.library.id, librarySecret: created.librarySecret };
    const token = await createToken(server.url, library, { grant: 'admin' });
    admin = new SmhClient({ url: server.url, libraryId: library.libraryId, token });
  });
  after(async () => {
    await server?.close();
  });

  const spaceRequest = (method: string, path: string, token = admin.token): Promise<Response> =>
    fetch(
      `${server.url}/api/v1/space/${library.libraryId}${path}${path.includes('?') ? '&' : '?'}access_token=${token}`,
      {
        method,
      },
    );

  async function createSpace(id: string): Promise<void> {
    const body = await expectJson<{ spaceId: string }>(await spaceRequest('POST', `?space_id=${id}`), 201);
    assert.equal(body.spaceId, id);
  }

  async function tenant(spaces: string[], params = UPLOADER): Promise<SmhClient> {
    const token = await createToken(server.url, library, { ...params, space_id: spaces.join(',') });
    return admin.with({ token, spaceId: spaces[0]! });
  }

  it('tokens, tasks and upload credentials of a deleted space stop working; its id is never reused', async () => {
    await createSpace('doomed');
    await createSpace('kept');
    const old = await tenant(['doomed']);
    const both = await tenant(['doomed', 'kept']);
    const neighbour = await tenant(['kept']);
    await uploadFile(old, 'photo.jpg', bytesOf('photo', 3000));
    // Upload credentials handed out and still unused, or half used.
    const multipart = await old.beginTask('multipart', 'video.bin');
    await putParts(multipart, [bytesOf('part-1', 1024 * 1024)]);
    const simple = await old.beginTask('simple', 'note.txt');
    const { store } = server.server.container;
    for (const info of [multipart, simple]) {
      assert.equal((await store.uploadTasks.get(info.confirmKey))?.state, 'uploading');
    }

    assert.equal((await spaceRequest('DELETE', '/doomed?force=1')).status, 204);

    // The token scoped to the deleted space alone is gone, everywhere.
    await expectSmhError(await spaceRequest('GET', '/list', old.token), 403, 'InvalidAccessToken');
    await expectSmhError(await old.list(''), 403, 'InvalidAccessToken');
    // The grants no longer write: the part headers, and the simple upload's signed PUT.
    const part = await putPart(multipart, 2, bytesOf('part-2', 1000));
    assert.ok(part.status >= 400, `a part PUT after the delete answers ${part.status}`);
    await part.arrayBuffer();
    const put = await fetch(simple.url, { method: 'PUT', headers: simple.headers ?? {}, body: 'late' });
    assert.equal(put.status, 403, await put.text());
    // The tasks are cancelled: their keys answer nothing, through any space.
    for (const info of [multipart, simple]) {
      assert.equal((await store.uploadTasks.get(info.confirmKey))?.state, 'cancelled');
    }
    for (const info of [multipart, simple] as UploadInfo[]) {
      await expectSmhError(
        await admin.with({ spaceId: 'doomed' }).status(info.confirmKey),
        404,
        'SpaceNotFound',
      );
      await expectSmhError(
        await admin.with({ spaceId: 'kept' }).confirm(info.confirmKey),
        404,
        'ConfirmKeyNotFound',
      );
    }

    // The id is never used again: re-creating it is refused, so the old tenant never reads a new space.
    const again = await expectSmhError(
      await spaceRequest('POST', '?space_id=doomed'),
      409,
      'SameNameDirectoryOrFileExists',
    );
    assert.match(again.message, /never reused/);
    await expectSmhError(await admin.with({ spaceId: 'doomed' }).list(''), 404, 'SpaceNotFound');

    // A token of both spaces keeps the other one and loses the deleted one.
    assert.equal((await both.with({ spaceId: 'kept' }).list('')).status, 200);
    await expectSmhError(await both.list(''), 403, 'AccessTokenNotMatchSpace');
    // Tokens of other spaces and library-wide tokens are untouched.
    await uploadFile(neighbour, 'still.txt', bytesOf('still', 100));
    assert.equal((await admin.with({ spaceId: 'kept' }).list('')).status, 200);
    const listed = await expectJson<{ list: { spaceId: string }[] }>(await spaceRequest('GET', '/list'), 200);
    assert.deepEqual(
      listed.list.map((s) => s.spaceId).filter((id) => id === 'doomed' || id === 'kept'),
      ['kept'],
    );
  });

  it('a generated space id is not handed out twice either', async () => {
    const first = await expectJson<{ spaceId: string }>(await spaceRequest('POST', ''), 201);
    assert.equal((await spaceRequest('DELETE', `/${first.spaceId}`)).status, 204);
    await expectSmhError(
      await spaceRequest('POST', `?space_id=${first.spaceId}`),
      409,
      'SameNameDirectoryOrFileExists',
    );
  });
});
