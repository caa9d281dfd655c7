// Backup and restore of the embedded deployment with real processes: `mediahost backup` of a server
// under writes (new objects, overwrites, deletes), `mediahost restore` into a new data dir, a server
// started there serves every object and SMH file of the snapshot with its bytes; `mediahost verify`
// finds nothing wrong, then, on a tampered store, the row whose blob is gone and the stray blob.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { md5Hex, ObjectClient, partBytes, xmlValues } from '../helpers/object-client.ts';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.ts';
import { bytesOf, createToken, MiB, SmhClient, uploadFile } from '../helpers/smh-client.ts';

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

function printed(output: string[], field: string): string {
  for (const line of output) {
    const m = new RegExp(`^\\s+${field}\\s+(\\S+)$`).exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`${field} not printed:\n${output.join('\n')}`);
}

/** Object bodies name their key and version, so any reader can tell which bytes it must get. */
const body = (key: string, version: number): Buffer =>
  bytesOf(`${key}@${version}`, 1000 + ((version * 7919) % 60_000));

interface Verify {
  rows: number;
  missing: { bucket: string; key: string; blobKey: string }[];
  strays: { blobKey: string }[];
  marker: { state: string };
}

describe('backup and restore', { timeout: 600_000 }, () => {
  const dirs: string[] = [];
  const children: ChildServer[] = [];

  after(async () => {
    for (const child of children) await child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const dir = (): string => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };

  it('a backup taken under writes restores into a server that serves every object and file', async () => {
    const source = dir();
    const server = await spawnServer(['--port', '0', '--data-dir', source]);
    children.push(server);
    const bucket = printed(server.output, 'bucket');
    const credentials = {
      accessKeyId: printed(server.output, 'accessKeyId'),
      secretAccessKey: printed(server.output, 'secretAccessKey'),
    };
    const library = {
      libraryId: printed(server.output, 'libraryId'),
      librarySecret: printed(server.output, 'librarySecret'),
    };
    const objects = new ObjectClient({ url: server.url, bucket, credentials });
    const put = async (key: string, version: number): Promise<void> => {
      const res = await objects.put(key, body(key, version), { 'x-cos-meta-version': String(version) });
      assert.equal(res.status, 200, await res.text());
    };
    for (let i = 0; i < 20; i++) await put(`seed/${i}.bin`, 1);
    // A multipart object: its blobs are its parts'.
    const uploadId = await objects.initiate('seed/parts.bin');
    const parts = [partBytes('parts', 1, MiB), partBytes('parts', 2, 5000)];
    const etags: { n: number; etag: string }[] = [];
    for (const [i, part] of parts.entries()) {
      const res = await objects.uploadPart('seed/parts.bin', uploadId, i + 1, part);
      assert.equal(res.status, 200);
      etags.push({ n: i + 1, etag: res.headers.get('etag')!.replaceAll('"', '') });
    }
    assert.equal((await objects.complete('seed/parts.bin', uploadId, etags)).status, 200);
    const smh = new SmhClient({
      url: server.url,
      libraryId: library.libraryId,
      token: await createToken(server.url, library, { grant: 'admin' }),
    });
    const files = new Map<string, Buffer>();
    assert.equal((await smh.mkdir('photos')).status, 201);
    for (let i = 0; i < 3; i++) {
      const data = bytesOf(`file ${i}`, 20_000 + i);
      await uploadFile(smh, `photos/${i}.jpg`, data);
      files.set(`photos/${i}.jpg`, data);
    }

    // Writes keep coming while the backup runs: new objects, overwrites and deletes (whose blobs the
    // server deletes at once).
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let round = 2; writing && round < 400; round++) {
        await put(`seed/${round % 20}.bin`, round);
        await put(`new/${round}.bin`, round);
        const del = await objects.request('DELETE', `new/${round - 1}.bin`);
        assert.equal(del.status, 204);
        writes += 3;
      }
    })();
    const backupDir = join(dir(), 'backup');
    const backedUp = await cli(['backup', '--data-dir', source, '--to', backupDir]);
    writing = false;
    await writer;
    assert.equal(backedUp.code, 0, backedUp.stderr);
    assert.match(backedUp.stdout, /backed up \d+ blobs/);
    assert.ok(writes > 0, 'the backup ran under writes');

    const manifest = JSON.parse(readFileSync(join(backupDir, 'backup.json'), 'utf8'));
    assert.deepEqual(manifest.missing, []);
    assert.equal(await server.kill('SIGTERM'), 0);

    const target = dir();
    const restored = await cli(['restore', '--from', backupDir, '--data-dir', target]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /the sweeper is paused/);
    const clean = await cli(['verify', '--data-dir', target, '--json']);
    assert.equal(clean.code, 0, clean.stderr);
    const report = JSON.parse(clean.stdout) as Verify;
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.strays, [], 'the backup holds only the blobs its database points to');

    const second = await spawnServer(['--port', '0', '--data-dir', target]);
    children.push(second);
    const again = new ObjectClient({ url: second.url, bucket, credentials });
    const listing = await again.request('GET', undefined, { query: { 'max-keys': '1000' } });
    const keys = xmlValues(await listing.text(), 'Key');
    for (let i = 0; i < 20; i++) assert.ok(keys.includes(`seed/${i}.bin`), `seed/${i}.bin`);
    for (const key of keys) {
      const got = await again.get(key);
      assert.equal(got.status, 200, key);
      if (key === 'seed/parts.bin') {
        assert.equal(md5Hex(got.body), md5Hex(Buffer.concat(parts)));
        continue;
      }
      const version = Number(got.res.headers.get('x-cos-meta-version'));
      assert.equal(md5Hex(got.body), md5Hex(body(key, version)), `${key} version ${version}`);
    }
    const smhAgain = smh.with({ url: second.url });
    for (const [path, data] of files)
      assert.equal(md5Hex((await smhAgain.download(path)).body), md5Hex(data));
    assert.equal(await second.kill('SIGTERM'), 0);

    // Tampering: one blob of a row gone, one file no row knows.
    const lostKey = 'seed/3.bin';
    const { stdout } = await cli(['verify', '--data-dir', target, '--json']);
    assert.ok((JSON.parse(stdout) as Verify).rows > 20);
    const db = new DatabaseSync(join(target, 'mediahost.db'), { readOnly: true });
    const row = db
      .prepare(
        'SELECT s.blob_key AS blob FROM object_segments s JOIN objects o ON o.id = s.object_id WHERE o.key = ?',
      )
      .get(lostKey) as { blob: string };
    db.close();
    rmSync(join(target, 'blobs', row.blob[0]!, row.blob));
    const stray = 'zz0000000000000000000000000stray';
    mkdirSync(join(target, 'blobs', 'z'), { recursive: true });
    writeFileSync(join(target, 'blobs', 'z', stray), 'nobody knows me');
    const tampered = await cli(['verify', '--data-dir', target, '--json']);
    assert.equal(tampered.code, 1, 'a row without its blob fails verify');
    const found = JSON.parse(tampered.stdout) as Verify;
    assert.deepEqual(
      found.missing.map((m) => [m.bucket, m.key, m.blobKey]),
      [[bucket, lostKey, row.blob]],
    );
    assert.deepEqual(
      found.strays.map((s) => s.blobKey),
      [stray],
    );
    const text = await cli(['verify', '--data-dir', target]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, new RegExp(`${bucket}/${lostKey}: blob ${row.blob}`));
  });

  it('restore refuses a data dir in use unless --force, which moves it aside; backup refuses other stores', async () => {
    const source = dir();
    const backupDir = join(dir(), 'b');
    // A data dir that a server has used once, backed up while stopped.
    const server = await spawnServer(['--port', '0', '--data-dir', source]);
    children.push(server);
    assert.equal(await server.kill('SIGTERM'), 0);
    assert.equal((await cli(['backup', '--data-dir', source, '--to', backupDir])).code, 0);
    const refused = await cli(['restore', '--from', backupDir, '--data-dir', source]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already holds a deployment; stop its server.*--force/);
    const forced = await cli(['restore', '--from', backupDir, '--data-dir', source, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /moved the previous data aside into .*pre-restore-/);
    const notBackup = await cli(['restore', '--from', source, '--data-dir', dir()]);
    assert.equal(notBackup.code, 2);
    assert.match(notBackup.stderr, /is not a whole mediahost backup/);
    const other = await cli([
      'backup',
      '--data-dir',
      source,
      '--to',
      dir(),
      '--database-url',
      'postgres://db.invalid/mediahost',
    ]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /back up the database and then the bucket/);
    const typo = await cli(['verify', '--data-dir', join(source, 'typo')]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /verify: there is no database at /);
    const resumed = await cli(['sweeper', 'resume', '--data-dir', source]);
    assert.equal(resumed.code, 0, resumed.stderr);
  });
});
