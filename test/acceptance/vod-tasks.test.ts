// The VOD editing-task API over HTTP with real ffmpeg: clips made with lavfi are uploaded through
// SMH, edited (clip, join, format and size changes) and the outputs checked with ffprobe; VOD's cancel
// rule (WAITING only), our forced stop, cancel racing a claim, and bad input that leaves no task.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeClip, probeFile } from '../helpers/media.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { createToken, putSimple, SmhClient } from '../helpers/smh-client.ts';
import {
  callbackJobsOf,
  endedCallbackJob,
  expectVodError,
  Vod,
  type VodTask,
} from '../helpers/vod-client.ts';

describe('VOD editing tasks', { timeout: 240_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;
  let vod: Vod;
  let dir: string;
  const assets: Record<string, string> = {};

  async function upload(name: string, path: string): Promise<string> {
    const begin = await smh.beginTask('simple', `clips/${name}`);
    await putSimple(begin, readFileSync(path));
    const file = (await smh.confirmFile(begin.confirmKey, { query: { with_inode: '1' } })) as unknown as {
      inode: string;
    };
    return file.inode;
  }

  async function download(assetId: string): Promise<string> {
    const info = await (
      await fetch(`${server.url}/api/v1/inode/${server.libraryId}/-/${assetId}?access_token=${smh.token}`)
    ).json();
    const path = (info as { path: string[] }).path.join('/');
    const { body } = await smh.download(path);
    const local = join(dir, `out-${assetId}${path.slice(path.lastIndexOf('.'))}`);
    writeFileSync(local, body);
    return local;
  }

  before(async () => {
    dir = tempDir('mediahost-vod-');
    server = await startTestServer({
      workerConcurrency: 1,
      workerPollMilliseconds: 20,
      jobLeaseSeconds: 3,
      // The callback receivers of these tests listen on loopback, refused unless allow-listed.
      outboundAllow: ['127.0.0.1'],
    });
    const token = await createToken(server.url, server, { grant: 'admin' });
    smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    vod = new Vod(server.url, server.libraryId, token);
    assert.equal((await smh.mkdir('clips')).status, 201);
    assets.a = await upload('a.mp4', await makeClip(dir, 'a.mp4', { seconds: 4 }));
    assets.b = await upload('b.mp4', await makeClip(dir, 'b.mp4', { seconds: 3, width: 480, height: 270 }));
    assets.silent = await upload(
      'silent.mp4',
      await makeClip(dir, 'silent.mp4', { seconds: 2, audio: false }),
    );
    assets.long = await upload('long.mp4', await makeClip(dir, 'long.mp4', { seconds: 40 }));
    assets.audio = await upload('tone.mp3', await makeClip(dir, 'tone.mp3', { seconds: 3, audioOnly: true }));
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clips one input to the asked range; the output is a file of the library under the handed-out asset id', async () => {
    const created = await vod.create({
      inputs: [{ asset_id: assets.a, timeline_start: '1.0', timeline_end: '3.0' }],
    });
    const done = await vod.until(created.task_id, ['SUCCEED', 'FAILED']);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    assert.equal(done.progress, 100);
    assert.ok(done.end_time);
    assert.equal(done.asset_id, created.asset_id);
    const probed = await probeFile(await download(created.asset_id));
    assert.ok(Math.abs(probed.duration - 2.0) <= 0.1, `duration ${probed.duration}`);
    assert.equal(probed.video?.codec, 'h264');
    assert.equal(probed.audio?.codec, 'aac');
    assert.deepEqual([probed.video?.width, probed.video?.height], [320, 180]);
  });

  it('joins three inputs in order (one without audio) to their summed length', async () => {
    const created = await vod.create({
      inputs: [
        { asset_id: assets.a, timeline_start: '0', timeline_end: '2' },
        { asset_id: assets.silent, timeline_start: '0', timeline_end: '1.5' },
        { asset_id: assets.b, timeline_start: '0.5', timeline_end: '2.5' },
      ],
    });
    const done = await vod.until(created.task_id, ['SUCCEED', 'FAILED']);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    const probed = await probeFile(await download(created.asset_id));
    assert.ok(Math.abs(probed.duration - 5.5) <= 0.1, `duration ${probed.duration}`);
    assert.deepEqual(
      [probed.video?.width, probed.video?.height],
      [320, 180],
      'the first input sets the size',
    );
    assert.ok(probed.audio, 'silence fills the input without audio');
  });

  it('changes container and resolution as editing_settings say', async () => {
    const mov = await vod.create({
      inputs: [{ asset_id: assets.b, timeline_start: '0', timeline_end: '2' }],
      editing_settings: { format: 'MOV', width: 240, height: 0 },
    });
    const done = await vod.until(mov.task_id, ['SUCCEED', 'FAILED']);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    const probed = await probeFile(await download(mov.asset_id));
    assert.match(probed.format, /mov/);
    assert.deepEqual([probed.video?.width, probed.video?.height], [240, 136]);
    assert.ok(Math.abs(probed.duration - 2) <= 0.1);

    const mp3 = await vod.create({
      inputs: [{ asset_id: assets.audio, timeline_start: '0.5', timeline_end: '2.5' }],
      editing_settings: { format: 'MP3' },
    });
    const audio = await vod.until(mp3.task_id, ['SUCCEED', 'FAILED']);
    assert.equal(audio.status, 'SUCCEED', audio.error_msg);
    const probedAudio = await probeFile(await download(mp3.asset_id));
    assert.equal(probedAudio.audio?.codec, 'mp3');
    assert.equal(probedAudio.video, undefined);
    assert.ok(Math.abs(probedAudio.duration - 2) <= 0.1);
  });

  it('bad input gets a clear 400 and leaves no task behind', async () => {
    const before = (
      (await (await vod.request('GET', 'asset/editing/tasks?limit=1')).json()) as { total: number }
    ).total;
    await expectVodError(
      await vod.request('POST', 'asset/editing/tasks', {
        inputs: [{ asset_id: 'nope', timeline_start: '0', timeline_end: '1' }],
      }),
      400,
      'VOD.10062',
    );
    await expectVodError(
      await vod.request('POST', 'asset/editing/tasks', {
        inputs: [{ asset_id: assets.a, timeline_start: '3', timeline_end: '1' }],
      }),
      400,
      'VOD.10053',
    );
    await expectVodError(
      await vod.request('POST', 'asset/editing/tasks', {
        inputs: [{ asset_id: assets.a, timeline_start: '0', timeline_end: '99' }],
      }),
      400,
      'VOD.10053',
    );
    const many = Array.from({ length: 21 }, () => ({
      asset_id: assets.a,
      timeline_start: '0',
      timeline_end: '1',
    }));
    await expectVodError(
      await vod.request('POST', 'asset/editing/tasks', { inputs: many }),
      400,
      'VOD.10053',
    );
    await expectVodError(
      await vod.request('POST', 'asset/editing/tasks', {
        inputs: [{ asset_id: assets.a, timeline_start: '0', timeline_end: '1' }],
        editing_settings: { format: 'MP3' },
      }),
      400,
      'VOD.10053',
    );
    await expectVodError(await vod.request('POST', 'asset/editing/tasks', { inputs: [] }), 400, 'VOD.10053');
    await expectVodError(
      await vod.request('POST', 'asset/editing/tasks', {
        inputs: [{ asset_id: assets.a, timeline_start: 'x', timeline_end: '1' }],
      }),
      400,
      'VOD.10053',
    );
    const afterCount = (
      (await (await vod.request('GET', 'asset/editing/tasks?limit=1')).json()) as { total: number }
    ).total;
    assert.equal(afterCount, before, 'no task row was created');
    const noAuth = await fetch(`${server.url}/v1/${server.libraryId}/asset/editing/tasks`);
    await expectVodError(noAuth, 401, 'APIGW.0301');
  });

  it('cancel: WAITING → 204 and it never runs; PROCESSING and finished → 400; force stops a running task', async () => {
    // A long task occupies the only worker; the next one waits behind it.
    const running = await vod.create({
      inputs: [{ asset_id: assets.long, timeline_start: '0', timeline_end: '40' }],
    });
    await vod.until(running.task_id, ['PROCESSING']);
    const waiting = await vod.create({
      inputs: [{ asset_id: assets.a, timeline_start: '0', timeline_end: '1' }],
    });
    assert.equal((await vod.task(waiting.task_id)).status, 'WAITING');
    const cancelled = await vod.cancel(waiting.task_id);
    assert.equal(cancelled.status, 204);
    assert.equal((await vod.task(waiting.task_id)).status, 'CANCEL');
    await expectVodError(await vod.cancel(waiting.task_id), 400, 'VOD.10083');
    await expectVodError(await vod.cancel(running.task_id), 400, 'VOD.10083');
    await expectVodError(await vod.cancel('no-such-task'), 400, 'VOD.10062');

    const forced = await vod.cancel(running.task_id, true);
    assert.equal(forced.status, 204);
    const stopped = await vod.task(running.task_id);
    assert.equal(stopped.status, 'CANCEL');
    // Nothing of either task reached the library.
    for (const task of [running, waiting]) {
      const res = await fetch(
        `${server.url}/api/v1/inode/${server.libraryId}/-/${task.asset_id}?access_token=${smh.token}`,
      );
      assert.equal(res.status, 404);
    }

    // Queued after the cancelled one: once it has run, the only worker has claimed past it.
    const finished = await vod.create({
      inputs: [{ asset_id: assets.a, timeline_start: '0', timeline_end: '1' }],
    });
    await vod.until(finished.task_id, ['SUCCEED']);
    assert.equal((await vod.task(waiting.task_id)).status, 'CANCEL', 'a cancelled task never runs');
    await expectVodError(await vod.cancel(finished.task_id), 400, 'VOD.10083');
  });

  it('cancel racing the claim: exactly one side wins each time', async () => {
    for (let round = 0; round < 12; round++) {
      const created = await vod.create({
        inputs: [{ asset_id: assets.a, timeline_start: '0', timeline_end: '0.5' }],
      });
      if (round % 2 === 0) await new Promise((r) => setTimeout(r, round * 3));
      const res = await vod.cancel(created.task_id);
      const final = await vod.until(created.task_id, ['SUCCEED', 'FAILED', 'CANCEL']);
      if (res.status === 204)
        assert.equal(final.status, 'CANCEL', 'a cancel that won means the task never ran');
      else {
        await expectVodError(res, 400, 'VOD.10083');
        assert.equal(final.status, 'SUCCEED', 'a cancel that lost means the worker had it');
      }
    }
  });

  it('lists with paging, newest first, and higher priority runs first', async () => {
    const page = (await (await vod.request('GET', 'asset/editing/tasks?limit=2&offset=0')).json()) as {
      total: number;
      tasks: VodTask[];
    };
    assert.equal(page.tasks.length, 2);
    assert.ok(page.total > 2);
    assert.ok(page.tasks[0]!.create_time >= page.tasks[1]!.create_time);
    assert.match(page.tasks[0]!.create_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await expectVodError(await vod.request('GET', 'asset/editing/tasks?limit=101'), 400, 'VOD.10053');
  });

  it('calls callback_url once when a task ends, with the VOD editComplete body', async () => {
    const received: unknown[] = [];
    const hook = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => {
        received.push(JSON.parse(text));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const port = (hook.address() as AddressInfo).port;
      const created = await vod.create({
        inputs: [{ asset_id: assets.a, timeline_start: '0', timeline_end: '1' }],
        callback_url: `http://127.0.0.1:${port}/done`,
      });
      await vod.until(created.task_id, ['SUCCEED']);
      // The callback is a job of its own: once it has ended, no delivery of it is left to come.
      const callback = await endedCallbackJob(
        server.server.container.store,
        server.libraryId,
        created.task_id,
      );
      assert.equal(callback.state, 'SUCCEED', callback.errorMsg ?? undefined);
      assert.equal(callback.attempts, 1);
      const store = server.server.container.store;
      assert.equal((await callbackJobsOf(store, server.libraryId, created.task_id)).length, 1);
      assert.equal(received.length, 1);
      assert.deepEqual(received[0], {
        event_type: 'editComplete',
        edit_info: {
          status: 'SUCCEED',
          projectId: server.libraryId,
          assetId: created.asset_id,
          taskId: created.task_id,
        },
      });
    } finally {
      hook.close();
    }
  });

  it('does not follow a redirect of the callback receiver: the callback FAILS and says why', async () => {
    const paths: string[] = [];
    const hook = createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      res.writeHead(307, { location: '/elsewhere' }).end();
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const port = (hook.address() as AddressInfo).port;
      const created = await vod.create({
        inputs: [{ asset_id: assets.a, timeline_start: '0', timeline_end: '1' }],
        callback_url: `http://127.0.0.1:${port}/moved`,
      });
      assert.equal((await vod.until(created.task_id, ['SUCCEED', 'FAILED'])).status, 'SUCCEED');
      const callback = await endedCallbackJob(
        server.server.container.store,
        server.libraryId,
        created.task_id,
      );
      assert.equal(callback.state, 'FAILED');
      assert.equal(callback.errorCode, 'CALLBACK_FAILED');
      assert.match(callback.errorMsg ?? '', /answered 307; redirects are not followed/);
      assert.equal(callback.attempts, 1, 'a redirect is not retried');
      assert.deepEqual(paths, ['/moved'], 'the redirect target was never requested');
    } finally {
      hook.close();
    }
  });
});
