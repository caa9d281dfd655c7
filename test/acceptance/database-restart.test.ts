// A PostgreSQL restart under load: two `mediahost serve` nodes and a `mediahost worker` as child
// processes over one real PostgreSQL server (and one external S3 store), with requests in all three
// dialects flowing and a media task running while the server goes down, comes back, and then has
// every mediahost connection terminated. Nothing may exit; requests meanwhile get their dialect's 503.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { makeClip } from '../helpers/media.ts';
import { ObjectClient } from '../helpers/object-client.ts';
import { type PostgresServer, postgresSkipReason, startPostgres } from '../helpers/postgres.ts';
import { scaleOutEnv } from '../helpers/scale-out.ts';
import {
  type ChildServer,
  spawnServer,
  startTestServer,
  type TestServer,
  tempDir,
} from '../helpers/server.ts';
import { createToken, expectSmhError, putSimple, SmhClient } from '../helpers/smh-client.ts';
import { expectVodError, Vod } from '../helpers/vod-client.ts';
import { spawnWorker, type Worker } from '../helpers/worker.ts';

const RECOVERY_MS = 60_000;

function printed(output: string[], field: string): string {
  for (const line of output) {
    const m = new RegExp(`^\\s+${field}\\s+(\\S+)$`).exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`${field} not printed:\n${output.join('\n')}`);
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + RECOVERY_MS;
  for (;;) {
    const got = await attempt().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${RECOVERY_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One request of each dialect to one node. */
interface Node {
  server: ChildServer;
  smh: SmhClient;
  vod: Vod;
  objects: ObjectClient;
}

type Dialect = 'smh' | 'vod' | 'object';

const send: Record<Dialect, (node: Node) => Promise<Response>> = {
  smh: (node) => node.smh.list(''),
  vod: (node) => node.vod.request('GET', 'asset/editing/tasks?limit=1'),
  object: (node) => node.objects.request('GET', undefined, { query: { 'max-keys': '1' } }),
};

/** The 503 of each dialect, asserted in full. */
const expectUnavailable: Record<Dialect, (res: Response) => Promise<void>> = {
  smh: async (res) => {
    await expectSmhError(res, 503, 'ServerOverloaded');
  },
  vod: (res) => expectVodError(res, 503, 'VOD.10052'),
  object: async (res) => {
    const text = await res.text();
    assert.equal(res.status, 503, text);
    assert.match(text, /<Code>ServiceUnavailable<\/Code>/);
    assert.ok(res.headers.get('x-cos-request-id'), 'a request id');
  },
};

/** Whether a response of the background stream is acceptable: a success, or its dialect's 503. */
async function acceptable(dialect: Dialect, res: Response): Promise<string | undefined> {
  if (res.status >= 200 && res.status < 300) {
    await res.arrayBuffer();
    return undefined;
  }
  try {
    await expectUnavailable[dialect](res);
    return undefined;
  } catch (err) {
    return `${dialect}: ${(err as Error).message}`;
  }
}

describe('PostgreSQL restarts under load', { timeout: 400_000, skip: postgresSkipReason() }, () => {
  let pgServer: PostgresServer;
  let db: string;
  let external: TestServer;
  let dir: string;
  const nodes: Node[] = [];
  let worker: Worker | undefined;

  before(async () => {
    dir = tempDir('mediahost-db-restart-');
    pgServer = await startPostgres();
    db = await pgServer.createDatabase();
    external = await startTestServer();
  });

  after(async () => {
    for (const node of nodes) await node.server.kill('SIGKILL');
    await worker?.stop('SIGKILL').catch(() => {});
    await external?.close();
    await pgServer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('no process exits, requests get 503 in their dialect, then everything resumes; a task ends once', async () => {
    const env = scaleOutEnv(db, external);
    const args = ['--port', '0', '--worker-concurrency', '0'];
    const first = await spawnServer(args, env);
    const second = await spawnServer(args, { ...env, MEDIAHOST_DATA_DIR: tempDir('mediahost-node-') });
    const library = {
      libraryId: printed(first.output, 'libraryId'),
      librarySecret: printed(first.output, 'librarySecret'),
    };
    const credentials = {
      accessKeyId: printed(first.output, 'accessKeyId'),
      secretAccessKey: printed(first.output, 'secretAccessKey'),
    };
    const bucket = printed(first.output, 'bucket');
    const token = await createToken(first.url, library, { grant: 'admin' });
    for (const server of [first, second]) {
      nodes.push({
        server,
        smh: new SmhClient({ url: server.url, libraryId: library.libraryId, token }),
        vod: new Vod(server.url, library.libraryId, token),
        objects: new ObjectClient({ url: server.url, bucket, credentials }),
      });
    }
    // ffmpeg behind a gate the test opens: the task is surely running when the database goes down,
    // and its encode ends while the database is still down.
    const gated = join(dir, 'gated-ffmpeg');
    writeFileSync(
      gated,
      [
        '#!/bin/sh',
        'case " $* " in *" -version "*) exec ffmpeg "$@" ;; esac',
        `touch '${dir}/waiting'`,
        `while [ ! -e '${dir}/open' ]; do sleep 0.1; done`,
        'exec ffmpeg "$@"',
        '',
      ].join('\n'),
    );
    chmodSync(gated, 0o755);
    worker = await spawnWorker(
      [
        ...['--worker-concurrency', '1', '--worker-poll-milliseconds', '100'],
        // Longer than any outage here: the lease must not lapse while the run waits for the database.
        ...['--job-lease-seconds', '300', '--ffmpeg-path', gated],
      ],
      { env: scaleOutEnv(db, external) },
    );
    const [a] = nodes as [Node, Node];

    const clip = await makeClip(dir, 'clip.mp4', { seconds: 3 });
    const begin = await a.smh.beginTask('simple', 'clip.mp4');
    await putSimple(begin, readFileSync(clip));
    const asset = (
      (await a.smh.confirmFile(begin.confirmKey, { query: { with_inode: '1' } })) as unknown as {
        inode: string;
      }
    ).inode;
    // An upload whose bytes are sent before the outage and that is confirmed after it.
    const pending = await a.smh.beginTask('simple', 'before-outage.bin');
    await putSimple(pending, Buffer.from('sent before the database went down'));

    const task = await a.vod.create({
      inputs: [{ asset_id: asset, timeline_start: '0', timeline_end: '2' }],
    });
    await until('ffmpeg waiting at the gate', async () =>
      existsSync(join(dir, 'waiting')) ? true : undefined,
    );

    // A stream of requests in every dialect to both nodes, for the whole outage and recovery.
    const problems: string[] = [];
    let sent = 0;
    let streaming = true;
    const streamDeadline = Date.now() + 300_000;
    const stream = (async () => {
      const dialects: Dialect[] = ['smh', 'vod', 'object'];
      while (streaming && sent < 20_000 && Date.now() < streamDeadline) {
        const node = nodes[sent % nodes.length]!;
        const dialect = dialects[sent % dialects.length]!;
        sent++;
        try {
          const problem = await acceptable(dialect, await send[dialect](node));
          if (problem) problems.push(problem);
        } catch (err) {
          problems.push(`${dialect} to ${node.server.url}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    try {
      await pgServer.restart(async () => {
        for (const node of nodes) {
          const res = await fetch(`${node.server.url}/healthz`);
          const health = (await res.json()) as { status: string; database: string; databaseReason?: string };
          assert.equal(res.status, 503);
          assert.equal(health.database, 'unavailable');
          assert.match(
            health.databaseReason ?? '',
            /ECONNREFUSED|connect|terminat|shut/i,
            health.databaseReason,
          );
          for (const dialect of ['smh', 'vod', 'object'] as const) {
            await expectUnavailable[dialect](await send[dialect](node));
          }
          // A new upload cannot begin while the database is down.
          await expectSmhError(await node.smh.begin('simple', 'during-outage.bin'), 503, 'ServerOverloaded');
        }
        // The encode ends during the outage: its output cannot be recorded, and the task waits for the
        // database instead of failing.
        writeFileSync(join(dir, 'open'), '');
        await until('the worker meeting the outage', async () =>
          worker!.output.some((l) => l.includes('a job met an unavailable store')) ? true : undefined,
        );
      });

      const recovered = async (): Promise<void> => {
        for (const node of nodes) {
          await until(`${node.server.url} healthy`, async () =>
            (await fetch(`${node.server.url}/healthz`)).status === 200 ? true : undefined,
          );
          for (const dialect of ['smh', 'vod', 'object'] as const) {
            await until(`${dialect} on ${node.server.url}`, async () => {
              const res = await send[dialect](node);
              await res.arrayBuffer();
              return res.status === 200 ? true : undefined;
            });
          }
        }
      };
      await recovered();

      // Every connection mediahost holds is killed from the server side (idle timeouts, pgbouncer, an
      // administrator): the pools drop them and connect again.
      assert.ok((await pgServer.terminateConnections(db)) > 0, 'mediahost held connections');
      await recovered();
    } finally {
      streaming = false;
      await stream;
    }

    for (const node of nodes) assert.equal(node.server.process.exitCode, null, `${node.server.url} runs`);
    assert.equal(worker.process.exitCode, null, 'the worker runs');
    assert.deepEqual(problems, [], `${sent} requests sent`);

    const done = await a.vod.until(task.task_id, ['SUCCEED', 'FAILED'], 180_000);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    // The worker logs the end after recording it: its line may still be on the way.
    const endedLines = () =>
      worker!.output.filter((l) => l.includes('"job ended"') && l.includes(task.task_id));
    await until('the worker logging the end', async () => (endedLines().length > 0 ? true : undefined));
    assert.equal(endedLines().length, 1, 'the task ended exactly once');
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT state, attempts FROM jobs WHERE id = $1', [task.task_id]);
      assert.deepEqual(rows, [{ state: 'SUCCEED', attempts: '1' }], 'no attempt spent on the outage');
    } finally {
      await client.end();
    }

    const confirmed = await nodes[1]!.smh.confirmFile(pending.confirmKey);
    assert.equal(confirmed.size, String(Buffer.byteLength('sent before the database went down')));
    const { body } = await nodes[1]!.smh.download('before-outage.bin');
    assert.equal(body.toString(), 'sent before the database went down');
  });
});
