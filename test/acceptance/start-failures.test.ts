// What an operator sees when a start fails for a reason outside mediahost (the port is taken, the
// database does not answer, the data dir cannot be made): one line naming the setting, no stack trace,
// a non-zero exit; warnings for settings that will be ignored; and the first start's ready-to-paste
// examples.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'bin', 'mediahost.js');

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Exactly one line on stderr, without a stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at |Error:/, stderr);
  return lines[0]!;
}

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe('failures at start and warnings', { timeout: 300_000 }, () => {
  const dirs: string[] = [];
  const children: ChildServer[] = [];
  const dir = (): string => {
    const d = tempDir('mediahost-start-');
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const child of children) await child.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a port in use is named with its setting', async () => {
    const taken = await listen();
    try {
      const { port } = taken.address() as AddressInfo;
      const result = await cli(['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dir()]);
      assert.equal(result.code, 1);
      assert.equal(
        oneLine(result.stderr),
        `mediahost: --port ${port} (MEDIAHOST_PORT): address 127.0.0.1:${port} is already in use`,
      );
    } finally {
      taken.close();
    }
  });

  it('an unreachable database is named with its setting, without the password', async () => {
    // A port that was free a moment ago: nothing accepts connections there.
    const probe = await listen();
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const result = await cli([
      'serve',
      ...['--host', '127.0.0.1', '--port', '0', '--data-dir', dir()],
      ...['--database-url', `postgres://media:s3cr3t-pw@127.0.0.1:${port}/media`],
    ]);
    assert.equal(result.code, 1);
    const line = oneLine(result.stderr);
    assert.match(
      line,
      new RegExp(
        `^mediahost: --database-url \\(MEDIAHOST_DATABASE_URL\\): cannot use the database at postgres://media@127\\.0\\.0\\.1:${port}/media: .*ECONNREFUSED`,
      ),
    );
    assert.doesNotMatch(result.stderr + result.stdout, /s3cr3t-pw/);
  });

  it('a data dir that cannot be made is named with its setting', async () => {
    const file = join(dir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const dataDir = join(file, 'data');
    const result = await cli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir]);
    assert.equal(result.code, 1);
    assert.equal(
      oneLine(result.stderr),
      `mediahost: --data-dir ${dataDir} (MEDIAHOST_DATA_DIR): a path component is not a directory: ${dataDir}`,
    );
  });

  it('bad values stop the start with exit status 2 and one line', async () => {
    for (const [args, env, expected] of [
      [['--port', '65536'], {}, 'mediahost: --port: 65536 is above 65535'],
      [
        [],
        { MEDIAHOST_FS_DIRECT_IO: '' },
        'mediahost: MEDIAHOST_FS_DIRECT_IO: "" is not a boolean (true or false)',
      ],
      [['--data-dir', ''], {}, 'mediahost: --data-dir: must not be empty'],
    ] as const) {
      const result = await cli(['serve', ...args], env);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(oneLine(result.stderr), expected);
    }
  });

  it('warns about unknown MEDIAHOST_* variables and s3-* settings without --blob s3, and starts', async () => {
    const result = await cli(['migrate', '--data-dir', dir()], {
      MEDIAHOST_DATADIR: '/srv/media',
      MEDIAHOST_S3_BUCKET: 'media',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      'mediahost: warning: MEDIAHOST_DATADIR is not a mediahost setting and is ignored (did you mean MEDIAHOST_DATA_DIR?)',
      'mediahost: warning: --s3-bucket (MEDIAHOST_S3_BUCKET) is ignored with --blob fs; add --blob s3 (MEDIAHOST_BLOB=s3) to use the store',
    ]);
  });

  it("the first start's COS SDK example names the bucket's region", async () => {
    const server = await spawnServer(['--port', '0', '--data-dir', dir(), '--region', 'ap-test']);
    children.push(server);
    // The banner comes before the "listening" line that spawnServer waits for.
    assert.ok(
      server.output.some((l) => l.includes('.putObject(')),
      `no COS example printed:\n${server.output.join('\n')}`,
    );
    const bucket = server.output
      .find((l) => /^\s+bucket\s/.test(l))
      ?.trim()
      .split(/\s+/)[1];
    assert.ok(bucket, server.output.join('\n'));
    assert.ok(
      server.output.some((l) => l.includes(`Bucket: '${bucket}', Region: 'ap-test'`)),
      server.output.join('\n'),
    );
    await server.kill('SIGTERM');
  });
});
