// What docs/deploy.md, "Upgrading", says happens between `mediahost migrate` of a newer release and the
// replacement of the last old node, with real processes over a real PostgreSQL: a node of the old
// release that is running keeps serving on the newer schema, and one that starts (a restart, a crash,
// a new machine) refuses it with one line, as do its `migrate` and `worker`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { cli } from '../helpers/cli.ts';
import { ObjectClient } from '../helpers/object-client.ts';
import { type PostgresServer, postgresSkipReason, startPostgres } from '../helpers/postgres.ts';
import { type ChildServer, spawnServer, tempDir } from '../helpers/server.ts';
import { bytesOf, createToken, MiB, SmhClient, uploadFile } from '../helpers/smh-client.ts';

function printed(output: string[], field: string): string {
  for (const line of output) {
    const m = new RegExp(`^\\s+${field}\\s+(\\S+)$`).exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`${field} not printed:\n${output.join('\n')}`);
}

/** What a newer release's migration may do: add a column and a table, and record itself. */
const NEWER_MIGRATION = `
  BEGIN;
  ALTER TABLE inodes ADD COLUMN description TEXT;
  CREATE TABLE renditions (id TEXT PRIMARY KEY, inode_id TEXT NOT NULL);
  INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_renditions', 0);
  COMMIT`;

const REFUSAL =
  /the database has migrations this version of mediahost does not know \(9999\); run a newer mediahost/;

describe('old nodes on a schema migrated by a newer release', {
  skip: postgresSkipReason(),
  timeout: 300_000,
}, () => {
  let postgres: PostgresServer;
  let db: string;
  let node: ChildServer;

  before(async () => {
    postgres = await startPostgres();
    db = await postgres.createDatabase();
    node = await spawnServer(['--port', '0', '--database-url', db, '--data-dir', tempDir()]);
  });

  after(async () => {
    if (node) await node.kill('SIGKILL');
    await postgres?.stop();
  });

  test('a running node keeps serving; starting one, migrate and worker refuse with one line', async () => {
    const library = {
      libraryId: printed(node.output, 'libraryId'),
      librarySecret: printed(node.output, 'librarySecret'),
    };
    const credentials = {
      accessKeyId: printed(node.output, 'accessKeyId'),
      secretAccessKey: printed(node.output, 'secretAccessKey'),
    };
    const bucket = printed(node.output, 'bucket');
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await client.query(NEWER_MIGRATION);
    } finally {
      await client.end();
    }

    // The old node never looks at the schema again: every surface goes on working.
    const smh = new SmhClient({
      url: node.url,
      libraryId: library.libraryId,
      token: await createToken(node.url, library, { grant: 'admin' }),
    });
    const data = bytesOf('after-migration', 2 * MiB);
    await uploadFile(smh, 'after-migration.bin', data);
    assert.ok((await smh.download('after-migration.bin')).body.equals(data));
    const objects = new ObjectClient({ url: node.url, bucket, credentials });
    assert.equal((await objects.request('PUT', 'k.txt', { body: 'kept' })).status, 200);
    assert.equal(await (await objects.request('GET', 'k.txt')).text(), 'kept');

    // Code of the old release that starts now refuses the schema: exit 1, one line on stderr.
    const env = { MEDIAHOST_DATABASE_URL: db, MEDIAHOST_DATA_DIR: tempDir(), MEDIAHOST_PORT: '0' };
    for (const command of ['serve', 'worker', 'migrate']) {
      const result = await cli([command], env);
      assert.equal(result.code, 1, `${command}: ${result.stderr}`);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${command} explains itself in one line:\n${result.stderr}`);
      assert.match(lines[0]!, REFUSAL);
      assert.ok(
        lines[0]!.startsWith(`mediahost: --database-url (MEDIAHOST_DATABASE_URL): ${db}: `),
        `the line names the database: ${lines[0]}`,
      );
    }

    // And the running node still stops as a node does.
    assert.equal(await node.kill('SIGTERM'), 0);
  });
});
