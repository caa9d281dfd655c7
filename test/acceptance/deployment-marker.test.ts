// One blob store per database: a second deployment pointed at the same blob store (the data dir's
// blobs, or the same bucket and prefix) with another database refuses to start, naming both
// settings, and the first one's data stays whole. A store without a marker is claimed by the database
// that knows its data (an upgrade), refused to one that does not, unless --adopt-blob-store. The
// sweeper deletes nothing while paused.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeploymentConflictError, SWEEPER_PAUSED } from '../../src/app/deployment.ts';
import { type RunningServer, startServer } from '../../src/app/lifecycle.ts';
import { verify } from '../../src/app/verify.ts';
import { defaultConfig } from '../../src/config/load.ts';
import type { BlobKey, BucketName } from '../../src/core/ids.ts';
import { md5Hex, ObjectClient } from '../helpers/object-client.ts';
import { type PostgresServer, postgresSkipReason, startPostgres } from '../helpers/postgres.ts';
import { scaleOutConfig } from '../helpers/scale-out.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { bytesOf, createToken, SmhClient, uploadFile } from '../helpers/smh-client.ts';

const MARKER = '.mediahost-deployment';

function objectClient(server: RunningServer): ObjectClient {
  const created = server.createdLibrary!;
  return new ObjectClient({
    url: server.url,
    bucket: created.library.bucket,
    credentials: { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey },
  });
}

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

describe('one blob store per database', { timeout: 300_000, skip: postgresSkipReason() }, () => {
  let pg: PostgresServer;
  const dirs: string[] = [];

  before(async () => {
    pg = await startPostgres();
  });

  after(async () => {
    await pg?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const local = (dataDir: string, databaseUrl = '') =>
    defaultConfig({
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      dataDir,
      databaseUrl,
      workerConcurrency: 0,
      orphanGraceSeconds: 0,
    });

  it('embedded: a second database on the same data dir refuses to start; the first keeps its data', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await startServer(local(dataDir));
    const data = bytesOf('first deployment', 70_000);
    const objects = objectClient(first);
    try {
      assert.equal((await objects.put('kept.bin', data)).status, 200);
      const marker = JSON.parse(readFileSync(join(dataDir, 'blobs', MARKER), 'utf8'));
      assert.equal(marker.deploymentId, await first.container.store.settings.get('deploymentId'));

      const other = await pg.createDatabase();
      await assert.rejects(startServer(local(dataDir, other)), (err: Error) => {
        assert.ok(err instanceof DeploymentConflictError, String(err));
        assert.match(err.message, /belongs to deployment \w+ \(database .*mediahost\.db \(--data-dir\)\)/);
        assert.match(err.message, /this database, postgres:\/\/[^ ]+ \(--database-url\), is deployment/);
        assert.doesNotMatch(err.message, /\n/, 'one line');
        return true;
      });
      // The first one's sweeper passes twice: nothing of its own is taken for an orphan.
      await first.container.sweeper.sweep();
      await first.container.sweeper.sweep();
      const got = await objects.get('kept.bin');
      assert.equal(got.status, 200);
      assert.equal(md5Hex(got.body), md5Hex(data));
    } finally {
      await first.close();
    }

    // Without a marker, a database that knows the blobs claims the store again (an upgrade) ...
    rmSync(join(dataDir, 'blobs', MARKER));
    const again = await startServer(local(dataDir));
    await again.close();
    assert.ok(existsSync(join(dataDir, 'blobs', MARKER)));
    // ... and one that does not is refused, unless told to adopt it.
    rmSync(join(dataDir, 'blobs', MARKER));
    const fresh = await pg.createDatabase();
    await assert.rejects(startServer(local(dataDir, fresh)), (err: Error) => {
      assert.ok(err instanceof DeploymentConflictError, String(err));
      assert.match(err.message, /holds blobs that this database, .* does not know, and no deployment marker/);
      assert.match(err.message, /--adopt-blob-store/);
      return true;
    });
    const adopted = await startServer({ ...local(dataDir, fresh), adoptBlobStore: true });
    try {
      const marker = JSON.parse(readFileSync(join(dataDir, 'blobs', MARKER), 'utf8'));
      assert.equal(marker.deploymentId, await adopted.container.store.settings.get('deploymentId'));
    } finally {
      await adopted.close();
    }
  });

  describe('scale-out: two databases on one bucket and prefix', () => {
    let external: TestServer;
    let first: RunningServer;
    let s3: S3Client;

    before(async () => {
      external = await startTestServer();
      first = await startServer(scaleOutConfig(await pg.createDatabase(), external));
      s3 = new S3Client({
        endpoint: external.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: external.accessKeyId, secretAccessKey: external.secretAccessKey },
      });
    });

    after(async () => {
      await first?.close();
      s3?.destroy();
      await external?.close();
    });

    it('the second refuses to start; the first keeps every object and SMH file', async () => {
      const created = first.createdLibrary!;
      const objects = objectClient(first);
      const payloads = [0, 1, 2, 3].map((i) => bytesOf(`object ${i}`, 20_000 + i));
      for (const [i, body] of payloads.entries())
        assert.equal((await objects.put(`o${i}.bin`, body)).status, 200);
      const smh = new SmhClient({
        url: first.url,
        libraryId: created.library.id,
        token: await createToken(
          first.url,
          { libraryId: created.library.id, librarySecret: created.librarySecret },
          { grant: 'admin' },
        ),
      });
      const file = bytesOf('smh file', 30_000);
      await uploadFile(smh, 'file.bin', file);
      const marker = await s3.send(new GetObjectCommand({ Bucket: external.bucket, Key: MARKER }));
      assert.match(await marker.Body!.transformToString(), /"deploymentId"/);

      await assert.rejects(startServer(scaleOutConfig(await pg.createDatabase(), external)), (err: Error) => {
        assert.ok(err instanceof DeploymentConflictError, String(err));
        assert.match(
          err.message,
          new RegExp(`s3://${external.bucket}/ at .* \\(--s3-bucket, --s3-prefix\\)`),
        );
        assert.match(err.message, /\(--database-url\)/);
        return true;
      });
      // Another prefix of the same bucket is another store: that deployment starts.
      const beside = await startServer(
        scaleOutConfig(await pg.createDatabase(), external, { s3Prefix: 'other/' }),
      );
      await beside.close();

      await first.container.sweeper.sweep();
      await first.container.sweeper.sweep();
      for (const [i, body] of payloads.entries()) {
        const got = await objects.get(`o${i}.bin`);
        assert.equal(got.status, 200, `o${i}.bin`);
        assert.equal(md5Hex(got.body), md5Hex(body));
      }
      assert.equal(md5Hex((await smh.download('file.bin')).body), md5Hex(file));
    });

    it('verify over PostgreSQL and the bucket: the row whose blob is gone, and the stray blob', async () => {
      const objects = objectClient(first);
      const bucket = first.createdLibrary!.library.bucket;
      assert.equal((await objects.put('verify/lost.bin', bytesOf('lost', 1000))).status, 200);
      const clean = await verify(first.container);
      assert.deepEqual(clean.missing, []);
      assert.equal(clean.marker.state, 'this-database');
      const { store } = first.container;
      const object = await store.objects.get(bucket as BucketName, 'verify/lost.bin');
      const [segment] = await store.objects.segments(object!.id);
      await s3.send(new DeleteObjectCommand({ Bucket: external.bucket, Key: `blobs/${segment!.blobKey}` }));
      const stray = 'zz00000000000000000000000000stray';
      await s3.send(new PutObjectCommand({ Bucket: external.bucket, Key: `blobs/${stray}`, Body: 'stray' }));
      const report = await verify(first.container);
      assert.deepEqual(
        report.missing.map((m) => [m.bucket, m.key, m.blobKey]),
        [[bucket, 'verify/lost.bin', segment!.blobKey]],
      );
      assert.deepEqual(
        report.strays.map((s) => s.blobKey),
        [stray],
      );
      await s3.send(new DeleteObjectCommand({ Bucket: external.bucket, Key: `blobs/${stray}` }));
      assert.equal((await objects.request('DELETE', 'verify/lost.bin')).status, 204);
    });

    it('without a marker, SMH files of a library the database does not know refuse a fresh database', async () => {
      const prefix = 'smh-only/';
      const owner = await pg.createDatabase();
      let node = await startServer(scaleOutConfig(owner, external, { s3Prefix: prefix }));
      try {
        const created = node.createdLibrary!;
        const smh = new SmhClient({
          url: node.url,
          libraryId: created.library.id,
          token: await createToken(
            node.url,
            { libraryId: created.library.id, librarySecret: created.librarySecret },
            { grant: 'admin' },
          ),
        });
        await uploadFile(smh, 'only.bin', bytesOf('only an SMH file', 10_000));
      } finally {
        await node.close();
      }
      await s3.send(new DeleteObjectCommand({ Bucket: external.bucket, Key: `${prefix}${MARKER}` }));
      await assert.rejects(
        startServer(scaleOutConfig(await pg.createDatabase(), external, { s3Prefix: prefix })),
        (err: Error) => {
          assert.ok(err instanceof DeploymentConflictError, String(err));
          assert.match(err.message, /holds SMH files that this database/);
          return true;
        },
      );
      // The database whose library they are marks the store again as it starts.
      node = await startServer(scaleOutConfig(owner, external, { s3Prefix: prefix }));
      const id = await node.container.store.settings.get('deploymentId');
      await node.close();
      const marker = await s3.send(
        new GetObjectCommand({ Bucket: external.bucket, Key: `${prefix}${MARKER}` }),
      );
      assert.equal(JSON.parse(await marker.Body!.transformToString()).deploymentId, id);
    });
  });

  it('a paused sweeper deletes nothing, and sweeps again once resumed', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await startServer(local(dataDir));
    try {
      const { blobs, sweeper, store } = server.container;
      const orphan = await blobs.write(bytes('nobody points here'));
      const present = async (key: BlobKey) => (await blobs.size(key)) !== undefined;
      await store.settings.put(SWEEPER_PAUSED, 'a restore is running');
      await sweeper.sweep();
      await sweeper.sweep();
      assert.equal(await present(orphan.key), true, 'paused: kept');
      await store.settings.delete(SWEEPER_PAUSED);
      await sweeper.sweep();
      await sweeper.sweep();
      assert.equal(await present(orphan.key), false, 'resumed: reclaimed');
    } finally {
      await server.close();
    }
    const paused = await startServer({ ...local(dataDir), sweeperPaused: true });
    try {
      const orphan = await paused.container.blobs.write(bytes('nobody'));
      await paused.container.sweeper.sweep();
      await paused.container.sweeper.sweep();
      assert.equal(await paused.container.blobs.size(orphan.key), 'nobody'.length, '--sweeper-paused');
    } finally {
      await paused.close();
    }
  });
});
