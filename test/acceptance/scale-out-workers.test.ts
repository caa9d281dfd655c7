// Scale-out media processing: an API node that runs no tasks, and `mediahost worker` processes apart
// from it, all over one real PostgreSQL server and one external S3 store (a second mediahost). Workers
// read their inputs from the store through presigned URLs and write their outputs back to it.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type RunningServer, startServer } from '../../src/app/lifecycle.ts';
import { makeClip, probeFile } from '../helpers/media.ts';
import { type PostgresServer, postgresSkipReason, startPostgres } from '../helpers/postgres.ts';
import { scaleOutConfig, scaleOutEnv } from '../helpers/scale-out.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { createToken, putSimple, SmhClient } from '../helpers/smh-client.ts';
import { Vod } from '../helpers/vod-client.ts';
import { spawnWorker, type Worker } from '../helpers/worker.ts';

const LEASE_SECONDS = 2;
const TASKS = 20;

/** The ids of the jobs a worker's log says it started. */
function startedJobs(worker: Worker): string[] {
  return worker.output.flatMap((line) => {
    if (!line.includes('"job started"')) return [];
    return [(JSON.parse(line) as { jobId: string }).jobId];
  });
}

describe('scale-out: worker nodes over one PostgreSQL and one external S3 store', {
  timeout: 240_000,
  skip: postgresSkipReason(),
}, () => {
  let pg: PostgresServer;
  let db: string;
  let external: TestServer;
  let api: RunningServer;
  let smh: SmhClient;
  let vod: Vod;
  let dir: string;
  let clip: string;
  let longClip: string;
  const workers: Worker[] = [];

  const startWorker = (concurrency: number): Promise<Worker> =>
    spawnWorker(
      [
        ...['--worker-concurrency', String(concurrency)],
        ...['--job-lease-seconds', String(LEASE_SECONDS)],
        ...['--worker-poll-milliseconds', '50'],
      ],
      { env: scaleOutEnv(db, external), started: (w) => workers.push(w) },
    );

  async function upload(name: string, path: string): Promise<string> {
    const begin = await smh.beginTask('simple', name);
    await putSimple(begin, readFileSync(path));
    const file = (await smh.confirmFile(begin.confirmKey, { query: { with_inode: '1' } })) as unknown as {
      inode: string;
    };
    return file.inode;
  }

  async function downloadAsset(assetId: string): Promise<string> {
    const res = await fetch(
      `${api.url}/api/v1/inode/${smh.libraryId}/-/${assetId}?access_token=${smh.token}`,
    );
    assert.equal(res.status, 200);
    const path = ((await res.json()) as { path: string[] }).path.join('/');
    const { location, body } = await smh.download(path);
    assert.ok(location.startsWith(external.url), `served by the store: ${location}`);
    const local = join(dir, `out-${assetId}.mp4`);
    writeFileSync(local, body);
    return local;
  }

  before(async () => {
    dir = tempDir('mediahost-scale-workers-');
    pg = await startPostgres();
    db = await pg.createDatabase();
    external = await startTestServer();
    api = await startServer(scaleOutConfig(db, external, { jobLeaseSeconds: LEASE_SECONDS }));
    const created = api.createdLibrary!;
    const library = { libraryId: created.library.id, librarySecret: created.librarySecret };
    const token = await createToken(api.url, library, { grant: 'admin' });
    smh = new SmhClient({ url: api.url, libraryId: library.libraryId, token });
    vod = new Vod(api.url, library.libraryId, token);
    [clip, longClip] = await Promise.all([
      makeClip(dir, 'short.mp4', { seconds: 3 }),
      makeClip(dir, 'long.mp4', { seconds: 40, width: 640, height: 360 }),
    ]);
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop('SIGTERM').catch(() => worker.stop('SIGKILL'));
  });

  after(async () => {
    for (const worker of workers) await worker.stop('SIGKILL').catch(() => {});
    await api?.close();
    await external?.close();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`two worker nodes and ${TASKS} tasks: each task runs exactly once, outputs land in the store`, async () => {
    const asset = await upload('short.mp4', clip);
    const tasks = [];
    for (let i = 0; i < TASKS; i++) {
      tasks.push(
        await vod.create({
          inputs: [
            {
              asset_id: asset,
              timeline_start: String((i % 3) * 0.5),
              timeline_end: String((i % 3) * 0.5 + 1),
            },
          ],
        }),
      );
    }
    // Both workers start while all tasks wait, so they compete for every claim.
    const [a, b] = await Promise.all([startWorker(2), startWorker(2)]);
    for (const task of tasks) {
      const done = await vod.until(task.task_id, ['SUCCEED', 'FAILED'], 120_000);
      assert.equal(done.status, 'SUCCEED', done.error_msg);
    }
    const started = [...startedJobs(a), ...startedJobs(b)];
    assert.deepEqual(
      started.toSorted(),
      tasks.map((t) => t.task_id).toSorted(),
      'each task started exactly once',
    );
    assert.ok(startedJobs(a).length > 0 && startedJobs(b).length > 0, 'both workers took tasks');
    for (const task of tasks) {
      const record = await api.container.store.jobs.get(task.task_id);
      assert.equal(record?.attempts, 1);
    }
    // Every output is a distinct file of the library whose bytes are in the store.
    const outputs = new Set(tasks.map((t) => t.asset_id));
    assert.equal(outputs.size, TASKS);
    const probed = await probeFile(await downloadAsset(tasks[0]!.asset_id));
    assert.ok(Math.abs(probed.duration - 1) <= 0.1, `duration ${probed.duration}`);
    const s3 = new S3Client({
      endpoint: external.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: external.accessKeyId, secretAccessKey: external.secretAccessKey },
    });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: external.bucket, Prefix: 'files/' }));
      assert.equal(listed.KeyCount, TASKS + 1, 'the source and one object per output');
    } finally {
      s3.destroy();
    }
  });

  it('a worker node killed with SIGKILL mid-task: its task finishes on the other after the lease lapses', async () => {
    const asset = await upload('long.mp4', longClip);
    const first = await startWorker(1);
    const created = await vod.create({
      inputs: [{ asset_id: asset, timeline_start: '0', timeline_end: '40' }],
      editing_settings: { width: 1280, height: 720, resolution_upsample: true },
    });
    await vod.until(created.task_id, ['PROCESSING']);
    const killedAt = Date.now();
    assert.equal(await first.stop('SIGKILL'), null, 'killed, not exited');
    const second = await startWorker(1);
    const done = await vod.until(created.task_id, ['SUCCEED', 'FAILED'], 120_000);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    const record = await api.container.store.jobs.get(created.task_id);
    assert.equal(record?.attempts, 2, 'the killed run spent an attempt');
    assert.ok(record!.endedAt! >= killedAt + LEASE_SECONDS * 1000 - 1000, 'it ended after the lease lapsed');
    assert.deepEqual(startedJobs(second), [created.task_id]);
    const probed = await probeFile(await downloadAsset(created.asset_id));
    assert.ok(Math.abs(probed.duration - 40) <= 0.2, `duration ${probed.duration}`);
    assert.deepEqual([probed.video?.width, probed.video?.height], [1280, 720]);
  });
});
