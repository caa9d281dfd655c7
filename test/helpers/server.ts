// Test servers: the real mediahost on 127.0.0.1 and a random port, in this process or as a child
// process (for crash tests), each with its own temporary data dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger as PinoLogger } from 'pino';
import { type RunningServer, startServer } from '../../src/app/lifecycle.ts';
import { defaultConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { Clock } from '../../src/ports/clock.ts';

export interface TestServer {
  url: string;
  port: number;
  dataDir: string;
  bucket: string;
  libraryId: string;
  librarySecret: string;
  accessKeyId: string;
  secretAccessKey: string;
  server: RunningServer;
  close(): Promise<void>;
}

export function tempDir(prefix = 'mediahost-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A clock tests move forward, to reach expiries without waiting for them. */
export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
  };
}

export async function startTestServer(
  overrides: Partial<Config> = {},
  options: { clock?: Clock; logger?: PinoLogger } = {},
): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDir();
  const server = await startServer(
    defaultConfig({ host: '127.0.0.1', port: 0, logLevel: 'silent', ...overrides, dataDir }),
    {
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    },
  );
  const created = server.createdLibrary;
  if (!created) throw new Error('test servers start on an empty data dir');
  return {
    url: server.url,
    port: server.port,
    dataDir,
    bucket: created.library.bucket,
    libraryId: created.library.id,
    librarySecret: created.librarySecret,
    accessKeyId: created.accessKeyId,
    secretAccessKey: created.secretAccessKey,
    server,
    async close() {
      await server.close();
      if (overrides.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const ROOT = join(import.meta.dirname, '..', '..');

export interface ChildServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Lines the child printed to stdout. */
  output: string[];
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `mediahost serve` as a child process and resolves once it listens. */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'mediahost.js'), 'serve', '--host', '127.0.0.1', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, MEDIAHOST_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join('\n')}`)), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.includes('mediahost is listening')) {
        clearTimeout(timer);
        resolve(JSON.parse(line).url as string);
      }
    });
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.join('\n')}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    process: child,
    output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
