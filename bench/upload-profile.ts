// Where mediahost's CPU goes on the upload path (npm run bench:profile). For each path (the SMH grant
// path, the object API through the AWS SDK), a fresh mediahost started with --cpu-prof takes a warm-up
// then TOTAL bytes as the peers benchmark sends them (8 MiB pieces streamed from a file, 4 in flight).
// Printed: CPU seconds per GiB of each thread (user and system, from /proc), then from the V8
// profiles of the main thread and the hashing thread the self time per GiB by category and the
// functions that take the most. Options: --total-mib=512 --paths=smh,sdk[,sdk-crc32] --top=25 --keep=DIR
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarise } from './cpu-profile.ts';
import { machineLine } from './lib.ts';
import { createLibrary, loadAverage, MiB, options, startMediahost, threadCpu } from './targets.ts';
import {
  measure,
  s3Client,
  sdkUpload,
  smhToken,
  smhUpload,
  type UploadShape,
  writeSource,
} from './upload-clients.ts';

const args = options();
const TOTAL = Number(args.get('total-mib') ?? 512) * MiB;
const PATHS = (args.get('paths') ?? 'smh,sdk').split(',');
const TOP = Number(args.get('top') ?? 25);
const KEEP = args.get('keep');

async function main(): Promise<void> {
  process.stdout.write(machineLine());
  const work = mkdtempSync(join(tmpdir(), 'mediahost-bench-profile-'));
  try {
    const shape: UploadShape = {
      source: join(work, 'source.bin'),
      sourceBytes: Math.min(TOTAL, 256 * MiB),
      pieceBytes: 8 * MiB,
      inFlight: 4,
    };
    writeSource(shape.source, shape.sourceBytes);
    for (const path of PATHS) {
      const dataDir = join(work, `data-${path}`);
      const profiles = KEEP ? join(KEEP, path) : join(work, `profiles-${path}`);
      mkdirSync(dataDir);
      mkdirSync(profiles, { recursive: true });
      const mh = await startMediahost(
        dataDir,
        createLibrary(dataDir),
        [],
        ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
      );
      const lib = mh.library;
      const sdk = (checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED') =>
        sdkUpload(s3Client(mh.url, lib.accessKeyId, lib.secretAccessKey, checksums), lib.bucket, shape);
      const upload =
        path === 'smh'
          ? smhUpload(mh.url, lib, await smhToken(mh.url, lib), shape)
          : sdk(path === 'sdk-crc32' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED');
      await upload(64 * MiB, 'warm-up');
      const before = threadCpu(mh.pid);
      const load = loadAverage();
      const from = Number(process.hrtime.bigint() / 1000n);
      const m = await measure(mh.pid, TOTAL, 'profiled', upload);
      const to = Number(process.hrtime.bigint() / 1000n);
      const after = threadCpu(mh.pid);
      await mh.stop();
      const gib = TOTAL / 2 ** 30;
      process.stdout.write(
        `\n${path}: ${TOTAL / MiB} MiB at ${m.mbps.toFixed(0)} MiB/s under --cpu-prof (load ${load}); server ${m.serverCpu.toFixed(2)} CPU-s/GiB, client ${m.clientCpu.toFixed(2)}\n  threads (user + system CPU-s/GiB):\n`,
      );
      const perGib = new Map<string, number>();
      for (const [name, t] of after) {
        const was = before.get(name) ?? { user: 0, system: 0 };
        const user = (t.user - was.user) / gib;
        const system = (t.system - was.system) / gib;
        perGib.set(name, user + system);
        if (user + system > 0.005)
          process.stdout.write(`    ${name.padEnd(16)} ${user.toFixed(2)} + ${system.toFixed(2)}\n`);
      }
      process.stdout.write(summarise(profiles, from, to, perGib, TOP));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
