// Servers under measurement as child processes (mediahost and the bare Node servers), the raw HTTP
// client the benchmarks share, and what they read from /proc: memory peaks, RSS curves, CPU per thread.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { signCosRequest } from '../src/lib/cos-signature.ts';

export const MiB = 1024 * 1024;
export const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'mediahost.js');

/** `--name=value` options of the command line. */
export function options(): Map<string, string> {
  return new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
}

export interface Target {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function waitForLine(
  child: ChildProcess,
  match: (line: string) => string | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const timer = setTimeout(() => reject(new Error(`no start line:\n${lines.join('\n')}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const found = match(line);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${lines.join('\n')}`)));
  });
}

export function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/** A child that prints `listening PORT` once it accepts connections (the bare and peer servers). */
export async function startListening(args: string[], env: Record<string, string> = {}): Promise<Target> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await waitForLine(child, (l) => (l.startsWith('listening ') ? l.slice(10) : undefined));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child) };
}

export interface Library {
  libraryId: string;
  librarySecret: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function createLibrary(dataDir: string): Library {
  const json = execFileSync(
    process.execPath,
    [CLI, 'library', 'create', '--name', 'bench', '--data-dir', dataDir, '--json'],
    { encoding: 'utf8' },
  );
  return JSON.parse(json) as Library;
}

/**
 * `mediahost serve` on `dataDir` (whose library is `library`), with `nodeArgs` before the CLI (kept
 * across serve's restart with its V8 flags, which keeps the process id), ready once it says so.
 */
export async function startMediahost(
  dataDir: string,
  library: Library,
  extra: string[] = [],
  nodeArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<Target & { library: Library }> {
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...extra],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await waitForLine(child, (l) =>
    l.includes('mediahost is listening') ? JSON.parse(l).url : undefined,
  );
  return { url, pid: child.pid!, stop: stopper(child), library };
}

export const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request on the shared kept-alive agent; `body` may be a stream (piped) or bytes. */
export function send(
  url: string,
  method: string,
  path: string,
  body?: Buffer | string | Readable,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    if (body && typeof body !== 'string' && !Buffer.isBuffer(body)) body.pipe(req);
    else req.end(body);
  });
}

/** COS request signing with the library's key pair; the signature goes in the Authorization header. */
export function signer(url: string, lib: Library) {
  const host = new URL(url).host;
  return (
    method: string,
    key: string,
    query: Record<string, string>,
    headers: Record<string, string> = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    const authorization = signCosRequest({
      secretId: lib.accessKeyId,
      secretKey: lib.secretAccessKey,
      method,
      path: `/${lib.bucket}/${key}`,
      query: Object.entries(query),
      headers: { host, ...headers },
      startSeconds: now - 60,
      endSeconds: now + 3600,
    });
    const search = new URLSearchParams(query).toString();
    return {
      path: `/${lib.bucket}/${key}${search ? `?${search}` : ''}`,
      headers: { ...headers, authorization },
    };
  };
}

/** A presigned GET path (signature in the query, no header signed), valid for an hour: a download link. */
export function presignedGet(lib: Library, key: string): string {
  const now = Math.floor(Date.now() / 1000);
  const auth = signCosRequest({
    secretId: lib.accessKeyId,
    secretKey: lib.secretAccessKey,
    method: 'GET',
    path: `/${lib.bucket}/${key}`,
    startSeconds: now - 60,
    endSeconds: now + 3600,
  });
  return `/${lib.bucket}/${key}?${auth}`;
}

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
}

/** Peak resident set (VmHWM) of a process since it started or since resetPeakRss(), in MiB. */
export const peakRssMiB = (pid: number): number => statusField(pid, 'VmHWM');
export const rssMiB = (pid: number): number => statusField(pid, 'VmRSS');

/** Starts VmHWM again from the current RSS (clear_refs 5), so a phase's peak is its own. */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Samples a process's RSS every `ms` until stopped; returns [milliseconds since start, MiB] pairs. */
export function sampleRss(pid: number, ms: number): { stop(): [number, number][] } {
  const started = performance.now();
  const samples: [number, number][] = [];
  const take = () => samples.push([performance.now() - started, rssMiB(pid)]);
  take();
  const timer = setInterval(take, ms);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** A curve as at most `points` evenly spaced samples, `t s: MiB`. */
export function curveLine(samples: [number, number][], points = 12): string {
  const step = Math.max(1, Math.ceil(samples.length / points));
  const picked = samples.filter((_, i) => i % step === 0 || i === samples.length - 1);
  return picked.map(([t, m]) => `${(t / 1000).toFixed(1)}s:${m.toFixed(0)}`).join(' ');
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const median = (values: number[]): number => percentile(values, 50);

/** CPU seconds (user, system) of each thread of a process, summed by thread name. */
export function threadCpu(pid: number): Map<string, { user: number; system: number }> {
  const byName = new Map<string, { user: number; system: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seen = byName.get(name) ?? { user: 0, system: 0 };
      seen.user += Number(fields[11]) / 100;
      seen.system += Number(fields[12]) / 100;
      byName.set(name, seen);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return byName;
}

/** The 1-minute load average: printed beside each figure, since the machine is shared. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
