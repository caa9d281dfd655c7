// How much database a file takes: N SMH files written through the real repositories as a confirmed
// upload leaves them (the file's namespace row; in embedded mode its object and segment rows; its
// upload task, kept a week after the confirm), then the size of each table with its indexes, on SQLite
// and on PostgreSQL (one the bench starts itself, or --database-url). Run: npx node bench/metadata-size.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { KyselyMetadataStore } from '../src/adapters/metadata/kysely-metadata-store.ts';
import { createContainer } from '../src/app/container.ts';
import { defaultConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';
import {
  type BucketName,
  type LibraryId,
  newBlobKey,
  newObjectId,
  randomHex,
  randomString,
} from '../src/core/ids.ts';
import { newInodeId, newObjectKey } from '../src/core/namespace/namespace-service.ts';
import type { Repositories } from '../src/ports/metadata-store.ts';
import { findPostgresBinaries, startPostgres } from '../test/helpers/postgres.ts';
import { machineLine } from './lib.ts';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '200000' },
    'files-per-directory': { type: 'string', default: '1000' },
    'database-url': { type: 'string', default: '' },
    'no-hashes': { type: 'boolean', default: false },
  },
});
const FILES = Number(values.files);
const PER_DIR = Number(values['files-per-directory']);
const WITH_HASHES = !values['no-hashes'];
const LOWER36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** What each row group is, and the tables it is made of. */
const GROUPS = [
  { name: 'namespace (inodes)', tables: ['inodes'] },
  { name: 'object + segment (embedded mode only)', tables: ['objects', 'object_segments'] },
  { name: 'upload task (for a week after confirm)', tables: ['upload_tasks'] },
] as const;

/** One directory of PER_DIR files with the rows a confirmed simple upload of a photo leaves. */
async function writeDirectory(
  tx: Repositories,
  library: { id: LibraryId; bucket: BucketName },
  d: number,
  count: number,
): Promise<void> {
  const now = Date.now();
  const dirId = newInodeId();
  const base = { libraryId: library.id, spaceId: '-', meta: {}, attributes: {}, userId: 'u-20418' };
  await tx.inodes.insert({
    ...base,
    id: dirId,
    parentId: '',
    name: `2026-12-${String(d).padStart(4, '0')}`,
    type: 'dir',
    size: 0,
    contentType: null,
    etag: '0',
    crc64: null,
    objectKey: null,
    beginningHash: null,
    fullHash: null,
    createdAt: now,
    modifiedAt: now,
  });
  for (let i = 0; i < count; i++) {
    const id = newInodeId();
    const objectKey = newObjectKey(library.id);
    const name = `IMG_20261203_${String(d * PER_DIR + i).padStart(7, '0')}.jpg`;
    const size = 2_000_000 + i;
    const etag = randomHex(16);
    const crc64 = String(BigInt(`0x${randomHex(8)}`));
    await tx.inodes.insert({
      ...base,
      id,
      parentId: dirId,
      name,
      type: 'file',
      size,
      contentType: 'image/jpeg',
      etag,
      crc64,
      objectKey,
      beginningHash: WITH_HASHES ? randomHex(32) : null,
      fullHash: WITH_HASHES ? randomHex(32) : null,
      createdAt: now,
      modifiedAt: now,
    });
    await tx.objects.put(
      {
        id: newObjectId(),
        bucket: library.bucket,
        key: objectKey,
        size,
        etag,
        crc64,
        headers: { contentType: 'image/jpeg', storageClass: 'STANDARD', meta: {} },
        checksums: {},
        partsCount: 0,
        lastModified: now,
      },
      [{ blobKey: newBlobKey(), size }],
    );
    await tx.uploadTasks.insert({
      confirmKey: `${randomString(8, LOWER36)}${now.toString(36)}${randomString(24, LOWER36)}`,
      libraryId: library.id,
      spaceId: '-',
      path: [`2026-12-${String(d).padStart(4, '0')}`, name],
      flavour: 'simple',
      strategy: 'rename',
      force: true,
      objectKey,
      uploadId: null,
      credentialId: `AKID${randomString(32)}`,
      state: 'confirmed',
      objectReady: false,
      credentialExpiresAt: now + 3_600_000,
      userId: 'u-20418',
      options: { meta: {}, attributes: {} },
      result: id,
      createdAt: now,
      updatedAt: now,
      leaseOwner: null,
      leaseUntil: 0,
    });
  }
}

/** Bytes of each table with its indexes (and TOAST on PostgreSQL), and of the whole database. */
async function sizes(store: KyselyMetadataStore): Promise<{ tables: Map<string, number>; total: number }> {
  const tables = new Map<string, number>();
  if (store.kind === 'sqlite') {
    const rows = await sql<{ table: string; bytes: number }>`
      SELECT m.tbl_name AS "table", sum(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_schema m ON m.name = s.name
      GROUP BY m.tbl_name`.execute(store.db);
    for (const r of rows.rows) tables.set(r.table, Number(r.bytes));
    const total = await sql<{ bytes: number }>`
      SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()`.execute(store.db);
    return { tables, total: Number(total.rows[0]!.bytes) };
  }
  await sql`VACUUM ANALYZE`.execute(store.db);
  const rows = await sql<{ table: string; bytes: string }>`
    SELECT relname AS "table", pg_total_relation_size(oid)::text AS bytes FROM pg_class
    WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace`.execute(store.db);
  for (const r of rows.rows) tables.set(r.table, Number(r.bytes));
  const total = await sql<{
    bytes: string;
  }>`SELECT pg_database_size(current_database())::text AS bytes`.execute(store.db);
  return { tables, total: Number(total.rows[0]!.bytes) };
}

const perFile = (bytes: number): string => `${Math.round(bytes / FILES)} B`;
const perMillion = (bytes: number): string => `${(((bytes / FILES) * 1e6) / 2 ** 20).toFixed(0)} MiB`;

async function measure(name: string, overrides: Partial<Config>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mediahost-bench-size-'));
  try {
    const container = await createContainer(
      defaultConfig({ dataDir, logLevel: 'silent', workerConcurrency: 0, ...overrides }),
    );
    try {
      const store = container.store as KyselyMetadataStore;
      const created = await container.libraries.create({
        name: `size${Date.now() % 100000}`,
        multiTenant: false,
      });
      const library = { id: created.library.id, bucket: created.library.bucket as BucketName };
      const before = await sizes(store);
      const started = performance.now();
      // One transaction per directory, as many uploads confirming at once would commit.
      for (let done = 0, d = 0; done < FILES; d++) {
        const count = Math.min(PER_DIR, FILES - done);
        await store.transaction((tx) => writeDirectory(tx, library, d, count));
        done += count;
      }
      const seconds = (performance.now() - started) / 1000;
      const after = await sizes(store);
      const grown = (tables: readonly string[]) =>
        tables.reduce((sum, t) => sum + (after.tables.get(t) ?? 0) - (before.tables.get(t) ?? 0), 0);
      process.stdout.write(
        `${name}: ${FILES} files in directories of ${PER_DIR} (${WITH_HASHES ? 'with' : 'without'} instant-upload hashes), written in ${seconds.toFixed(0)} s\n`,
      );
      for (const group of GROUPS) {
        const bytes = grown(group.tables);
        process.stdout.write(
          `  ${group.name}: ${perFile(bytes)} per file, ${perMillion(bytes)} per million\n`,
        );
      }
      const total = after.total - before.total;
      process.stdout.write(
        `  whole database: ${perFile(total)} per file, ${perMillion(total)} per million\n`,
      );
    } finally {
      await container.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

process.stdout.write(machineLine());
await measure('SQLite', {});
if (values['database-url'] !== '') {
  await measure('PostgreSQL', { databaseUrl: values['database-url'] });
} else if ('reason' in findPostgresBinaries()) {
  process.stdout.write('PostgreSQL: skipped, server binaries not found (or give --database-url)\n');
} else {
  const pg = await startPostgres();
  try {
    await measure('PostgreSQL', { databaseUrl: await pg.createDatabase() });
  } finally {
    await pg.stop();
  }
}
