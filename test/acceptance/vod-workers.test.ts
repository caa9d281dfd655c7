// Media tasks run by `mediahost worker` processes beside an API server that runs none: a worker killed
// mid-task (the lease lapses, another worker redoes it), a worker stopped gracefully (the task is handed
// back), priority order, asset processing (transcode, snapshots, cancel), and a server without ffmpeg.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startServer } from '../../src/app/lifecycle.ts';
import { defaultConfig } from '../../src/config/load.ts';
import { makeClip, probeFile } from '../helpers/media.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { createToken, putSimple, SmhClient } from '../helpers/smh-client.ts';
import { expectVodError, Vod } from '../helpers/vod-client.ts';
import { WAIT_MS } from '../helpers/wait.ts';
import { spawnWorker, type Worker } from '../helpers/worker.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'mediahost.js');
const LEASE_SECONDS = 2;
/** A 60 s source upscaled to 720p: a few seconds of ffmpeg, long enough to be caught running. */
const LONG_EDIT = {
  editing_settings: { width: 1280, height: 720, resolution_upsample: true },
  seconds: 60,
};

/** Processes whose parent is `pid`, with their command name, read from /proc. */
function childrenOf(pid: number): { pid: number; comm: string }[] {
  const found: { pid: number; comm: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = processInfo(Number(name));
    if (info?.ppid === pid) found.push({ pid: Number(name), comm: info.comm });
  }
  return found;
}

/** State, parent and command name of a process; undefined once it is gone. */
function processInfo(pid: number): { state: string; ppid: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    return { state: state!, ppid: Number(ppid), comm: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

/** Running (not exited, not a zombie waiting to be reaped) processes among `pids`. */
function stillRunning(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    const info = processInfo(pid);
    return info !== undefined && info.state !== 'Z';
  });
}

async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, ms: number, what: string) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('VOD tasks run by mediahost worker processes', { timeout: 600_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;
  let vod: Vod;
  let dir: string;
  const workers: Worker[] = [];
  const assets = { long: '', short: '', hd: '' };

  async function upload(client: SmhClient, name: string, path: string): Promise<string> {
    const begin = await client.beginTask('simple', `clips/${name}`);
    await putSimple(begin, readFileSync(path));
    const file = (await client.confirmFile(begin.confirmKey, { query: { with_inode: '1' } })) as unknown as {
      inode: string;
    };
    return file.inode;
  }

  async function download(path: string): Promise<string> {
    const { body } = await smh.download(path);
    const local = join(dir, `out-${path.replaceAll('/', '_')}`);
    writeFileSync(local, body);
    return local;
  }

  async function downloadAsset(assetId: string): Promise<string> {
    const res = await fetch(
      `${server.url}/api/v1/inode/${server.libraryId}/-/${assetId}?access_token=${smh.token}`,
    );
    assert.equal(res.status, 200);
    return download(((await res.json()) as { path: string[] }).path.join('/'));
  }

  async function names(directory: string): Promise<string[]> {
    const res = await smh.list(directory);
    assert.equal(res.status, 200);
    return ((await res.json()) as { contents: { name: string }[] }).contents.map((c) => c.name).sort();
  }

  /** `mediahost worker` on the server's data dir; resolves once it says it runs. */
  function startWorker(extra: string[] = []): Promise<Worker> {
    return spawnWorker(
      [
        ...['--data-dir', server.dataDir],
        ...['--worker-concurrency', '1'],
        ...['--job-lease-seconds', String(LEASE_SECONDS)],
        ...['--worker-poll-milliseconds', '50'],
        ...extra,
      ],
      { started: (worker) => workers.push(worker) },
    );
  }

  /** The ffmpeg processes `worker` runs, once there is at least one. */
  function ffmpegOf(worker: Worker): Promise<number[]> {
    const pid = worker.process.pid!;
    return until(
      () => childrenOf(pid).flatMap((c) => (c.comm === 'ffmpeg' ? [c.pid] : [])),
      (pids) => pids.length > 0,
      WAIT_MS,
      `an ffmpeg run by worker ${pid}`,
    );
  }

  const job = async (taskId: string) => {
    const record = await server.server.container.store.jobs.get(taskId);
    assert.ok(record, `job ${taskId} exists`);
    return record;
  };

  before(async () => {
    dir = tempDir('mediahost-workers-');
    server = await startTestServer({
      workerConcurrency: 0,
      jobLeaseSeconds: LEASE_SECONDS,
      workerPollMilliseconds: 50,
    });
    const token = await createToken(server.url, server, { grant: 'admin' });
    smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    vod = new Vod(server.url, server.libraryId, token);
    assert.equal((await smh.mkdir('clips')).status, 201);
    const [long, short, hd] = await Promise.all([
      makeClip(dir, 'long.mp4', { seconds: LONG_EDIT.seconds }),
      makeClip(dir, 'short.mp4', { seconds: 3 }),
      makeClip(dir, 'hd.mp4', { seconds: 3, width: 1280, height: 720 }),
    ]);
    assets.long = await upload(smh, 'long.mp4', long);
    assets.short = await upload(smh, 'short.mp4', short);
    assets.hd = await upload(smh, 'hd.mp4', hd);
  });

  // Every test starts with no worker running: tasks wait until the test starts one.
  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      await worker.stop('SIGTERM').catch(() => worker.stop('SIGKILL'));
    }
  });

  after(async () => {
    for (const worker of workers) await worker.stop('SIGKILL').catch(() => {});
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker killed mid-task: the lease lapses and another worker completes the task (attempt 2)', async (t) => {
    const first = await startWorker();
    const created = await vod.create({
      inputs: [{ asset_id: assets.long, timeline_start: '0', timeline_end: String(LONG_EDIT.seconds) }],
      editing_settings: LONG_EDIT.editing_settings,
    });
    await vod.until(created.task_id, ['PROCESSING']);
    const orphans = await ffmpegOf(first);
    const killedAt = Date.now();
    assert.equal(await first.stop('SIGKILL'), null, 'killed, not exited');
    // Watched from the kill on, while the task is redone.
    const orphansEnded = until(
      () => stillRunning(orphans),
      (alive) => alive.length === 0,
      60_000,
      'orphan ffmpeg',
    ).then(
      () => Date.now() - killedAt,
      () => Number.POSITIVE_INFINITY,
    );
    assert.equal((await vod.task(created.task_id)).status, 'PROCESSING', 'until its lease lapses');

    const second = await startWorker();
    const done = await vod.until(created.task_id, ['SUCCEED', 'FAILED'], 60_000);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    const record = await job(created.task_id);
    assert.equal(record.attempts, 2, 'the killed run spent an attempt');
    assert.ok(record.endedAt! >= killedAt + LEASE_SECONDS * 1000 - 1000, 'it ended after the lease lapsed');
    const reclaimed = await until(
      () =>
        second.output.find(
          (l) => l.includes('reclaimed a job whose worker vanished') && l.includes(created.task_id),
        ),
      (line) => line !== undefined,
      WAIT_MS,
      'the second worker saying it reclaimed the task',
    );
    const probed = await probeFile(await downloadAsset(created.asset_id));
    assert.ok(Math.abs(probed.duration - LONG_EDIT.seconds) <= 0.2, `duration ${probed.duration}`);
    assert.deepEqual([probed.video?.width, probed.video?.height], [1280, 720]);
    assert.deepEqual(
      readdirSync(join(server.dataDir, 'work')).filter((d) => d.includes(created.task_id)),
      [],
      'the retry removed the work directory the killed worker left',
    );

    // The killed worker's ffmpeg: FfmpegRunner starts it (in a process group of its own) through
    // setpriv with a parent-death signal, so the kernel kills it with its worker instead of letting it
    // encode on to the end of its input for nobody.
    // Left alone it would run on as long as the redo's encode, which ran beside it on the same
    // machine: a bound that scales with the load, where a fixed one would not.
    const lifetime = await orphansEnded;
    const redo = record.endedAt! - Date.parse((JSON.parse(reclaimed!) as { time: string }).time);
    t.diagnostic(
      `ffmpeg ${orphans.join(', ')} of the SIGKILLed worker ended ${lifetime} ms after the kill; the redo took ${redo} ms`,
    );
    assert.ok(lifetime < redo / 2, `the orphan ffmpeg ran on for ${lifetime} ms (the redo took ${redo} ms)`);
  });

  it('a worker stopped with SIGTERM exits 0 promptly and hands its task back; another worker completes it', async () => {
    const worker = await startWorker();
    const created = await vod.create({
      inputs: [{ asset_id: assets.long, timeline_start: '0', timeline_end: String(LONG_EDIT.seconds) }],
      editing_settings: LONG_EDIT.editing_settings,
    });
    await vod.until(created.task_id, ['PROCESSING']);
    const ffmpeg = await ffmpegOf(worker);
    assert.equal((await job(created.task_id)).attempts, 1);
    // Prompt: it does not wait for the encode (the task is back WAITING, not SUCCEED, below).
    assert.equal(await worker.stop('SIGTERM', WAIT_MS), 0);
    assert.deepEqual(stillRunning(ffmpeg), [], 'its ffmpeg is stopped first');

    const handedBack = await job(created.task_id);
    assert.equal(handedBack.state, 'WAITING');
    assert.equal(handedBack.attempts, 0, 'a shutdown does not spend the attempt');
    assert.equal(handedBack.leaseOwner, null);
    assert.equal((await vod.task(created.task_id)).status, 'WAITING');
    assert.deepEqual(
      readdirSync(join(server.dataDir, 'work')).filter((d) => d.includes(created.task_id)),
      [],
    );

    await startWorker();
    const done = await vod.until(created.task_id, ['SUCCEED', 'FAILED'], 60_000);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    assert.equal((await job(created.task_id)).attempts, 1);
    const probed = await probeFile(await downloadAsset(created.asset_id));
    assert.ok(Math.abs(probed.duration - LONG_EDIT.seconds) <= 0.2, `duration ${probed.duration}`);
  });

  it('a serve node that shuts down stops its running task and hands it back', async () => {
    const node = await startServer(
      defaultConfig({
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        dataDir: server.dataDir,
        workerConcurrency: 1,
        jobLeaseSeconds: LEASE_SECONDS,
        workerPollMilliseconds: 50,
      }),
    );
    let closed = false;
    try {
      const created = await vod.create({
        inputs: [{ asset_id: assets.long, timeline_start: '0', timeline_end: String(LONG_EDIT.seconds) }],
        editing_settings: LONG_EDIT.editing_settings,
      });
      await vod.until(created.task_id, ['PROCESSING']);
      await node.close();
      closed = true;
      const handedBack = await job(created.task_id);
      assert.equal(handedBack.state, 'WAITING');
      assert.equal(handedBack.attempts, 0, 'a shutdown does not spend the attempt');
      // Left waiting, it would run before the next test's tasks.
      assert.equal((await vod.cancel(created.task_id)).status, 204);
    } finally {
      if (!closed) await node.close();
    }
  });

  it('waiting tasks start in priority order once a worker runs', async () => {
    const created: Record<string, string> = {};
    for (const priority of [-3, 0, 5]) {
      const task = await vod.create({
        inputs: [{ asset_id: assets.short, timeline_start: '0', timeline_end: '1' }],
        priority,
      });
      created[priority] = task.task_id;
    }
    for (const taskId of Object.values(created)) assert.equal((await vod.task(taskId)).status, 'WAITING');
    await startWorker();
    const started: Record<string, number> = {};
    for (const [priority, taskId] of Object.entries(created)) {
      const done = await vod.until(taskId, ['SUCCEED', 'FAILED']);
      assert.equal(done.status, 'SUCCEED', done.error_msg);
      started[priority] = (await job(taskId)).startedAt!;
    }
    assert.ok(started[5]! < started[0]!, `priority 5 before 0: ${JSON.stringify(started)}`);
    assert.ok(started[0]! < started[-3]!, `priority 0 before -3: ${JSON.stringify(started)}`);
  });

  it('asset processing: cancel a waiting transcode, then transcodes and snapshots beside the source', async () => {
    // No worker runs: the transcode waits, and VOD's DELETE (keyed by asset) cancels it.
    const queued = await vod.process({ asset_id: assets.short, template_group_name: 'mp4-720p' });
    assert.equal(queued.asset_id, assets.short);
    const [queuedId] = queued.task_ids;
    assert.ok(queuedId);
    assert.equal((await vod.assetTask('TRANSCODE', queuedId)).status, 'WAITING');
    assert.equal((await vod.cancelProcess(assets.short)).status, 204);
    assert.equal((await vod.assetTask('TRANSCODE', queuedId)).status, 'CANCEL');
    await expectVodError(await vod.cancelProcess(assets.short), 400, 'VOD.10083');

    const multi = await vod.process({ asset_id: assets.hd, template_group_name: 'mp4-multi' });
    const small = await vod.process({
      asset_id: assets.short,
      template_group_name: 'mp4-360p',
      thumbnail: { type: 'time', time: 1 },
    });
    const dots = await vod.process({ asset_id: assets.hd, thumbnail: { type: 'dots', dots: [1, 2] } });
    assert.equal(multi.thumbnail_task_id, undefined);
    assert.ok(small.thumbnail_task_id);
    assert.ok(dots.thumbnail_task_id);
    assert.equal(dots.task_ids.length, 1);
    await startWorker();

    for (const taskId of [multi.task_ids[0]!, small.task_ids[0]!]) {
      const done = await vod.untilAssetTask('TRANSCODE', taskId, ['SUCCEED', 'FAILED'], 60_000);
      assert.equal(done.status, 'SUCCEED', done.error_msg);
      assert.equal(done.type, 'TRANSCODE');
    }
    for (const taskId of [small.thumbnail_task_id!, dots.thumbnail_task_id!]) {
      const done = await vod.untilAssetTask('THUMBNAIL', taskId, ['SUCCEED', 'FAILED'], 60_000);
      assert.equal(done.status, 'SUCCEED', done.error_msg);
    }
    const listed = await vod.assetTasks({ type: 'TRANSCODE', limit: '100' });
    const transcodes = new Map(listed.results.map((r) => [r.task_id, r.status]));
    assert.equal(transcodes.get(multi.task_ids[0]!), 'SUCCEED');
    assert.equal(transcodes.get(queuedId), 'CANCEL');
    assert.ok(listed.results.every((r) => r.type === 'TRANSCODE'));

    const files = await names('clips');
    for (const name of [
      'hd_360p.mp4',
      'hd_720p.mp4',
      'short_360p.mp4',
      'short_snapshot_001.jpg',
      'short_snapshot_002.jpg',
      'short_snapshot_003.jpg',
      'hd_snapshot_001.jpg',
      'hd_snapshot_002.jpg',
    ]) {
      assert.ok(files.includes(name), `${name} in ${files.join(', ')}`);
    }
    assert.ok(!files.includes('short_720p.mp4'), 'the cancelled transcode wrote nothing');
    assert.ok(!files.includes('hd_snapshot_003.jpg'), 'one image per dot');
    assert.ok(!files.includes('short_snapshot_004.jpg'), 'one image per second of a 3 s clip');

    const sizes: [string, number, number][] = [
      ['hd_360p.mp4', 640, 360],
      ['hd_720p.mp4', 1280, 720],
      // 180 p is below the template's 360 p: never upscaled.
      ['short_360p.mp4', 320, 180],
    ];
    for (const [name, width, height] of sizes) {
      const probed = await probeFile(await download(`clips/${name}`));
      assert.deepEqual([probed.video?.width, probed.video?.height], [width, height], name);
      assert.ok(Math.abs(probed.duration - 3) <= 0.2, `${name}: duration ${probed.duration}`);
    }
    for (const name of ['short_snapshot_002.jpg', 'hd_snapshot_001.jpg']) {
      const probed = await probeFile(await download(`clips/${name}`));
      assert.equal(probed.video?.codec, 'mjpeg', name);
    }
  });

  it('without ffmpeg: SMH still works, /healthz says why media is unavailable, an edit task FAILS clearly', async () => {
    const bare = await startTestServer({
      ffmpegPath: '/nonexistent/ffmpeg',
      ffprobePath: '/nonexistent/ffprobe',
      workerConcurrency: 1,
      workerPollMilliseconds: 20,
    });
    try {
      const token = await createToken(bare.url, bare, { grant: 'admin' });
      const client = new SmhClient({ url: bare.url, libraryId: bare.libraryId, token });
      assert.equal((await client.mkdir('clips')).status, 201);
      const assetId = await upload(client, 'short.mp4', join(dir, 'short.mp4'));
      const listing = (await (await client.list('clips')).json()) as { contents: { name: string }[] };
      assert.deepEqual(
        listing.contents.map((c) => c.name),
        ['short.mp4'],
      );

      const health = await fetch(`${bare.url}/healthz`);
      assert.equal(health.status, 200);
      const body = (await health.json()) as { status: string; media: { status: string; reason?: string } };
      assert.equal(body.status, 'ok');
      assert.equal(body.media.status, 'unavailable');
      assert.match(body.media.reason ?? '', /ffmpeg not found at '\/nonexistent\/ffmpeg'/);

      const bareVod = new Vod(bare.url, bare.libraryId, token);
      const created = await bareVod.create({
        inputs: [{ asset_id: assetId, timeline_start: '0', timeline_end: '1' }],
      });
      const done = await bareVod.until(created.task_id, ['SUCCEED', 'FAILED']);
      assert.equal(done.status, 'FAILED');
      assert.equal(done.error_code, 'MEDIA_TOOLS_UNAVAILABLE');
      assert.match(done.error_msg ?? '', /ffmpeg/);
      const record = await bare.server.container.store.jobs.get(created.task_id);
      assert.equal(record?.attempts, 1, 'not retried: it cannot succeed later');
    } finally {
      await bare.close();
    }
  });

  it('mediahost worker --worker-concurrency 0 exits with code 2 and says why', async () => {
    const run = promisify(execFile);
    const err = await run(process.execPath, [CLI, 'worker', '--data-dir', dir, '--worker-concurrency', '0'], {
      encoding: 'utf8',
      timeout: 300_000,
    }).then(
      () => assert.fail('the worker started'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 2);
    assert.match(err.stderr, /worker-concurrency must be at least 1/);
  });
});
