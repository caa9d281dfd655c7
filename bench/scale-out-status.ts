// Scale-out status benchmark (npm run bench:scale). One run starts a PostgreSQL server, an external S3
// store (a mediahost in embedded mode) and two API nodes in scale-out mode over both, each a process
// of its own, and measures SMH upload-task status requests per second:
//  - through one node;
//  - through two nodes over the same PostgreSQL (requests alternate between them);
// beside the CPU each process used meanwhile, which says where the time goes on this machine.
// The fixture is TASKS live multipart tasks with PARTS parts each, uploaded to the store for real:
// every status lists its parts there, as it does in production.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../test/helpers/postgres.ts';
import { agent, CLI, call, cpuSeconds, machineLine, rate, type ServeChild, serveChild } from './lib.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const TASKS = Number(args.get('tasks') ?? 200);
const PARTS = Number(args.get('parts') ?? 10);
const SECONDS = Number(args.get('seconds') ?? 8);
const CONCURRENCY = Number(args.get('concurrency') ?? 32);

function createLibrary(env: Record<string, string>): {
  libraryId: string;
  librarySecret: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
} {
  const out = execFileSync(process.execPath, [CLI, 'library', 'create', '--name', 'bench', '--json'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

/** Runs `work` from CONCURRENCY loops for SECONDS; returns operations per second and CPU use. */
async function measure(
  watched: { name: string; pid: number; withChildren?: boolean }[],
  work: (i: number) => Promise<void>,
): Promise<{ rate: number; cpu: string }> {
  const before = watched.map((w) => cpuSeconds(w.pid, w.withChildren === true));
  const started = performance.now();
  const ops = await rate(SECONDS, CONCURRENCY, work);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = watched
    .map(
      (w, i) =>
        `${w.name} ${Math.round(((cpuSeconds(w.pid, w.withChildren === true) - before[i]!) / elapsed) * 100)}%`,
    )
    .join(', ');
  return { rate: ops, cpu };
}

async function main(): Promise<void> {
  process.stdout.write(machineLine());
  const pg = await startPostgres();
  const storeDir = mkdtempSync(join(tmpdir(), 'mediahost-bench-store-'));
  const started: ServeChild[] = [];
  const dirs = [storeDir];
  try {
    const storeEnv = { MEDIAHOST_DATA_DIR: storeDir };
    const storeLib = createLibrary(storeEnv);
    const store = await serveChild('store', [], storeEnv);
    started.push(store);
    const nodeEnv = (): Record<string, string> => ({
      MEDIAHOST_DATA_DIR: dirs[dirs.push(mkdtempSync(join(tmpdir(), 'mediahost-bench-node-'))) - 1]!,
      MEDIAHOST_DATABASE_URL: pg.url,
      MEDIAHOST_BLOB: 's3',
      MEDIAHOST_S3_ENDPOINT: store.url,
      MEDIAHOST_S3_BUCKET: storeLib.bucket,
      MEDIAHOST_S3_ACCESS_KEY_ID: storeLib.accessKeyId,
      MEDIAHOST_S3_SECRET_ACCESS_KEY: storeLib.secretAccessKey,
      MEDIAHOST_S3_GRANT_SIGNATURE: 'cos',
      MEDIAHOST_WORKER_CONCURRENCY: '0',
    });
    const lib = createLibrary(nodeEnv());
    const [a, b] = await Promise.all([
      serveChild('node 1', [], nodeEnv()),
      serveChild('node 2', [], nodeEnv()),
    ]);
    started.push(a!, b!);
    const token = JSON.parse(
      (
        await call(
          a!.url,
          'GET',
          `/api/v1/token?library_id=${lib.libraryId}&library_secret=${lib.librarySecret}&grant=admin`,
        )
      ).body,
    ).accessToken as string;
    const file = (path: string, query: string) =>
      `/api/v1/file/${lib.libraryId}/-/${path}?${query}&access_token=${token}`;

    // Fixture: TASKS multipart tasks begun on node 1, PARTS parts each uploaded to the store.
    const t0 = performance.now();
    const keys: string[] = [];
    const part = Buffer.alloc(1024, 7);
    for (let i = 0; i < TASKS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, TASKS - i) }, async (_, j) => {
          const r = await call(a!.url, 'POST', file(`live-${i + j}.bin`, 'multipart'));
          if (r.status !== 201) throw new Error(`begin: ${r.status} ${r.body}`);
          const grant = JSON.parse(r.body) as {
            confirmKey: string;
            uploadId: string;
            url: string;
            headers: Record<string, string>;
          };
          for (let n = 1; n <= PARTS; n++) {
            const put = await call(
              grant.url,
              'PUT',
              `${new URL(grant.url).pathname}?partNumber=${n}&uploadId=${grant.uploadId}`,
              part,
              grant.headers,
            );
            if (put.status !== 200) throw new Error(`part: ${put.status} ${put.body}`);
          }
          return grant.confirmKey;
        }),
      );
      keys.push(...batch);
    }
    process.stdout.write(
      `fixture: ${TASKS} tasks x ${PARTS} parts in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    const check = JSON.parse((await call(b!.url, 'GET', file(keys[0]!, 'upload'))).body);
    if (check.parts?.length !== PARTS) throw new Error('status did not list the parts from the store');

    const watched = [
      { name: 'node 1', pid: a!.child.pid! },
      { name: 'node 2', pid: b!.child.pid! },
      { name: 'store', pid: store.child.pid! },
      { name: 'postgres', pid: pg.pid, withChildren: true },
      { name: 'client', pid: process.pid },
    ];
    const status = (nodes: ServeChild[]) => async (i: number) => {
      const node = nodes[i % nodes.length]!;
      const r = await call(node.url, 'GET', file(keys[i % keys.length]!, 'upload'));
      if (r.status !== 200) throw new Error(`status: ${r.status} ${r.body}`);
    };
    const one = await measure(watched, status([a!]));
    process.stdout.write(`status through one node: ${Math.round(one.rate)} req/s (CPU: ${one.cpu})\n`);
    const two = await measure(watched, status([a!, b!]));
    process.stdout.write(`status through two nodes: ${Math.round(two.rate)} req/s (CPU: ${two.cpu})\n`);
    process.stdout.write(`two nodes / one node: ${(two.rate / one.rate).toFixed(2)}\n`);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await pg.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    agent.destroy();
  }
}

await main();
