// VOD callback_url on a server with the default outbound policy: only public destinations. A literal
// non-public address is refused when the task is created (400, nothing stored); a name that resolves
// to one is refused when the callback connects: the task still succeeds, the receiver gets nothing,
// and the callback's record says why. (Allow-listed receivers: vod-tasks.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeClip } from '../helpers/media.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { createToken, putSimple, SmhClient } from '../helpers/smh-client.ts';
import { endedCallbackJob, expectVodError, Vod } from '../helpers/vod-client.ts';

describe('VOD callbacks and non-public destinations', { timeout: 120_000 }, () => {
  let server: TestServer;
  let vod: Vod;
  let dir: string;
  let assetId: string;

  const taskCount = async (): Promise<number> =>
    ((await (await vod.request('GET', 'asset/editing/tasks?limit=1')).json()) as { total: number }).total;

  before(async () => {
    dir = tempDir('mediahost-callbacks-');
    server = await startTestServer({ workerConcurrency: 1, workerPollMilliseconds: 20 });
    const token = await createToken(server.url, server, { grant: 'admin' });
    const smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    vod = new Vod(server.url, server.libraryId, token);
    const begin = await smh.beginTask('simple', 'clip.mp4');
    await putSimple(begin, readFileSync(await makeClip(dir, 'clip.mp4', { seconds: 2 })));
    const file = (await smh.confirmFile(begin.confirmKey, { query: { with_inode: '1' } })) as unknown as {
      inode: string;
    };
    assetId = file.inode;
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a literal non-public or malformed callback_url at creation, storing nothing', async () => {
    const before = await taskCount();
    const refused: [string, RegExp][] = [
      ['http://127.0.0.1:9/x', /loopback/],
      ['http://2130706433/', /loopback/],
      ['http://[::1]/', /loopback/],
      ['http://[::ffff:127.0.0.1]/', /loopback/],
      ['http://10.1.2.3/', /private/],
      ['http://169.254.169.254/latest/meta-data/', /link-local/],
      ['http://[fd00::1]/', /unique-local/],
      ['http://100.64.0.1/', /cgnat/],
      ['http://0.0.0.0/', /unspecified/],
      ['ftp://example.com/', /http or https/],
      ['http://user:secret@example.com/', /user name or password/],
      ['not a url', /not a URL/],
    ];
    for (const [url, why] of refused) {
      const res = await vod.request('POST', 'asset/editing/tasks', {
        inputs: [{ asset_id: assetId, timeline_start: '0', timeline_end: '1' }],
        callback_url: url,
      });
      const body = (await res.clone().json()) as { error_msg: string };
      assert.match(body.error_msg, /callback_url/, url);
      assert.match(body.error_msg, why, url);
      await expectVodError(res, 400, 'VOD.10053');
    }
    const processed = await vod.request(
      'POST',
      'asset/process',
      { asset_id: assetId, template_group_name: 'mp3', callback_url: 'http://192.168.0.1/' },
      'v1.0',
    );
    await expectVodError(processed, 400, 'VOD.10053');
    assert.equal(await taskCount(), before, 'no task was stored');
  });

  it('refuses at connect time a name resolving to loopback: the task succeeds, the callback records why', async () => {
    let received = 0;
    const hook = createServer((req, res) => {
      received++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const port = (hook.address() as AddressInfo).port;
      const created = await vod.create({
        inputs: [{ asset_id: assetId, timeline_start: '0', timeline_end: '1' }],
        callback_url: `http://localhost:${port}/done`,
      });
      const done = await vod.until(created.task_id, ['SUCCEED', 'FAILED']);
      assert.equal(done.status, 'SUCCEED', done.error_msg);
      const callback = await endedCallbackJob(
        server.server.container.store,
        server.libraryId,
        created.task_id,
      );
      assert.equal(callback.state, 'FAILED');
      assert.equal(callback.errorCode, 'CALLBACK_REFUSED');
      assert.match(callback.errorMsg ?? '', /localhost: .* is not a public address \(loopback\)/);
      assert.match(callback.errorMsg ?? '', /--outbound-allow/);
      assert.equal(callback.attempts, 1, 'a refusal is final, not retried');
      assert.equal(received, 0, 'nothing reached the receiver');
    } finally {
      hook.close();
    }
  });
});
