// Stopping the server the ways supervisors and people do: SIGTERM to the launcher of `npm start` and
// `npx mediahost` (npm, with a shell between it and node) must stop and drain the server, not orphan
// it; a second SIGINT or SIGTERM exits at once even with an upload in flight.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { bodyInFlight } from '../helpers/held-body.ts';
import { ObjectClient } from '../helpers/object-client.ts';
import { tempDir } from '../helpers/server.ts';
import { within } from '../helpers/worker.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEADLINE_MS = 60_000;
/** The stop-signal module treats a repeat within a second as the same stop delivered twice. */
const REPEAT_WINDOW_MS = 1000;

/** The npm that runs this test's scripts, or the one on PATH. */
function npmCommand(): [string, string[]] {
  const execpath = process.env.npm_execpath;
  return execpath?.endsWith('.js') ? [process.execPath, [execpath]] : ['npm', []];
}

interface Launched {
  launcher: ChildProcess;
  output: string[];
  url: string;
  /** The process id of the server itself (node), below the launcher. */
  serverPid: number;
  client: ObjectClient;
  exited: Promise<number | null>;
  /** Resolves once a line matching `pattern` was printed. */
  line(pattern: RegExp): Promise<string>;
}

const launched: Launched[] = [];
const dirs: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs after ${DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function printed(output: string[], field: string): string {
  for (const line of output) {
    const m = new RegExp(`^\\s+${field}\\s+(\\S+)$`).exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`${field} not printed:\n${output.join('\n')}`);
}

/** Runs `command args` in its own process group and resolves once the server below it listens. */
async function launch(command: string, args: string[]): Promise<Launched> {
  const dataDir = tempDir('mediahost-signals-');
  dirs.push(dataDir);
  const launcher = spawn(
    command,
    [
      ...args,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--shutdown-timeout-seconds',
      '300',
    ],
    {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, MEDIAHOST_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const take = (line: string): void => {
    output.push(line);
    for (const w of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  };
  createInterface({ input: launcher.stdout! }).on('line', take);
  createInterface({ input: launcher.stderr! }).on('line', take);
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  const line = (pattern: RegExp): Promise<string> => {
    const seen = output.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return within(
      new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
      DEADLINE_MS * 2,
      `a line matching ${pattern}:\n${output.join('\n')}`,
    );
  };
  const listening = JSON.parse(await line(/mediahost is listening/)) as { url: string; pid: number };
  await line(/^\s+secretAccessKey\s/);
  const client = new ObjectClient({
    url: listening.url,
    bucket: printed(output, 'bucket'),
    credentials: {
      accessKeyId: printed(output, 'accessKeyId'),
      secretAccessKey: printed(output, 'secretAccessKey'),
    },
  });
  const run: Launched = {
    launcher,
    output,
    url: listening.url,
    serverPid: listening.pid,
    client,
    exited,
    line,
  };
  launched.push(run);
  return run;
}

/** An upload the server is surely reading once `flowing` resolves; the rest waits for `release()`. */
function uploadInFlight(client: ObjectClient): {
  flowing: Promise<void>;
  release(): void;
  response: Promise<Response>;
} {
  const body = bodyInFlight();
  const response = client.request('PUT', 'in-flight.bin', {
    body: body.stream,
    headers: { 'content-length': String(body.total) },
  });
  // A response before the hold is a failure the assertions below report.
  response.catch(() => {});
  return { flowing: body.held, release: body.release, response };
}

describe('stopping through launchers and with a second signal', { timeout: 600_000 }, () => {
  after(async () => {
    for (const run of launched) {
      try {
        process.kill(-run.launcher.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
      if (alive(run.serverPid)) process.kill(run.serverPid, 'SIGKILL');
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const [npm, npmArgs] = npmCommand();
  const launchers: [string, string[]][] = [
    ['npm start', [...npmArgs, 'start', '--']],
    ['npx mediahost serve', [...npmArgs, 'exec', '--', 'mediahost', 'serve']],
  ];
  for (const [name, args] of launchers) {
    it(`SIGTERM to the launcher of \`${name}\` drains and stops the server below it`, async () => {
      const run = await launch(npm, args);
      assert.notEqual(run.serverPid, run.launcher.pid, 'the server runs below the launcher');
      const upload = uploadInFlight(run.client);
      await upload.flowing;
      run.launcher.kill('SIGTERM');
      await run.line(/shutting down: finishing in-flight requests/);
      upload.release();
      const res = await upload.response;
      assert.equal(res.status, 200, await res.text());
      await gone(run.serverPid);
      await within(run.exited, DEADLINE_MS, 'the launcher exiting');
      await assert.rejects(fetch(`${run.url}/healthz`), 'nothing listens any more');
    });
  }

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`a second ${signal} exits at once (${code}) while an upload is in flight`, async () => {
      const run = await launch(process.execPath, [join(ROOT, 'bin', 'mediahost.js'), 'serve']);
      assert.equal(run.serverPid, run.launcher.pid);
      const upload = uploadInFlight(run.client);
      await upload.flowing;
      run.launcher.kill(signal);
      await run.line(/shutting down: finishing in-flight requests/);
      // A repeat inside the window counts as the same stop; an operator's second signal comes later.
      await new Promise((r) => setTimeout(r, REPEAT_WINDOW_MS + 200));
      run.launcher.kill(signal);
      assert.equal(await within(run.exited, 30_000, `exit on the second ${signal}`), code);
      await assert.rejects(upload.response, 'the upload in flight was cut off');
    });
  }
});
