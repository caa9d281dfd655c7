// The lifecycle commands in scale-out mode: a node over a real PostgreSQL server and an external S3
// store (a second mediahost), the commands given the same MEDIAHOST_* environment. Secrets in the
// database URL stay out of the start log; deleting a library removes its SMH files and unfinished
// uploads from the external bucket, which no sweeper would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { cli, cliJson } from '../helpers/cli.ts';
import { ObjectClient, xmlValue } from '../helpers/object-client.ts';
import { type PostgresServer, postgresSkipReason, startPostgres } from '../helpers/postgres.ts';
import { scaleOutEnv } from '../helpers/scale-out.ts';
import { type ChildServer, spawnServer, startTestServer, type TestServer } from '../helpers/server.ts';
import { createToken, expectSmhError, MiB, putParts, SmhClient, uploadFile } from '../helpers/smh-client.ts';

/** Trust authentication ignores it, so the URL works; the log must not show it. */
const DB_PASSWORD = 'db-password-never-logged';

interface Created {
  libraryId: string;
  librarySecret: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

describe('library commands in scale-out mode (PostgreSQL, external S3 store)', {
  timeout: 300_000,
  skip: postgresSkipReason(),
}, () => {
  let pg: PostgresServer;
  let external: TestServer;
  let s3: S3Client;
  let node: ChildServer;
  let env: Record<string, string>;

  const listUnder = async (prefix: string) => {
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: external.bucket, Prefix: prefix }));
    const uploads = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: external.bucket, Prefix: prefix }),
    );
    return {
      objects: (objects.Contents ?? []).map((o) => o.Key),
      uploads: (uploads.Uploads ?? []).map((u) => u.Key),
    };
  };

  before(async () => {
    pg = await startPostgres();
    const db = new URL(await pg.createDatabase());
    db.password = DB_PASSWORD;
    external = await startTestServer();
    s3 = new S3Client({
      endpoint: external.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: external.accessKeyId, secretAccessKey: external.secretAccessKey },
    });
    // COS grants: one set of headers for every part, as putParts sends them.
    env = {
      ...scaleOutEnv(db.href, external),
      MEDIAHOST_WORKER_CONCURRENCY: '0',
      MEDIAHOST_S3_GRANT_SIGNATURE: 'cos',
    };
  });

  after(async () => {
    await node?.kill('SIGKILL');
    s3?.destroy();
    await external?.close();
    await pg?.stop();
  });

  it('migrate lists what it applied to an empty database; the node logs its configuration without the secrets', async () => {
    const migrated = await cli(['migrate'], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /^applied 001_objects\napplied 002_smh\napplied 003_jobs\n/);
    assert.match((await cli(['migrate'], env)).stdout, /nothing to apply/);

    node = await spawnServer(['--port', '0'], env);
    const output = node.output.join('\n');
    assert.ok(!output.includes(DB_PASSWORD), 'the database password is not logged');
    assert.ok(!output.includes(external.secretAccessKey), 'the S3 secret key is not logged');
    const starting = node.output
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; config?: Record<string, unknown> })
      .find((l) => l.msg === 'mediahost is starting');
    assert.ok(starting?.config, output);
    const logged = new URL(String(starting.config.databaseUrl));
    assert.equal(decodeURIComponent(logged.password), '[REDACTED]');
    assert.equal(
      logged.host,
      new URL(env.MEDIAHOST_DATABASE_URL!).host,
      'where the database is stays visible',
    );
    assert.equal(starting.config.s3SecretAccessKey, '[REDACTED]');
    assert.equal(starting.config.s3AccessKeyId, external.accessKeyId, 'a key id is not a secret');
  });

  it('rotate-secret and rotate-keys take effect on the node at once', async () => {
    const lib = await cliJson<Created>(['library', 'create', '--name', 'rotating'], env);
    const secret = await cliJson<{ librarySecret: string }>(['library', 'rotate-secret', lib.libraryId], env);
    const query = new URLSearchParams({ library_id: lib.libraryId, library_secret: lib.librarySecret });
    await expectSmhError(await fetch(`${node.url}/api/v1/token?${query}`), 404, 'WrongLibraryIdOrSecret');
    await createToken(node.url, { ...lib, librarySecret: secret.librarySecret }, { grant: 'admin' });

    const keys = await cliJson<Created>(['library', 'rotate-keys', lib.libraryId], env);
    const old = await new ObjectClient({ url: node.url, bucket: lib.bucket, credentials: lib }).get('x');
    assert.equal(old.status, 403);
    assert.equal(xmlValue(old.body.toString(), 'Code'), 'InvalidAccessKeyId');
    const fresh = new ObjectClient({ url: node.url, bucket: lib.bucket, credentials: keys });
    assert.equal((await fresh.put('x', Buffer.from('x'))).status, 200);
  });

  it('delete --force removes the SMH files and unfinished uploads from the external bucket, and the rows', async () => {
    const kept = await cliJson<Created>(['library', 'create', '--name', 'kept'], env);
    const keptSmh = new SmhClient({
      url: node.url,
      libraryId: kept.libraryId,
      token: await createToken(node.url, kept, { grant: 'admin' }),
    });
    await uploadFile(keptSmh, 'stays.bin', Buffer.from('another library'));
    const lib = await cliJson<Created>(['library', 'create', '--name', 'media'], env);
    const token = await createToken(node.url, lib, { grant: 'admin' });
    const smh = new SmhClient({ url: node.url, libraryId: lib.libraryId, token });
    await uploadFile(smh, 'a.bin', Buffer.from('first file'));
    await uploadFile(smh, 'b.bin', Buffer.from('second file'));
    const pending = await smh.beginTask('multipart', 'unfinished.bin');
    await putParts(pending, [Buffer.alloc(5 * MiB, 1)]);
    const prefix = `files/${lib.libraryId}/`;
    const before = await listUnder(prefix);
    assert.equal(before.objects.length, 2, 'two SMH files in the bucket');
    assert.equal(before.uploads.length, 1, 'one unfinished upload');
    const other = await listUnder('files/');
    assert.ok(other.objects.some((k) => k?.startsWith(`files/${kept.libraryId}/`)));

    const listed = await cliJson<{ libraryId: string; contents: Record<string, number> }[]>(
      ['library', 'list'],
      env,
    );
    const entry = listed.find((l) => l.libraryId === lib.libraryId)!;
    assert.equal(entry.contents.files, 2);
    assert.equal(entry.contents.uploadTasks, 1);

    const refused = await cli(['library', 'delete', lib.libraryId, '--yes'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /2 files.*1 upload task/);
    assert.deepEqual(await listUnder(prefix), before, 'a refused delete touches nothing');

    const deleted = await cli(['library', 'delete', lib.libraryId, '--force', '--yes'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(await listUnder(prefix), { objects: [], uploads: [] });
    const left = await listUnder('files/');
    assert.deepEqual(
      left.objects,
      other.objects.filter((k) => !k?.startsWith(prefix)),
      "other libraries' files stay",
    );
    assert.equal((await keptSmh.download('stays.bin')).body.toString(), 'another library');
    const remaining = await cliJson<{ libraryId: string }[]>(['library', 'list'], env);
    assert.ok(!remaining.some((l) => l.libraryId === lib.libraryId));
    await expectSmhError(await smh.list(''), 403, 'InvalidAccessToken');
  });
});
