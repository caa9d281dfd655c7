// Acceptance over HTTP: each VOD operation takes the query parameters and top-level body fields its
// schema lists. Anything else — a typo, a filter or an option of Huawei's that mediahost lacks — is
// 400 VOD.10053 naming the field, and no task is created or cancelled.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { makeClip } from '../helpers/media.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { createToken, putSimple, SmhClient } from '../helpers/smh-client.ts';
import { Vod } from '../helpers/vod-client.ts';

describe('VOD request schemas', { timeout: 120_000 }, () => {
  let server: TestServer;
  let dir: string;
  let vod: Vod;
  let assetId: string;

  const illegal = async (res: Response, field: string): Promise<string> => {
    const body = (await res.json()) as { error_code: string; error_msg: string };
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(body.error_code, 'VOD.10053');
    assert.match(body.error_msg, new RegExp(`illegal field: ${field} \\(`));
    return body.error_msg;
  };
  const taskCount = async (): Promise<number> => (await vod.assetTasks({})).count;

  before(async () => {
    dir = tempDir('mediahost-vod-schemas-');
    // No worker runs: tasks stay WAITING.
    server = await startTestServer({ workerConcurrency: 0 });
    const token = await createToken(server.url, server, { grant: 'admin' });
    const smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    const begin = await smh.beginTask('simple', 'clip.mp4');
    await putSimple(begin, await readFile(await makeClip(dir, 'clip.mp4', { seconds: 2 })));
    const file = (await smh.confirmFile(begin.confirmKey, { query: { with_inode: '1' } })) as unknown as {
      inode: string;
    };
    assetId = file.inode;
    vod = new Vod(server.url, server.libraryId, token);
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a body field the operation does not take, and creates nothing', async () => {
    const message = await illegal(
      await vod.request(
        'POST',
        'asset/process',
        { asset_id: assetId, template_group_name: 'mp4-360p', auto_encrypt: 1 },
        'v1.0',
      ),
      'auto_encrypt',
    );
    assert.match(message, /encryption is not implemented/);
    await illegal(
      await vod.request('POST', 'asset/editing/tasks', {
        inputs: [{ asset_id: assetId, timeline_start: '0', timeline_end: '1' }],
        output_name: 'cut',
      }),
      'output_name',
    );
    assert.equal(await taskCount(), 0);
    // What Huawei calls "no encryption" is honoured.
    const created = await vod.process({
      asset_id: assetId,
      template_group_name: 'mp4-360p',
      auto_encrypt: 0,
    });
    assert.equal(created.task_ids.length, 1);
  });

  it('refuses query parameters the operation does not take, naming them', async () => {
    assert.match(
      await illegal(await vod.request('GET', 'asset/tasks?status=FAILED'), 'status'),
      /filtering by status is not implemented/,
    );
    assert.match(
      await illegal(await vod.request('GET', 'asset/editing/tasks?limt=5'), 'limt'),
      /not a parameter of ListAssetEditTask/,
    );
  });

  it('refuses a force that is neither true nor false, and leaves the task waiting', async () => {
    const { task_id } = await vod.create({
      inputs: [{ asset_id: assetId, timeline_start: '0', timeline_end: '1' }],
    });
    await illegal(await vod.request('DELETE', `asset/editing/tasks?task_id=${task_id}&force=yes`), 'force');
    assert.equal((await vod.task(task_id)).status, 'WAITING');
    assert.equal((await vod.cancel(task_id)).status, 204);
  });
});
