// Installing as an operator does: `npm ci --omit=dev` gives a tree that serves (with the Node.js it
// needs), an older Node.js is refused with one line saying which version is needed, and `npm install`
// on a fresh copy leaves package-lock.json as committed.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/server.ts';
import { within } from '../helpers/worker.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'mediahost.js');

/** The npm that runs this test's scripts, or the one on PATH. */
function npmCommand(): [string, string[]] {
  const execpath = process.env.npm_execpath;
  return execpath?.endsWith('.js') ? [process.execPath, [execpath]] : ['npm', []];
}

const older = (version: string): boolean => {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return !(major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18));
};

/** A Node.js older than mediahost needs, from PATH or the usual places (the system Node here). */
async function olderNode(): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of new Set(dirs.filter((d) => d !== ''))) {
    const path = join(dir, 'node');
    if (!existsSync(path)) continue;
    try {
      const { stdout } = await run(path, ['--version'], { encoding: 'utf8' });
      if (older(stdout.trim())) return path;
    } catch {
      // not runnable
    }
  }
  return undefined;
}

const oldNode = await olderNode();

describe('production install', { timeout: 600_000 }, () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** The files an installation is made of, in a fresh directory. */
  function copyOfRelease(): string {
    const dir = tempDir('mediahost-install-');
    dirs.push(dir);
    for (const name of ['package.json', 'package-lock.json', 'bin', 'src']) {
      cpSync(join(ROOT, name), join(dir, name), { recursive: true });
    }
    return dir;
  }

  it('an older Node.js stops at once with one line naming the version needed', {
    // CI runs on the machine image whose system Node is 20: there the case must run.
    skip: oldNode === undefined && !process.env.CI ? 'no Node.js older than 22.18 on this machine' : false,
  }, async () => {
    assert.ok(oldNode, 'a Node.js older than 22.18 (the system Node)');
    const result = await run(oldNode, [CLI, 'serve', '--port', '0'], { encoding: 'utf8' }).then(
      () => assert.fail('an older Node.js must not start mediahost'),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^mediahost: needs Node\.js 22\.18 or later/);
    const { stdout: version } = await run(oldNode, ['--version'], { encoding: 'utf8' });
    assert.ok(lines[0]!.includes(version.trim()), 'the line names the Node.js it ran on');
    assert.doesNotMatch(result.stderr, /ERR_UNKNOWN_FILE_EXTENSION|\n\s+at /);
  });

  it('npm ci --omit=dev installs a tree that serves with `npm start`, Node.js included', async () => {
    const dir = copyOfRelease();
    const [npm, npmArgs] = npmCommand();
    await run(npm, [...npmArgs, 'ci', '--omit=dev', '--no-audit', '--no-fund'], {
      cwd: dir,
      timeout: 300_000,
    });
    assert.equal(existsSync(join(dir, 'node_modules', 'typescript')), false, 'dev dependencies left out');
    const { stdout: version } = await run(join(dir, 'node_modules', '.bin', 'node'), ['--version'], {
      encoding: 'utf8',
    });
    assert.equal(older(version.trim()), false, `the installed Node.js ${version.trim()} runs mediahost`);

    // PATH without this test's own node_modules/.bin: the tree must bring what it needs.
    const path = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((d) => !d.startsWith(ROOT))
      .join(delimiter);
    const server = spawn(
      npm,
      [...npmArgs, 'start', '--', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'data')],
      { cwd: dir, env: { ...process.env, PATH: path }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    server.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      const url = await within(
        new Promise<string>((resolve, reject) => {
          createInterface({ input: server.stdout! }).on('line', (line) => {
            output.push(line);
            if (line.includes('mediahost is listening')) resolve(JSON.parse(line).url as string);
          });
          server.once('exit', (code) =>
            reject(new Error(`npm start exited with ${code}:\n${output.join('\n')}`)),
          );
        }),
        120_000,
        'npm start listening',
      );
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200, await health.text());
    } finally {
      server.kill('SIGTERM');
      await within(exited, 60_000, 'npm start stopping');
    }
  });

  it('npm install on a fresh copy leaves package-lock.json as committed', async () => {
    const dir = copyOfRelease();
    const before = readFileSync(join(dir, 'package-lock.json'), 'utf8');
    const [npm, npmArgs] = npmCommand();
    await run(npm, [...npmArgs, 'install', '--package-lock-only', '--no-audit', '--no-fund'], {
      cwd: dir,
      timeout: 300_000,
    });
    assert.equal(readFileSync(join(dir, 'package-lock.json'), 'utf8'), before);
  });
});
