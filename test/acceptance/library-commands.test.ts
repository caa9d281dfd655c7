// The operator's lifecycle commands against a running server on an embedded data dir (SQLite): the
// version everywhere it should be, the start log without secrets, `migrate` saying what it applied,
// and `library list | delete | rotate-secret | rotate-keys` taking effect on the server at once.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blobFiles } from '../helpers/blob-files.ts';
import { cli, cliJson } from '../helpers/cli.ts';
import { ObjectClient, xmlValue } from '../helpers/object-client.ts';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.ts';
import {
  createToken,
  expectJson,
  expectSmhError,
  SmhClient,
  uploadFile,
  waitFor,
} from '../helpers/smh-client.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** Given to the server although it stores bytes in files: the log must hide it all the same. */
const S3_SECRET = 'never-log-this-s3-secret-0123456789';

interface Created {
  libraryId: string;
  librarySecret: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

interface Listed {
  libraryId: string;
  name: string;
  bucket: string;
  multiTenant: boolean;
  createdAt: string;
  accessKeyIds: string[];
  contents: Record<string, number>;
}

/** The JSON log line with this message. */
function logLine(output: string[], msg: string): Record<string, unknown> {
  for (const line of output) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg === msg) return entry;
  }
  assert.fail(`no log line "${msg}" in:\n${output.join('\n')}`);
}

/** Status and error code of a GET with the object API. */
async function objectError(
  got: Promise<{ status: number; body: Buffer }>,
): Promise<{ status: number; code: string | undefined }> {
  const { status, body } = await got;
  return { status, code: xmlValue(body.toString(), 'Code') };
}

describe('library commands, version and start log (SQLite data dir)', { timeout: 300_000 }, () => {
  let dataDir: string;
  let server: ChildServer;
  const dirs: string[] = [];
  const store = (): string[] => ['--data-dir', dataDir];
  const list = async (): Promise<Listed[]> => cliJson<Listed[]>(['library', 'list', ...store()]);
  const create = async (name: string, ...flags: string[]): Promise<Created> =>
    cliJson<Created>(['library', 'create', '--name', name, ...flags, ...store()]);

  before(async () => {
    dataDir = tempDir();
    dirs.push(dataDir);
    // A short sweep so that a deleted library's blobs go soon; a grace that no write of these tests
    // outlasts, since the sweeper also removes temporary files of writes older than the grace.
    server = await spawnServer(
      ['--port', '0', '--data-dir', dataDir, '--sweep-interval-seconds', '1', '--orphan-grace-seconds', '10'],
      { MEDIAHOST_S3_SECRET_ACCESS_KEY: S3_SECRET },
    );
  });

  after(async () => {
    await server?.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('--version prints the package version; /healthz and the start log carry it, and the configuration without secrets', async () => {
    const version = await cli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), VERSION);

    const health = await expectJson<{ status: string; version: string }>(
      await fetch(`${server.url}/healthz`),
      200,
    );
    assert.equal(health.version, VERSION);

    const starting = logLine(server.output, 'mediahost is starting');
    assert.equal(starting.version, VERSION);
    const config = starting.config as Record<string, unknown>;
    assert.equal(config.dataDir, dataDir);
    assert.equal(config.sweepIntervalSeconds, 1);
    assert.equal(config.blob, 'fs');
    assert.equal(config.s3SecretAccessKey, '[REDACTED]', 'a secret setting is logged hidden');
    assert.equal(logLine(server.output, 'mediahost is listening').version, VERSION);
    assert.ok(!server.output.join('\n').includes(S3_SECRET), 'the secret appears nowhere in the output');
  });

  it('migrate lists the migrations it applied, then says there was nothing to apply', async () => {
    const fresh = tempDir();
    dirs.push(fresh);
    const expected = readdirSync(join(ROOT, 'src', 'adapters', 'metadata', 'sqlite', 'migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => `applied ${f.replace(/\.sql$/, '')}`);
    assert.ok(expected.length > 0);
    const first = await cli(['migrate', '--data-dir', fresh]);
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, -1), expected);
    assert.match(lines.at(-1)!, /schema is up to date/);
    const second = await cli(['migrate', '--data-dir', fresh]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already up to date; nothing to apply/);
    assert.doesNotMatch(second.stdout, /applied/);
  });

  it('library list shows every library with its bucket, mode, creation time, key id and contents', async () => {
    const photos = await create('photos');
    const tenants = await create('tenants', '--multi-tenant');
    const objects = new ObjectClient({ url: server.url, bucket: photos.bucket, credentials: photos });
    assert.equal((await objects.put('a.jpg', Buffer.from('jpeg'))).status, 200);

    const listed = await list();
    const byName = new Map(listed.map((l) => [l.name, l]));
    assert.deepEqual(
      listed.map((l) => l.name),
      ['default', 'photos', 'tenants'],
      'oldest first',
    );
    const p = byName.get('photos')!;
    assert.equal(p.libraryId, photos.libraryId);
    assert.equal(p.bucket, photos.bucket);
    assert.equal(p.multiTenant, false);
    assert.ok(Math.abs(Date.parse(p.createdAt) - Date.now()) < 600_000, p.createdAt);
    assert.deepEqual(p.accessKeyIds, [photos.accessKeyId]);
    assert.equal(p.contents.objects, 1);
    assert.equal(p.contents.spaces, 1, 'the implicit space "-"');
    assert.equal(p.contents.files, 0);
    assert.equal(byName.get('tenants')!.multiTenant, true);
    assert.equal(byName.get('tenants')!.contents.spaces, 0);
    assert.deepEqual(byName.get('tenants')!.accessKeyIds, [tenants.accessKeyId]);

    const table = await cli(['library', 'list', ...store()]);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trim().split('\n');
    assert.match(header!, /^ID\s+NAME\s+BUCKET\s+MODE\s+CREATED\s+SPACES\s+FILES\s+OBJECTS$/);
    assert.ok(rows.some((r) => r.includes(photos.libraryId) && /\bsingle-space\b/.test(r)));
    assert.ok(rows.some((r) => r.includes(tenants.libraryId) && /\bmulti-space\b/.test(r)));
  });

  it('rotate-secret: the old secret is refused at once; tokens made with it stay unless --revoke-tokens', async () => {
    const lib = await create('secrets');
    const before = await createToken(server.url, lib, { grant: 'admin' });
    const rotated = await cliJson<{ libraryId: string; librarySecret: string; tokensRevoked: number }>([
      'library',
      'rotate-secret',
      lib.libraryId,
      ...store(),
    ]);
    assert.equal(rotated.libraryId, lib.libraryId);
    assert.notEqual(rotated.librarySecret, lib.librarySecret);
    assert.equal(rotated.tokensRevoked, 0);

    const query = (secret: string) =>
      new URLSearchParams({ library_id: lib.libraryId, library_secret: secret, grant: 'admin' });
    await expectSmhError(
      await fetch(`${server.url}/api/v1/token?${query(lib.librarySecret)}`),
      404,
      'WrongLibraryIdOrSecret',
    );
    const fresh = await createToken(
      server.url,
      { ...lib, librarySecret: rotated.librarySecret },
      { grant: 'admin' },
    );
    const smh = (token: string) => new SmhClient({ url: server.url, libraryId: lib.libraryId, token });
    assert.equal((await smh(before).list('')).status, 200, 'a token made with the old secret stays valid');

    const again = await cliJson<{ librarySecret: string; tokensRevoked: number }>([
      'library',
      'rotate-secret',
      lib.libraryId,
      '--revoke-tokens',
      ...store(),
    ]);
    assert.equal(again.tokensRevoked, 2);
    await expectSmhError(await smh(before).list(''), 403, 'InvalidAccessToken');
    await expectSmhError(await smh(fresh).list(''), 403, 'InvalidAccessToken');
    await expectSmhError(
      await fetch(`${server.url}/api/v1/token?${query(rotated.librarySecret)}`),
      404,
      'WrongLibraryIdOrSecret',
    );
    await createToken(server.url, { ...lib, librarySecret: again.librarySecret }, { grant: 'admin' });
  });

  it('rotate-keys: the old key pair is refused at once (InvalidAccessKeyId), the new one works, SMH downloads are untouched', async () => {
    const lib = await create('keys');
    const old = new ObjectClient({ url: server.url, bucket: lib.bucket, credentials: lib });
    assert.equal((await old.put('k.txt', Buffer.from('kept'))).status, 200);
    const smh = new SmhClient({
      url: server.url,
      libraryId: lib.libraryId,
      token: await createToken(server.url, lib, { grant: 'admin' }),
    });
    await uploadFile(smh, 'clip.bin', Buffer.from('smh bytes'));
    // The first download makes the internal key that signs download URLs: it must survive rotation.
    assert.equal((await smh.download('clip.bin')).body.toString(), 'smh bytes');

    const rotated = await cliJson<{
      accessKeyId: string;
      secretAccessKey: string;
      bucket: string;
      revokedAccessKeyIds: string[];
    }>(['library', 'rotate-keys', lib.libraryId, ...store()]);
    assert.deepEqual(rotated.revokedAccessKeyIds, [lib.accessKeyId], 'only the key pair the user held');
    assert.equal(rotated.bucket, lib.bucket);

    assert.deepEqual(await objectError(old.get('k.txt')), {
      status: 403,
      code: 'InvalidAccessKeyId',
    });
    const fresh = new ObjectClient({ url: server.url, bucket: lib.bucket, credentials: rotated });
    assert.equal((await fresh.get('k.txt')).body.toString(), 'kept');
    assert.equal((await smh.download('clip.bin')).body.toString(), 'smh bytes');
    const listed = (await list()).find((l) => l.libraryId === lib.libraryId)!;
    assert.deepEqual(listed.accessKeyIds, [rotated.accessKeyId], 'the SMH download key is not listed');
  });

  it('delete refuses a library holding anything unless --force, asks for --yes off a terminal, then removes it all; the sweeper reclaims its bytes', async () => {
    const before = new Set(blobFiles(dataDir).blobs);
    const lib = await create('doomed');
    const objects = new ObjectClient({ url: server.url, bucket: lib.bucket, credentials: lib });
    assert.equal((await objects.put('o.bin', Buffer.from('object bytes'))).status, 200);
    const token = await createToken(server.url, lib, { grant: 'admin' });
    const smh = new SmhClient({ url: server.url, libraryId: lib.libraryId, token });
    assert.equal((await smh.mkdir('dir')).status, 201);
    await uploadFile(smh, 'dir/file.bin', Buffer.from('file bytes'));
    const written = blobFiles(dataDir).blobs.filter((b) => !before.has(b));
    assert.ok(written.length >= 2, 'the object and the file each have a blob');

    const unforced = await cli(['library', 'delete', lib.libraryId, '--yes', ...store()]);
    assert.equal(unforced.code, 2);
    assert.match(unforced.stderr, /is not empty: it holds .*1 file, 1 directory, 2 objects.*--force/);
    const unconfirmed = await cli(['library', 'delete', lib.libraryId, '--force', ...store()]);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /not a terminal: confirm with --yes/);
    assert.ok(
      (await list()).some((l) => l.libraryId === lib.libraryId),
      'nothing deleted yet',
    );

    const deleted = await cliJson<{ libraryId: string; deleted: Record<string, number> }>([
      'library',
      'delete',
      lib.libraryId,
      '--force',
      '--yes',
      ...store(),
    ]);
    assert.equal(deleted.libraryId, lib.libraryId);
    assert.equal(deleted.deleted.files, 1);
    assert.equal(deleted.deleted.directories, 1);
    assert.ok(!(await list()).some((l) => l.libraryId === lib.libraryId));

    assert.deepEqual(await objectError(objects.get('o.bin')), {
      status: 403,
      code: 'InvalidAccessKeyId',
    });
    await expectSmhError(await smh.list(''), 403, 'InvalidAccessToken');
    const query = new URLSearchParams({ library_id: lib.libraryId, library_secret: lib.librarySecret });
    await expectSmhError(await fetch(`${server.url}/api/v1/token?${query}`), 404, 'WrongLibraryIdOrSecret');
    // The running server's sweeper removes the blobs no row points to any more.
    await waitFor(
      () => {
        const now = new Set(blobFiles(dataDir).blobs);
        return written.every((b) => !now.has(b));
      },
      120_000,
      'the deleted library’s blobs reclaimed',
    );

    const again = await cli(['library', 'delete', lib.libraryId, '--yes', ...store()]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, new RegExp(`There is no library ${lib.libraryId}`));
  });

  it('an empty library is deleted without --force', async () => {
    const empty = await create('empty', '--multi-tenant');
    const result = await cli(['library', 'delete', empty.libraryId, '--yes', ...store()]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /deleted\s+empty/);
    assert.ok(!(await list()).some((l) => l.libraryId === empty.libraryId));
  });
});
