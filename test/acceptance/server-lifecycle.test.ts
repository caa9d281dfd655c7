// The server as an operator meets it: the CLI, the first start that creates and prints the default
// library once, `library create` against a running server, health, and graceful shutdown that lets
// in-flight requests finish.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { bodyInFlight } from '../helpers/held-body.ts';
import { ObjectClient } from '../helpers/object-client.ts';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.ts';
import { WAIT_MS, waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'bin', 'mediahost.js');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function printed(output: string[], field: string): string | undefined {
  for (const line of output) {
    const m = new RegExp(`^\\s+${field}\\s+(\\S+)$`).exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** Whether a new connection to the port is refused (nothing listens there any more). */
async function refused(port: number): Promise<boolean> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
    throw err;
  } finally {
    socket.destroy();
  }
}

describe('server lifecycle', { timeout: 300_000 }, () => {
  const dirs: string[] = [];
  const children: ChildServer[] = [];

  after(async () => {
    for (const child of children) await child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('--help lists the commands, and serve --help every setting with its variable', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['serve', 'migrate', 'library'])
      assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    const serve = await cli(['serve', '--help']);
    assert.equal(serve.code, 0);
    for (const flag of [
      '--host',
      '--port',
      '--data-dir',
      '--public-url',
      'MEDIAHOST_DATA_DIR',
      'MEDIAHOST_PUBLIC_URL',
    ]) {
      assert.ok(serve.stdout.includes(flag), flag);
    }
  });

  it('a bad setting stops the start with a message naming it', async () => {
    const bad = await cli(['serve', '--port', 'eighty']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--port: "eighty" is not an integer/);
  });

  it('first start creates the default library and prints its credentials once', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await spawnServer(['--port', '0', '--data-dir', dataDir]);
    children.push(first);
    // The banner comes before the "listening" line that spawnServer waits for.
    const accessKeyId = printed(first.output, 'accessKeyId');
    const secretAccessKey = printed(first.output, 'secretAccessKey');
    const bucket = printed(first.output, 'bucket');
    assert.ok(accessKeyId && secretAccessKey && bucket, first.output.join('\n'));
    assert.match(bucket, /^[a-z0-9-]+-\d+$/, 'the bucket has the COS form name-APPID');
    assert.ok(
      first.output.some((l) => l.includes('--endpoint-url')),
      'a ready-to-paste example is printed',
    );
    const client = new ObjectClient({
      url: first.url,
      bucket,
      credentials: { accessKeyId, secretAccessKey },
    });
    assert.equal((await client.put('hello.txt', Buffer.from('hello'))).status, 200);
    const health = await fetch(`${first.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    assert.equal(await first.kill('SIGTERM'), 0);

    const second = await spawnServer(['--port', '0', '--data-dir', dataDir]);
    children.push(second);
    // It would have come before "listening": its absence now is final.
    assert.equal(printed(second.output, 'accessKeyId'), undefined, 'nothing is created the second time');
    assert.equal(printed(second.output, 'secretAccessKey'), undefined, 'secrets are printed only once');
    const again = new ObjectClient({
      url: second.url,
      bucket,
      credentials: { accessKeyId, secretAccessKey },
    });
    assert.equal((await again.get('hello.txt')).body.toString(), 'hello');
    await second.kill('SIGTERM');
  });

  it('library create works while the server runs on the same data dir, and its keys work at once', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await spawnServer(['--port', '0', '--data-dir', dataDir]);
    children.push(server);
    const created = await cli(['library', 'create', '--name', 'photos', '--data-dir', dataDir, '--json']);
    assert.equal(created.code, 0, created.stderr);
    const lib = JSON.parse(created.stdout);
    for (const field of ['libraryId', 'librarySecret', 'bucket', 'accessKeyId', 'secretAccessKey']) {
      assert.equal(typeof lib[field], 'string', field);
    }
    assert.match(lib.bucket, /^photos-\d+$/);
    const client = new ObjectClient({ url: server.url, bucket: lib.bucket, credentials: lib });
    assert.equal((await client.put('a.jpg', Buffer.from('jpeg'))).status, 200);
    assert.equal((await client.get('a.jpg')).body.toString(), 'jpeg');

    const duplicate = await cli(['library', 'create', '--name', 'photos', '--data-dir', dataDir, '--json']);
    assert.equal(duplicate.code, 2);
    assert.match(duplicate.stderr, /already exists/);
    const invalid = await cli(['library', 'create', '--name', 'Bad_Name', '--data-dir', dataDir]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /lower-case letters, digits and hyphens/);
    await server.kill('SIGTERM');
  });

  it('serve keeps its process id while it restarts itself with the V8 flags and malloc arena cap, unless told not to', async () => {
    const commandLine = (server: ChildServer) =>
      readFileSync(`/proc/${server.process.pid}/cmdline`, 'utf8').split('\0');
    const start = async (env: Record<string, string>) => {
      const dataDir = tempDir();
      dirs.push(dataDir);
      const server = await spawnServer(['--port', '0', '--data-dir', dataDir], env);
      children.push(server);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      return server;
    };
    // The listening process is the one spawned (same pid), now started with the flag.
    const tuned = await start({});
    assert.ok(commandLine(tuned).includes('--max-semi-space-size=1'), commandLine(tuned).join(' '));
    const environment = readFileSync(`/proc/${tuned.process.pid}/environ`, 'utf8').split('\0');
    assert.ok(environment.includes('MALLOC_ARENA_MAX=2'));
    assert.equal(await tuned.kill('SIGTERM'), 0);

    const own = await start({ NODE_OPTIONS: '--max-semi-space-size=8' });
    assert.ok(!commandLine(own).includes('--max-semi-space-size=1'), 'the operator chose a size');
    const plain = await start({ MEDIAHOST_NO_V8_FLAGS: '1' });
    assert.ok(!commandLine(plain).includes('--max-semi-space-size=1'), 'MEDIAHOST_NO_V8_FLAGS=1');
    await own.kill('SIGTERM');
    await plain.kill('SIGTERM');
  });

  it('SIGTERM lets an in-flight upload finish, refuses new work, and exits 0', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const created = await cli(['library', 'create', '--name', 'drain', '--data-dir', dataDir, '--json']);
    const lib = JSON.parse(created.stdout);
    const server = await spawnServer(['--port', '0', '--data-dir', dataDir]);
    children.push(server);
    const client = new ObjectClient({ url: server.url, bucket: lib.bucket, credentials: lib });
    const body = bodyInFlight();
    const upload = client.request('PUT', 'slow.bin', {
      body: body.stream,
      headers: { 'content-length': String(body.total) },
    });
    upload.catch(() => {});
    await body.held;
    const exit = server.kill('SIGTERM');
    // Refused while the upload is still held open: the server stopped accepting before it drained.
    await waitFor(() => refused(server.port), WAIT_MS, 'new connections refused');
    body.release();
    const res = await upload;
    assert.equal(res.status, 200, await res.text());
    assert.equal(body.sent(), body.total);
    assert.equal(await exit, 0);
  });
});
