// `mediahost worker` as a child process for tests: started with the given flags and environment,
// resolved once it says it runs, stopped with a signal and a time limit.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { within } from './wait.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'mediahost.js');

export { within };

export interface Worker {
  process: ChildProcess;
  /** Lines the worker printed (pino JSON on stdout, anything on stderr). */
  output: string[];
  exited: Promise<number | null>;
  /** Sends `signal` (unless it exited) and resolves with the exit code, or rejects after `timeoutMs`. */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/**
 * Runs `mediahost worker ARGS` (log level info, so its log lines can be read) with MEDIAHOST_* `env`
 * added to this process's environment. `started` receives the worker before it is ready, so a caller
 * can stop it even when starting fails.
 */
export async function spawnWorker(
  args: readonly string[],
  options: { env?: Record<string, string>; started?: (worker: Worker) => void } = {},
): Promise<Worker> {
  const child = spawn(process.execPath, [CLI, 'worker', '--log-level', 'info', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const worker: Worker = {
    process: child,
    output,
    exited,
    async stop(signal, timeoutMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return within(exited, timeoutMs, `worker ${child.pid} exiting on ${signal}`);
    },
  };
  options.started?.(worker);
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  await within(
    new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        if (line.includes('mediahost worker is running')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${output.join('\n')}`)));
    }),
    120_000,
    'the worker starting',
  );
  return worker;
}
