// VOD media tasks in a multi-tenant library: a task belongs to its space. A token sees and cancels
// the tasks of its spaces; a token without a space sees and cancels them only if it holds admin, so
// media_process alone neither lists nor cancels (nor force-stops) another space's task.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { makeClip } from '../helpers/media.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { createToken, expectJson, putSimple, SmhClient } from '../helpers/smh-client.ts';
import { expectVodError, Vod } from '../helpers/vod-client.ts';

describe('VOD tasks across the spaces of a multi-tenant library', { timeout: 120_000 }, () => {
  let server: TestServer;
  let dir: string;
  let library: { libraryId: string; librarySecret: string };
  const spaces: string[] = [];
  let owner: Vod;
  let assetId: string;

  const vodWith = async (params: Record<string, string>) =>
    new Vod(server.url, library.libraryId, await createToken(server.url, library, params));

  before(async () => {
    dir = tempDir('mediahost-vod-tenants-');
    // No worker runs: tasks stay WAITING, the state a plain cancel acts on.
    server = await startTestServer({ workerConcurrency: 0 });
    const created = await server.server.container.libraries.create({ name: 'tenants', multiTenant: true });
    library = { libraryId: created.library.id, librarySecret: created.librarySecret };
    const admin = await createToken(server.url, library, { grant: 'admin' });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${server.url}/api/v1/space/${library.libraryId}?access_token=${admin}`, {
        method: 'POST',
      });
      spaces.push((await expectJson<{ spaceId: string }>(res, 201)).spaceId);
    }
    const ownerToken = await createToken(server.url, library, {
      space_id: spaces[0]!,
      grant: 'upload_file,media_process',
    });
    const smh = new SmhClient({
      url: server.url,
      libraryId: library.libraryId,
      spaceId: spaces[0]!,
      token: ownerToken,
    });
    const begin = await smh.beginTask('simple', 'clip.mp4');
    await putSimple(begin, await readFile(await makeClip(dir, 'clip.mp4', { seconds: 2 })));
    const file = (await smh.confirmFile(begin.confirmKey, { query: { with_inode: '1' } })) as unknown as {
      inode: string;
    };
    assetId = file.inode;
    owner = new Vod(server.url, library.libraryId, ownerToken);
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("media_process without a space or admin neither lists, cancels nor force-stops another space's task", async () => {
    const created = await owner.create({
      inputs: [{ asset_id: assetId, timeline_start: '0', timeline_end: '1' }],
    });
    assert.equal((await owner.task(created.task_id)).status, 'WAITING');

    const unscoped = await vodWith({ grant: 'media_process' });
    const listed = (await (
      await unscoped.request('GET', `asset/editing/tasks?task_id=${created.task_id}`)
    ).json()) as { total: number };
    assert.equal(listed.total, 0, 'listing hides it');
    await expectVodError(await unscoped.cancel(created.task_id), 400, 'VOD.10062');
    await expectVodError(await unscoped.cancel(created.task_id, true), 400, 'VOD.10062');
    await expectVodError(await unscoped.cancelProcess(assetId), 400, 'VOD.10062');

    const otherSpace = await vodWith({ space_id: spaces[1]!, grant: 'media_process' });
    await expectVodError(await otherSpace.cancel(created.task_id, true), 400, 'VOD.10062');
    assert.equal((await owner.task(created.task_id)).status, 'WAITING', 'nothing touched it');

    // The rule's other side: an unscoped admin token sees and cancels every space's task.
    const admin = await vodWith({ grant: 'admin' });
    assert.equal((await admin.cancel(created.task_id)).status, 204);
    assert.equal((await owner.task(created.task_id)).status, 'CANCEL');
  });
});
