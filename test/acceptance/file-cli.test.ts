// The file commands (`mediahost upload | download | ls | mv | rm | token`) as a user runs them: the
// real CLI in child processes against a real server over HTTP, through a proxy that can hold part
// uploads so that an interrupted upload is caught part-way, then resumed by running it again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, childEnv, jsonLines, type Result, run, start } from '../helpers/cli-process.ts';
import { type PartGateProxy, startPartGateProxy } from '../helpers/part-gate-proxy.ts';
import { startTestServer, type TestServer, tempDir, testClock } from '../helpers/server.ts';
import {
  bytesOf,
  createToken,
  expectJson,
  MiB,
  md5Hex,
  SmhClient,
  type TaskStatus,
  waitFor,
} from '../helpers/smh-client.ts';

function ok(result: Result): Result {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

describe('file commands', () => {
  let server: TestServer;
  let proxy: PartGateProxy;
  let smh: SmhClient;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    proxy = await startPartGateProxy();
    // Part and download URLs point at the proxy, so the proxy sees every part the CLI sends.
    server = await startTestServer({ publicUrl: proxy.url });
    // server.url is the public URL, the proxy's; the server itself listens on server.port.
    const direct = `http://127.0.0.1:${server.port}`;
    proxy.target = direct;
    work = tempDir('mediahost-file-cli-');
    env = {
      HOME: join(work, 'home'),
      MEDIAHOST_URL: proxy.url,
      MEDIAHOST_LIBRARY_ID: server.libraryId,
      MEDIAHOST_LIBRARY_SECRET: server.librarySecret,
    };
    mkdirSync(env.HOME!, { recursive: true });
    const token = await createToken(direct, server, { grant: 'admin' });
    smh = new SmhClient({ url: direct, libraryId: server.libraryId, token });
  });

  after(async () => {
    await server?.close();
    await proxy?.close();
  });

  const local = (...names: string[]) => join(work, ...names);
  const stateFiles = () => readdirSync(join(env.HOME!, '.config', 'mediahost', 'uploads'));
  const download = async (remote: string): Promise<Buffer> => {
    const to = local(`download-${Math.random().toString(36).slice(2)}`);
    ok(await run(['download', remote, to], env));
    return readFileSync(to);
  };

  it('uploads a tree and files, lists, downloads, moves and removes them; --json for scripts', async () => {
    const tree = local('tree');
    mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(tree, 'empty'));
    const big = bytesOf('tree-big', 9 * MiB + 4321);
    writeFileSync(join(tree, 'a.txt'), 'hello\n');
    writeFileSync(join(tree, 'sub', 'deeper', 'big.bin'), big);
    writeFileSync(join(tree, 'sub', 'nothing'), '');
    const single = bytesOf('single', 123_456);
    writeFileSync(local('single.bin'), single);

    const up = ok(
      await run(['upload', tree, local('single.bin'), '/photos/2026/', '--json', '--part-size', '4M'], env),
    );
    const events = jsonLines(up);
    assert.deepEqual(events[0], { event: 'start', files: 4, bytes: 6 + big.length + 123_456 });
    const files = events.filter((e) => e.event === 'file');
    assert.deepEqual(files.map((e) => [e.remote, e.status, e.size]).sort(), [
      ['/photos/2026/single.bin', 'uploaded', 123_456],
      ['/photos/2026/tree/a.txt', 'uploaded', 6],
      ['/photos/2026/tree/sub/deeper/big.bin', 'uploaded', big.length],
      ['/photos/2026/tree/sub/nothing', 'uploaded', 0],
    ]);
    const bigTask = events.find(
      (e) => e.event === 'task' && e.remote === '/photos/2026/tree/sub/deeper/big.bin',
    );
    assert.equal(bigTask?.parts, 3, '9 MiB in parts of 4 MiB');
    assert.deepEqual(events.at(-1), { event: 'done', uploaded: 4, skipped: 0, failed: 0 });
    assert.deepEqual(stateFiles(), [], 'finished uploads leave no state behind');

    const listed = jsonLines(ok(await run(['ls', '/photos/2026/tree/', '--json'], env)));
    assert.deepEqual(
      listed.map((e) => [e.path, e.type]),
      [
        ['/photos/2026/tree/empty/', 'dir'],
        ['/photos/2026/tree/sub/', 'dir'],
        ['/photos/2026/tree/a.txt', 'file'],
      ],
    );
    const human = ok(await run(['ls', '/photos/2026/tree/sub/deeper'], env)).stdout;
    assert.match(human, /9\.0 MiB .* big\.bin/);

    assert.equal(md5Hex(await download('/photos/2026/tree/sub/deeper/big.bin')), md5Hex(big));
    assert.equal(md5Hex(await download('/photos/2026/single.bin')), md5Hex(single));
    mkdirSync(local('into'));
    ok(await run(['download', '/photos/2026/tree/a.txt', local('into')], env));
    assert.equal(readFileSync(local('into', 'a.txt'), 'utf8'), 'hello\n');

    // Running it again finds every file there with the same content.
    const again = jsonLines(
      ok(await run(['upload', tree, local('single.bin'), '/photos/2026/', '--json'], env)),
    );
    assert.deepEqual(again.at(-1), { event: 'done', uploaded: 0, skipped: 4, failed: 0 });

    ok(await run(['mv', '/photos/2026/single.bin', '/photos/2026/tree/'], env));
    const renamed = jsonLines(
      ok(await run(['mv', '/photos/2026/tree/single.bin', '/photos/2026/tree/renamed.bin', '--json'], env)),
    );
    assert.deepEqual(renamed, [
      {
        event: 'moved',
        from: '/photos/2026/tree/single.bin',
        to: '/photos/2026/tree/renamed.bin',
        type: 'file',
      },
    ]);
    ok(await run(['mv', '/photos/2026/tree/sub', '/archive'], env));
    assert.equal(md5Hex(await download('/archive/deeper/big.bin')), md5Hex(big));

    const notEmpty = await run(['rm', '/archive/'], env);
    assert.equal(notEmpty.code, 1);
    assert.match(notEmpty.stderr, /DirectoryNotEmpty.*add -r/);
    ok(await run(['rm', '/photos/2026/tree/renamed.bin'], env));
    const removed = jsonLines(ok(await run(['rm', '-r', '/archive/', '--json'], env)));
    assert.deepEqual(removed, [{ event: 'removed', path: '/archive/', type: 'dir' }]);
    const gone = await run(['ls', '/archive/'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /SMH DirectoryNotFound, HTTP 404/);
    const missing = await run(['download', '/photos/2026/tree/renamed.bin', local('x')], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /SMH FileNotFound, HTTP 404/);
  });

  it('makes tokens, and works with one instead of the secret', async () => {
    const made = jsonLines(ok(await run(['token', '--json'], env)))[0]!;
    assert.match(String(made.accessToken), /^acctk/);
    assert.equal(made.expiresIn, 86400);
    const tokenEnv = { ...env, MEDIAHOST_TOKEN: String(made.accessToken), MEDIAHOST_LIBRARY_SECRET: '' };
    delete (tokenEnv as Record<string, string | undefined>).MEDIAHOST_LIBRARY_SECRET;
    ok(await run(['ls', '/'], tokenEnv));
    // The token grants reading only: SMH says so, and the CLI passes it on.
    writeFileSync(local('token.txt'), 'x');
    const refused = await run(['upload', local('token.txt'), '/'], tokenEnv);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /SMH NoPermission, HTTP 403/);
    const admin = ok(await run(['token', '--grant', 'admin'], env)).stdout.trim();
    ok(await run(['upload', local('token.txt'), '/', '--token', admin], tokenEnv));
    const needsSecret = await run(['token'], tokenEnv);
    assert.equal(needsSecret.code, 2);
    assert.match(needsSecret.stderr, /library secret/);
  });

  it('names usage errors (exit 2), conflicts and unreachable servers (exit 1)', async () => {
    const noLibrary = await run(['ls', '/'], { ...env, MEDIAHOST_LIBRARY_ID: '' });
    assert.equal(noLibrary.code, 2);
    assert.match(noLibrary.stderr, /no library: give --library-id or MEDIAHOST_LIBRARY_ID/);
    assert.equal((await run(['upload', local('nowhere.bin'), '/x/'], env)).code, 2);
    assert.equal((await run(['upload', '/'], env)).code, 2);
    assert.equal((await run(['ls', '/', '--parallel', '3'], env)).code, 2);
    const badSize = await run(['upload', local('token.txt'), '/', '--part-size', '100k'], env);
    assert.equal(badSize.code, 2);
    assert.match(badSize.stderr, /1 MiB to 5 GiB/);

    writeFileSync(local('c.txt'), 'first');
    ok(await run(['upload', local('c.txt'), '/conflict/'], env));
    writeFileSync(local('c.txt'), 'second, longer');
    const conflict = await run(['upload', local('c.txt'), '/conflict/'], env);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /SMH SameNameDirectoryOrFileExists, HTTP 409/);
    const renamed = jsonLines(
      ok(await run(['upload', local('c.txt'), '/conflict/', '--conflict', 'rename', '--json'], env)),
    );
    assert.equal(renamed.find((e) => e.event === 'file')?.remote, '/conflict/c (1).txt');

    const closed = await startPartGateProxy();
    await closed.close();
    const unreachable = await run(['ls', '/'], { ...env, MEDIAHOST_URL: closed.url });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    const defaulted = await run(['ls', '/'], { ...env, MEDIAHOST_URL: '' });
    assert.match(defaulted.stderr, /using http:\/\/127\.0\.0\.1:8080, where mediahost serve listens/);
  });

  it('reads a config file below flags and variables, and refuses one with a secret others can read', async () => {
    const config = local('cli.json');
    const fileEnv = { HOME: env.HOME!, MEDIAHOST_CLI_CONFIG: config };
    writeFileSync(
      config,
      JSON.stringify({ url: proxy.url, libraryId: server.libraryId, librarySecret: server.librarySecret }),
    );
    chmodSync(config, 0o644);
    const readable = await run(['ls', '/'], fileEnv);
    assert.equal(readable.code, 2);
    assert.match(readable.stderr, /holds a secret and others may read it \(mode 644\): chmod 600/);
    chmodSync(config, 0o600);
    ok(await run(['ls', '/'], fileEnv));
    // A variable beats the file, a flag beats the variable.
    const wrong = await run(['ls', '/'], { ...fileEnv, MEDIAHOST_LIBRARY_ID: 'smhnosuchlibrary' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /SMH WrongLibraryIdOrSecret/);
    ok(
      await run(['ls', '/', '--library-id', server.libraryId], {
        ...fileEnv,
        MEDIAHOST_LIBRARY_ID: 'smhnosuchlibrary',
      }),
    );
    writeFileSync(config, JSON.stringify({ url: proxy.url, library: 'x' }));
    const unknown = await run(['ls', '/'], fileEnv);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown key "library"/);
  });

  it('resumes a 50 MiB upload killed with SIGKILL, sending only the parts the server lacks', async () => {
    const data = bytesOf('resume-50', 50 * MiB);
    writeFileSync(local('fifty.bin'), data);
    const args = ['upload', local('fifty.bin'), '/resume/', '--json', '--part-size', '1M', '--parallel', '4'];
    proxy.reset();
    proxy.allow(7);
    const first = start(args, env);
    await waitFor(
      () => proxy.completed.length === 7 && proxy.held() > 0,
      undefined,
      'seven parts stored, the next held',
    );
    const task = first.events().find((e) => e.event === 'task');
    assert.ok(task, 'the task was announced');
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, null);
    assert.equal(stateFiles().length, 1, 'the task is remembered');

    const status = await expectJson<TaskStatus>(await smh.status(String(task.confirmKey)), 200);
    const stored = status.parts!.map((p) => p.PartNumber).sort((a, b) => a - b);
    assert.deepEqual(
      stored,
      [...proxy.completed].sort((a, b) => a - b),
    );

    proxy.reset();
    proxy.allow(Number.POSITIVE_INFINITY);
    const second = await run(args, env);
    ok(second);
    const sent = [...proxy.forwarded].sort((a, b) => a - b);
    const all = Array.from({ length: 50 }, (_, i) => i + 1);
    assert.deepEqual(
      sent,
      all.filter((n) => !stored.includes(n)),
      'exactly the missing parts went out',
    );
    const events = jsonLines(second);
    assert.deepEqual(
      events.filter((e) => e.event === 'task').map((e) => [e.confirmKey, e.resumed, e.partsDone]),
      [[task.confirmKey, true, 7]],
    );
    const file = events.find((e) => e.event === 'file');
    assert.equal(file?.partsSent, 43);
    assert.equal(file?.partsResumed, 7);
    assert.deepEqual(stateFiles(), []);
    assert.equal(md5Hex(await download('/resume/fifty.bin')), md5Hex(data));
  });

  /** The state file of the upload in progress to `remotePath`, if any. */
  const recordFor = (remotePath: string): { confirmKey: string } | undefined =>
    stateFiles()
      .map((f) => JSON.parse(readFileSync(join(env.HOME!, '.config', 'mediahost', 'uploads', f), 'utf8')))
      .find((r) => r.remotePath === remotePath);

  /** Runs `args`, lets `parts` parts through, then Ctrl-C: the task is kept with those parts. */
  const interrupted = async (args: string[], remotePath: string, parts: number) => {
    proxy.reset();
    proxy.allow(parts);
    const running = start(args, env);
    await waitFor(
      () => proxy.completed.length === parts && proxy.held() > 0 && recordFor(remotePath) !== undefined,
      undefined,
      `${parts} parts stored, the next held`,
    );
    running.child.kill('SIGINT');
    assert.equal(await running.exited, 130);
    const { confirmKey } = recordFor(remotePath)!;
    const status = await expectJson<TaskStatus>(await smh.status(confirmKey), 200);
    const stored = status.parts!.map((p) => p.PartNumber).sort((a, b) => a - b);
    assert.equal(stored.length, parts, 'the task and its parts are still there');
    proxy.reset();
    proxy.allow(Number.POSITIVE_INFINITY);
    return { running, confirmKey, stored };
  };

  it('stops cleanly on one Ctrl-C, keeps the task, and resumes it when run again', async () => {
    const data = bytesOf('interrupt', 12 * MiB + 5);
    writeFileSync(local('twelve.bin'), data);
    const args = ['upload', local('twelve.bin'), '/interrupt/', '--part-size', '1M', '--parallel', '2'];
    const { running, stored } = await interrupted(args, '/interrupt/twelve.bin', 3);
    const stderr = running.stderr.join('');
    assert.match(stderr, /stopping: the parts in flight are dropped, the upload tasks kept/);
    assert.match(stderr, /stopped with 1 file\(s\) left: run the same command again to resume/);
    const again = jsonLines(ok(await run([...args, '--json'], env)));
    const all = Array.from({ length: 13 }, (_, i) => i + 1);
    assert.deepEqual(
      [...proxy.forwarded].sort((a, b) => a - b),
      all.filter((n) => !stored.includes(n)),
    );
    assert.equal(again.find((e) => e.event === 'file')?.partsResumed, 3);
    assert.equal(md5Hex(await download('/interrupt/twelve.bin')), md5Hex(data));
    assert.equal(recordFor('/interrupt/twelve.bin'), undefined);
  });

  it('starts over when the local file changed since the interrupted upload, cancelling the old task', async () => {
    const data = bytesOf('changing', 6 * MiB);
    writeFileSync(local('changing.bin'), data);
    const args = [
      'upload',
      local('changing.bin'),
      '/changing/',
      '--part-size',
      '1M',
      '--parallel',
      '2',
      '--json',
    ];
    const { running, confirmKey } = await interrupted(args, '/changing/changing.bin', 2);
    assert.deepEqual(running.events().at(-1), {
      event: 'stopped',
      uploaded: 0,
      skipped: 0,
      failed: 0,
      left: 1,
    });
    const changed = Buffer.concat([data, Buffer.from('more')]);
    writeFileSync(local('changing.bin'), changed);
    const events = jsonLines(ok(await run(args, env)));
    assert.ok(
      events.some(
        (e) =>
          e.event === 'note' &&
          /not the one of the interrupted upload; starting over/.test(String(e.message)),
      ),
    );
    assert.equal(proxy.forwarded.length, 7);
    assert.equal((await smh.status(confirmKey)).status, 404, 'the old task was cancelled');
    assert.equal(md5Hex(await download('/changing/changing.bin')), md5Hex(changed));
  });

  it('renews signed part URLs the store refuses as expired, and sends the part again', async () => {
    const clock = testClock();
    const gate = await startPartGateProxy();
    const expiring = await startTestServer({ publicUrl: gate.url, uploadCredentialSeconds: 600 }, { clock });
    gate.target = `http://127.0.0.1:${expiring.port}`;
    try {
      const data = bytesOf('renew', 4 * MiB + 99);
      writeFileSync(local('renew.bin'), data);
      gate.allow(2);
      const upload = start(
        ['upload', local('renew.bin'), '/renew/', '--part-size', '1M', '--parallel', '1'],
        {
          ...env,
          MEDIAHOST_URL: gate.url,
          MEDIAHOST_LIBRARY_ID: expiring.libraryId,
          MEDIAHOST_LIBRARY_SECRET: expiring.librarySecret,
        },
      );
      await waitFor(() => gate.completed.length === 2 && gate.held() === 1, undefined, 'part 3 held');
      // The server's clock passes the URLs' expiry while part 3 waits: the store refuses it.
      clock.advance(700_000);
      gate.release();
      assert.equal(await upload.exited, 0, upload.stderr.join(''));
      assert.deepEqual(
        gate.forwarded,
        [1, 2, 3, 3, 4, 5],
        'part 3 refused once, then sent with a renewed URL',
      );
      assert.deepEqual(gate.completed, [1, 2, 3, 4, 5]);
    } finally {
      await expiring.close();
      await gate.close();
    }
  });

  it('draws a bar per file and a total with rate and ETA on a terminal', async () => {
    writeFileSync(local('tty.bin'), bytesOf('tty', 3 * MiB));
    const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const cli = [process.execPath, CLI, 'upload', local('tty.bin'), '/tty/', '--part-size', '1M'];
    // A terminal of 120 columns: script's own has none, and the bars would be cut at 80.
    const command = `stty cols 120; exec ${cli.map(quote).join(' ')}`;
    // util-linux script(1) runs the CLI on a pseudo-terminal; -e passes its exit code on.
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /█+ 100% total 3\.0 MiB\/3\.0 MiB [\d.]+ [KMG]?i?B\/s ETA 0s 1\/1 files/);
    assert.match(output, /█+ 100% \S*tty\.bin 3\.0 MiB\/3\.0 MiB/);
    assert.match(output, /uploaded .*tty\.bin -> \/tty\/tty\.bin \(3\.0 MiB\)/);
  });
});
