// SMH upload-task benchmark (npm run bench:smh). The server runs as a child process; this process is
// the client. Measures, in one run:
//  - status latency (p50/p99) of one task with 10,000 stored parts;
//  - status requests per second over 1,000 live tasks of 100 parts each, beside the same server's
//    /healthz rate (the HTTP ceiling of this machine and framework, the baseline);
//  - begin + PUT + confirm rounds per second.
// Tasks are begun over HTTP; their parts are recorded straight in the database (fixture setup only:
// status reads part rows, and storing 110,000 real parts would measure fsync, not status).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContainer } from '../src/app/container.ts';
import { defaultConfig } from '../src/config/load.ts';
import type { BlobKey, UploadId } from '../src/core/ids.ts';
import { agent, CLI, call, machineLine, rate, serveChild } from './lib.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const BIG_PARTS = Number(args.get('big-parts') ?? 10_000);
const TASKS = Number(args.get('tasks') ?? 1000);
const PARTS = Number(args.get('parts') ?? 100);
const SECONDS = Number(args.get('seconds') ?? 8);
const CONCURRENCY = Number(args.get('concurrency') ?? 32);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  process.stdout.write(machineLine());
  const dataDir = mkdtempSync(join(tmpdir(), 'mediahost-bench-smh-'));
  const lib = JSON.parse(
    execFileSync(
      process.execPath,
      [CLI, 'library', 'create', '--name', 'bench', '--data-dir', dataDir, '--json'],
      { encoding: 'utf8' },
    ),
  );
  const server = await serveChild('mediahost', ['--data-dir', dataDir]);
  const url = server.url;
  try {
    const token = JSON.parse(
      (
        await call(
          url,
          'GET',
          `/api/v1/token?library_id=${lib.libraryId}&library_secret=${lib.librarySecret}&grant=admin`,
        )
      ).body,
    ).accessToken as string;
    const file = (path: string, query: string) =>
      `/api/v1/file/${lib.libraryId}/-/${path}?${query}&access_token=${token}`;
    const begin = async (name: string) => {
      const r = await call(url, 'POST', file(name, 'multipart'));
      if (r.status !== 201) throw new Error(`begin: ${r.status} ${r.body}`);
      return JSON.parse(r.body) as { confirmKey: string; uploadId: string };
    };

    // Fixture: 1 task with BIG_PARTS parts and TASKS tasks with PARTS parts, begun over HTTP.
    const big = await begin('big.bin');
    const tasks: { confirmKey: string; uploadId: string }[] = [];
    for (let i = 0; i < TASKS; i += 50) {
      tasks.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, TASKS - i) }, (_, j) => begin(`live-${i + j}.bin`)),
        )),
      );
    }
    const container = await createContainer(defaultConfig({ dataDir, logLevel: 'silent' }));
    const started = performance.now();
    const etag = createHash('md5').update('part').digest('hex');
    const addParts = async (uploadId: string, count: number) => {
      for (let from = 1; from <= count; from += 1000) {
        await container.store.transaction(async (tx) => {
          for (let n = from; n < Math.min(from + 1000, count + 1); n++) {
            await tx.multipart.putPart({
              uploadId: uploadId as UploadId,
              partNumber: n,
              blobKey: `bench${uploadId.slice(-10)}${n}`.toLowerCase() as BlobKey,
              size: 1024 * 1024,
              etag,
              crc64: '0',
              checksums: {},
              lastModified: Date.now(),
            });
          }
        });
      }
    };
    await addParts(big.uploadId, BIG_PARTS);
    for (const t of tasks) await addParts(t.uploadId, PARTS);
    await container.close();
    process.stdout.write(
      `fixture: ${BIG_PARTS + TASKS * PARTS} part rows in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );

    // Status latency of the 10,000-part task, one request at a time.
    const latencies: number[] = [];
    for (let i = 0; i < 220; i++) {
      const t0 = performance.now();
      const r = await call(url, 'GET', file(big.confirmKey, 'upload'));
      if (i >= 20) latencies.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`status: ${r.status} ${r.body}`);
      if (i === 0 && JSON.parse(r.body).parts.length !== BIG_PARTS)
        throw new Error('the status did not list every part');
    }
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `status of a ${BIG_PARTS}-part task: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (target p99 < 50 ms)\n`,
    );

    // Throughput: the HTTP ceiling, then status over the live tasks.
    const health = await rate(SECONDS, CONCURRENCY, async () => {
      await call(url, 'GET', '/healthz');
    });
    const status = await rate(SECONDS, CONCURRENCY, async (i) => {
      const r = await call(url, 'GET', file(tasks[i % tasks.length]!.confirmKey, 'upload'));
      if (r.status !== 200) throw new Error(`status: ${r.status} ${r.body}`);
    });
    process.stdout.write(`GET /healthz (baseline): ${health.toFixed(0)} req/s\n`);
    process.stdout.write(
      `status, ${TASKS} tasks x ${PARTS} parts: ${status.toFixed(0)} req/s = ${((100 * status) / health).toFixed(0)}% of the baseline (target >= 3000 req/s)\n`,
    );

    // begin (simple) + PUT the bytes + confirm.
    const rounds = await rate(SECONDS, 16, async (i) => {
      const b = await call(url, 'PUT', file(`pair-${i}.txt`, 'conflict_resolution_strategy=rename'));
      if (b.status !== 201) throw new Error(`begin: ${b.status} ${b.body}`);
      const grant = JSON.parse(b.body) as {
        url: string;
        headers: Record<string, string>;
        confirmKey: string;
      };
      const put = await call(grant.url, 'PUT', new URL(grant.url).pathname, 'x', grant.headers);
      if (put.status !== 200) throw new Error(`put: ${put.status} ${put.body}`);
      const c = await call(url, 'POST', file(grant.confirmKey, 'confirm'));
      if (c.status !== 200) throw new Error(`confirm: ${c.status} ${c.body}`);
    });
    process.stdout.write(`begin + PUT + confirm: ${rounds.toFixed(0)} files/s\n`);
  } finally {
    await server.stop();
    agent.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
