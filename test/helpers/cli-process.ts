// The `mediahost` command as a child process a test can watch while it runs: its stdout lines as they
// come (JSON events with --json), its stderr, and how it ended. Without the test's MEDIAHOST_* variables.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(import.meta.dirname, '..', '..', 'bin', 'mediahost.js');

export interface Running {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  /** The --json lines printed so far. */
  events(): Record<string, unknown>[];
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** This process's environment without its MEDIAHOST_* variables (the CLI would read them), plus `env`. */
export function childEnv(env: Record<string, string>): Record<string, string | undefined> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MEDIAHOST_')));
  return { ...base, ...env };
}

export function start(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    stdout.push(...lines);
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    stdout,
    stderr,
    exited,
    events: () =>
      stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export async function run(args: string[], env: Record<string, string>): Promise<Result> {
  const r = start(args, env);
  const code = await r.exited;
  return { code, stdout: r.stdout.join('\n'), stderr: r.stderr.join('') };
}

export function jsonLines(result: Result): Record<string, unknown>[] {
  return result.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
