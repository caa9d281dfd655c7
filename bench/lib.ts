// What the benchmarks share: the machine line, a kept-alive HTTP client, and `mediahost serve` as a
// child process with request logging off, ready once /healthz answers.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export const CLI = join(import.meta.dirname, '..', 'bin', 'mediahost.js');

export function machineLine(): string {
  return `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}\n`;
}

export const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function call(
  base: string,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServeChild {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `mediahost serve ARGS` with MEDIAHOST_* `env` added, logging warnings only; ready once /healthz answers. */
export async function serveChild(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeChild> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', String(port), '--log-level', 'warn', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      if ((await call(url, 'GET', '/healthz')).status === 200) return { name, url, child, stop };
    } catch {
      if (i > 300) {
        await stop();
        throw new Error(`${name} did not start`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `work` from `concurrency` loops for `seconds`; returns completed operations per second. */
export async function rate(
  seconds: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await work(next++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Parent and CPU seconds used (user + system) of a process, from /proc; undefined once it is gone. */
function procStat(pid: number): { ppid: number; cpu: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process, with its children's for PostgreSQL (each connection is a child). */
export function cpuSeconds(pid: number, withChildren: boolean): number {
  let total = procStat(pid)?.cpu ?? 0;
  if (!withChildren) return total;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat?.ppid === pid) total += stat.cpu;
  }
  return total;
}
