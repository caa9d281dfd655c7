// Many uploads at once (npm run bench:concurrency). mediahost runs as a child process with
// bench/lock-probe.ts preloaded; this process is the client. Two phases:
//   small      SMALL SMH uploads started at once, each begin (simple) + PUT to the grant + confirm
//   multipart  MULTIPART SMH multipart uploads started at once, each begin + PARTS part PUTs (one
//              after another) + confirm
// For each phase: errors, p50/p99/max of each step, the server's RSS sampled every SAMPLE_MS (the
// curve and the peak), and the metadata connection's contention from the probe: how long requests
// waited for the single SQLite connection, how long each use held it, and the event loop's delay.
// Options: --small=1000 --small-kib=16 --multipart=100 --parts=4 --part-kib=1024 --sample-ms=100 --profile --lock-stacks
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarise } from './cpu-profile.ts';
import { cpuSeconds, machineLine } from './lib.ts';
import {
  agent,
  createLibrary,
  curveLine,
  loadAverage,
  MiB,
  options,
  peakRssMiB,
  percentile,
  resetPeakRss,
  sampleRss,
  send,
  startMediahost,
  threadCpu,
} from './targets.ts';
import { smhToken } from './upload-clients.ts';

const args = options();
const SMALL = Number(args.get('small') ?? 1000);
const SMALL_BYTES = Number(args.get('small-kib') ?? 16) * 1024;
const MULTIPART = Number(args.get('multipart') ?? 100);
const PARTS = Number(args.get('parts') ?? 4);
const PART_BYTES = Number(args.get('part-kib') ?? 1024) * 1024;
const SAMPLE_MS = Number(args.get('sample-ms') ?? 100);
/** --profile: the server runs under --cpu-prof and each phase's CPU is broken down per upload. */
const PROFILE = args.has('profile');

interface Grant {
  url: string;
  uploadId?: string;
  headers: Record<string, string>;
  confirmKey: string;
}

interface Probe {
  seconds: number;
  waits: number[];
  holds: number[];
  loopP99: number;
  loopMax: number;
  longHolds: [string, { count: number; ms: number }][];
}

/** What the probe gathered since the last call. */
async function readProbe(pid: number, file: string): Promise<Probe> {
  if (existsSync(file)) unlinkSync(file);
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; !existsSync(file); i++) {
    if (i > 600) throw new Error('the lock probe did not answer');
    await new Promise((r) => setTimeout(r, 50));
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Probe;
}

const f1 = (v: number) => v.toFixed(1);
const stats = (v: number[]) =>
  `p50 ${f1(percentile(v, 50))} ms, p99 ${f1(percentile(v, 99))} ms, max ${f1(Math.max(...v))} ms (${v.length})`;

async function main(): Promise<void> {
  process.stdout.write(machineLine());
  const work = mkdtempSync(join(tmpdir(), 'mediahost-bench-many-'));
  const probeFile = join(work, 'probe.json');
  const probe = pathToFileURL(join(import.meta.dirname, 'lock-probe.ts')).href;
  const profiles = join(work, 'profiles');
  const cpuProf = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : [];
  const windows: { name: string; from: number; to: number; cpu: Map<string, number> }[] = [];
  const mh = await startMediahost(work, createLibrary(work), [], ['--import', probe, ...cpuProf], {
    BENCH_LOCK_PROBE_FILE: probeFile,
    ...(args.has('lock-stacks') ? { BENCH_LOCK_PROBE_STACKS: '1' } : {}),
  });
  try {
    const lib = mh.library;
    const token = await smhToken(mh.url, lib);
    const api = (path: string, query: string) =>
      `/api/v1/file/${lib.libraryId}/-/${path}?${query}${query ? '&' : ''}access_token=${token}`;
    const mkdir = (name: string) =>
      send(mh.url, 'PUT', `/api/v1/directory/${lib.libraryId}/-/${name}?access_token=${token}`);
    for (const name of ['small', 'multipart', 'warm']) {
      const made = await mkdir(name);
      if (made.status !== 201) throw new Error(`mkdir ${name}: ${made.status} ${made.text}`);
    }

    const errors: string[] = [];
    /** One step, timed; a wrong status is counted as an error and ends that upload. */
    const step = async (times: number[], status: number, request: () => ReturnType<typeof send>) => {
      const started = performance.now();
      const r = await request().catch((err: Error) => ({ status: 0, text: err.message, headers: {} }));
      times.push(performance.now() - started);
      if (r.status !== status) {
        errors.push(`${r.status} ${r.text.slice(0, 200)}`);
        throw new Error('step failed');
      }
      return r.text;
    };
    const put = (grant: Grant, query: string, body: Buffer) => {
      const target = new URL(grant.url);
      return send(target.origin, 'PUT', `${target.pathname}${query}`, body, {
        ...grant.headers,
        'content-length': String(body.length),
      });
    };
    const small = Buffer.alloc(SMALL_BYTES, 7);
    const part = Buffer.alloc(PART_BYTES, 9);
    type Steps = Record<string, number[]>;
    const simpleUpload = async (dir: string, i: number, s: Steps) => {
      const grant = JSON.parse(
        await step(s.begin!, 201, () => send(mh.url, 'PUT', api(`${dir}/f-${i}.bin`, ''))),
      ) as Grant;
      await step(s.put!, 200, () => put(grant, '', small));
      await step(s.confirm!, 200, () => send(mh.url, 'POST', api(grant.confirmKey, 'confirm')));
    };
    const multipartUpload = async (i: number, s: Steps) => {
      const grant = JSON.parse(
        await step(s.begin!, 201, () => send(mh.url, 'POST', api(`multipart/m-${i}.bin`, 'multipart'))),
      ) as Grant;
      for (let n = 1; n <= PARTS; n++)
        await step(s.part!, 200, () => put(grant, `?partNumber=${n}&uploadId=${grant.uploadId}`, part));
      await step(s.confirm!, 200, () => send(mh.url, 'POST', api(grant.confirmKey, 'confirm')));
    };

    // Warm the server's code paths and the client's connections a little first.
    const warm: Steps = { begin: [], put: [], confirm: [] };
    for (let i = 0; i < 50; i += 10)
      await Promise.all(Array.from({ length: 10 }, (_, j) => simpleUpload('warm', i + j, warm)));

    const phase = async (name: string, count: number, steps: Steps, upload: (i: number) => Promise<void>) => {
      errors.length = 0;
      await readProbe(mh.pid, probeFile);
      resetPeakRss(mh.pid);
      const load = loadAverage();
      const rss = sampleRss(mh.pid, SAMPLE_MS);
      const cpu = cpuSeconds(mh.pid, false);
      const threads = threadCpu(mh.pid);
      const from = Number(process.hrtime.bigint() / 1000n);
      const started = performance.now();
      await Promise.all(Array.from({ length: count }, (_, i) => upload(i).catch(() => {})));
      const seconds = (performance.now() - started) / 1000;
      const perUpload = new Map(
        [...threadCpu(mh.pid)].map(([k, v]) => {
          const was = threads.get(k) ?? { user: 0, system: 0 };
          return [k, (v.user + v.system - was.user - was.system) / count];
        }),
      );
      windows.push({ name, from, to: Number(process.hrtime.bigint() / 1000n), cpu: perUpload });
      const serverCpu = cpuSeconds(mh.pid, false) - cpu;
      const curve = rss.stop();
      const p = await readProbe(mh.pid, probeFile);
      const waited = p.waits.filter((w) => w >= 1);
      const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
      process.stdout.write(
        `\n${name}: ${count} at once in ${seconds.toFixed(2)} s (${(count / seconds).toFixed(0)} uploads/s, server CPU ${serverCpu.toFixed(1)} s), ${errors.length} errors (load ${load})\n` +
          Object.entries(steps)
            .map(([k, v]) => `  ${k.padEnd(8)} ${stats(v)}\n`)
            .join('') +
          `  RSS: peak ${peakRssMiB(mh.pid).toFixed(0)} MiB; curve (s:MiB) ${curveLine(curve, 16)}\n` +
          `  metadata connection: ${p.waits.length} uses, ${waited.length} waited >= 1 ms; wait ${stats(p.waits)}, total ${(sum(p.waits) / 1000).toFixed(2)} s\n` +
          `  held ${stats(p.holds)}, busy ${((100 * sum(p.holds)) / 1000 / p.seconds).toFixed(0)}% of the phase\n` +
          `  event loop delay p99 ${f1(p.loopP99)} ms, max ${f1(p.loopMax)} ms\n`,
      );
      for (const [where, h] of p.longHolds)
        process.stdout.write(
          `  held >= 2 ms ${h.count} times, ${h.ms.toFixed(0)} ms in all, from ${where}\n`,
        );
      if (errors.length)
        process.stdout.write(`  first errors: ${[...new Set(errors)].slice(0, 3).join(' | ')}\n`);
    };

    const smallSteps: Steps = { begin: [], put: [], confirm: [] };
    await phase(`${SMALL} small uploads (${SMALL_BYTES / 1024} KiB)`, SMALL, smallSteps, (i) =>
      simpleUpload('small', i, smallSteps),
    );
    const multipartSteps: Steps = { begin: [], part: [], confirm: [] };
    await phase(
      `${MULTIPART} multipart uploads (${PARTS} x ${PART_BYTES / MiB} MiB)`,
      MULTIPART,
      multipartSteps,
      (i) => multipartUpload(i, multipartSteps),
    );
    await mh.stop();
    for (const w of windows.filter(() => PROFILE))
      process.stdout.write(
        `\n${w.name}, CPU per upload:\n${summarise(profiles, w.from, w.to, w.cpu, 25, 'upload')}`,
      );
  } finally {
    await mh.stop();
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
