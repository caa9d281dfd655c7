// Where mediahost's CPU goes on the upload path (npm run bench:profile). For each path (the SMH grant
// path, the object API through the AWS SDK), a fresh mediahost started with --cpu-prof takes a warm-up
// then TOTAL bytes as the peers benchmark sends them (8 MiB pieces streamed from a file, 4 in flight).
// Printed: CPU seconds per GiB of each thread (user and system, from /proc), then from the V8
// profiles of the main thread and the hashing thread the self time per GiB by category and the
// functions that take the most. Options: --total-mib=512 --paths=smh,sdk --top=25 --keep=DIR
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The category a function's self time is counted under. */
function category(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native, unattributed';
  if (url.startsWith('wasm://') || /md5|crc64|hash/.test(url)) return 'hashing (wasm/js kernels)';
  if (/node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify)/.test(url)) return 'fastify';
  if (/node_modules\/@(aws|smithy)/.test(url)) return 'AWS SDK';
  if (/node_modules\/(pino|kysely)/.test(url)) return url.includes('kysely') ? 'kysely' : 'pino';
  if (url.includes('node_modules/')) return 'other dependencies';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node streams';
  if (url.startsWith('node:internal/fs') || url.startsWith('node:fs')) return 'node fs';
  if (/node:(_http|internal\/http|http|net|internal\/net|internal\/stream_base)/.test(url))
    return 'node http/net';
  if (url.startsWith('node:')) return `node ${url.replace('node:internal/', '')}`;
  if (url === '') return `native: ${fn || '(anonymous)'}`;
  const src = /\/(src|bench)\/(.*)$/.exec(url);
  return src ? `mediahost ${src[1]}/${src[2]}` : `other ${url}`;
}

/**
 * Self time (seconds) by category and by function, of the samples taken between `from` and `to`
 * (microseconds of the monotonic clock, which V8's profile timestamps and process.hrtime share).
 */
function selfTimes(
  profile: Profile,
  from: number,
  to: number,
): { byCategory: Map<string, number>; byFunction: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at > to) return;
    const seconds = delta / 1e6;
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const cat = category(functionName, url);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + seconds);
    const where = url ? `${url.replace(/^.*\/(src|node_modules|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + seconds);
  });
  return { byCategory, byFunction };
}

/**
 * Each entry's share of the thread's busy samples, and that share of the thread's CPU per GiB from
 * /proc: a profile's sample intervals are wall time, so on a loaded machine they also count the time
 * the thread waited for a core; shares are what the profile can tell.
 */
function table(map: Map<string, number>, cpuPerGib: number, top: number): string {
  const busy = [...map].filter(([k]) => k !== 'idle' && !k.startsWith('(idle)'));
  const total = busy.reduce((s, [, v]) => s + v, 0);
  return busy
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([k, v]) =>
        `    ${((100 * v) / total).toFixed(1).padStart(5)}%  ~${((cpuPerGib * v) / total).toFixed(3)} CPU-s/GiB  ${k}`,
    )
    .join('\n');
}

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
      const upload =
        path === 'smh'
          ? smhUpload(mh.url, lib, await smhToken(mh.url, lib), shape)
          : sdkUpload(
              s3Client(mh.url, lib.accessKeyId, lib.secretAccessKey, 'WHEN_REQUIRED'),
              lib.bucket,
              shape,
            );
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
      for (const file of readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'))) {
        const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as Profile;
        const { byCategory, byFunction } = selfTimes(profile, from, to);
        if (byCategory.size === 0) continue; // the process before serve's restart
        // CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: thread 0 is the main thread.
        const thread = file.split('.')[4] === '0' ? 'MainThread' : 'WorkerThread';
        const cpu = perGib.get(thread) ?? 0;
        process.stdout.write(
          `  ${thread} profile (${cpu.toFixed(2)} CPU-s/GiB), share of its busy samples during the measured upload:\n` +
            `  by category:\n${table(byCategory, cpu, 30)}\n  top functions:\n${table(byFunction, cpu, TOP)}\n`,
        );
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
