// Contract suite of the MetadataStore port (src/ports/metadata-store.ts), run against every database of
// test/helpers/databases.ts: settings, libraries, buckets, access keys, objects, multipart uploads, blob
// references and transactions, and the migration rules: applied once, under a lock, and refused on a
// schema newer than the code. The SMH repositories have their suites beside it (metadata-*.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { KyselyMetadataStore } from '../../src/adapters/metadata/kysely-metadata-store.ts';
import { readMigrations, SchemaTooNewError } from '../../src/adapters/metadata/migrations.ts';
import type { AccessKeyId, BlobKey, BucketName, LibraryId, ObjectId, UploadId } from '../../src/core/ids.ts';
import type { LibraryRecord } from '../../src/core/libraries/model.ts';
import type { InodeRecord } from '../../src/core/namespace/model.ts';
import type {
  AccessKeyRecord,
  BlobRef,
  BucketRecord,
  CompletedUpload,
  ObjectRecord,
  PartRecord,
  SegmentRecord,
  UploadRecord,
  UploadState,
} from '../../src/core/objects/model.ts';
import type { SpaceRecord } from '../../src/core/spaces/model.ts';
import type { TokenRecord } from '../../src/core/tokens/model.ts';
import type { UploadTaskRecord } from '../../src/core/uploads/model.ts';
import { databaseImplementations } from '../helpers/databases.ts';

const implementations = databaseImplementations();

// Fixtures. Every test makes its own names, so tests share one store without seeing each other.

const NOW = 1_760_000_000_000;
let counter = 0;
const unique = (prefix: string): string => `${prefix}${++counter}${Math.random().toString(36).slice(2, 8)}`;
const blobKey = (): BlobKey => unique('blob') as BlobKey;

function libraryRecord(overrides: Partial<LibraryRecord> = {}): LibraryRecord {
  return {
    id: unique('smh') as LibraryId,
    name: unique('library-'),
    secretHash: 'ab'.repeat(32),
    isMultiTenant: false,
    bucket: unique('bucket-') as BucketName,
    createdAt: NOW,
    ...overrides,
  };
}

function bucketRecord(libraryId: LibraryId, overrides: Partial<BucketRecord> = {}): BucketRecord {
  return { name: unique('bucket-') as BucketName, libraryId, acl: 'private', createdAt: NOW, ...overrides };
}

function objectRecord(bucket: BucketName, key: string, overrides: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    id: unique('obj') as ObjectId,
    bucket,
    key,
    size: 11,
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    crc64: '18446744073709551615',
    headers: { contentType: 'application/octet-stream', storageClass: 'STANDARD', meta: {} },
    checksums: {},
    partsCount: 0,
    lastModified: NOW,
    ...overrides,
  };
}

function uploadRecord(bucket: BucketName, key: string, overrides: Partial<UploadRecord> = {}): UploadRecord {
  return {
    id: unique('1760000000u') as UploadId,
    bucket,
    key,
    state: 'active',
    initiatedAt: NOW,
    owner: 'owner-1',
    headers: { contentType: 'video/mp4', storageClass: 'STANDARD', meta: { title: 'clip' } },
    checksumAlgorithm: null,
    result: null,
    ...overrides,
  };
}

function partRecord(uploadId: UploadId, partNumber: number, overrides: Partial<PartRecord> = {}): PartRecord {
  return {
    uploadId,
    partNumber,
    blobKey: blobKey(),
    size: 5 * 1024 * 1024,
    etag: '0123456789abcdef0123456789abcdef',
    crc64: '42',
    checksums: {},
    lastModified: NOW,
    ...overrides,
  };
}

const completion = (completedAt = NOW): CompletedUpload => ({
  etag: 'fedcba9876543210fedcba9876543210-2',
  crc64: '12345',
  size: 10 * 1024 * 1024,
  partsDigest: 'digest',
  completedAt,
});

/** JavaScript compares UTF-16 code units; S3 listings (and these stores) compare UTF-8 bytes. */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function appliedMigrations(
  store: KyselyMetadataStore,
): Promise<{ version: number; appliedAt: number }[]> {
  const { rows } = await sql<{ version: number; applied_at: number | string }>`
    SELECT version, applied_at FROM schema_migrations ORDER BY version
  `.execute(store.db);
  return rows.map((r) => ({ version: Number(r.version), appliedAt: Number(r.applied_at) }));
}

for (const impl of implementations) {
  describe(`MetadataStore contract: ${impl.name}`, { skip: impl.skip, timeout: 180_000 }, () => {
    let store: KyselyMetadataStore;
    let library: LibraryRecord;

    before(async () => {
      await impl.setUp();
      store = await (await impl.database()).open();
      library = libraryRecord();
      await store.libraries.insert(library);
    });

    after(async () => {
      await store?.close();
      await impl.tearDown();
    });

    async function newBucket(): Promise<BucketName> {
      const bucket = bucketRecord(library.id);
      assert.equal(await store.buckets.insert(bucket), true);
      return bucket.name;
    }

    it('reports its kind', () => {
      assert.equal(store.kind, impl.name);
    });

    describe('settings', () => {
      it('putIfAbsent stores the first value and keeps it', async () => {
        const name = unique('setting-');
        assert.equal(await store.settings.get(name), undefined);
        assert.equal(await store.settings.putIfAbsent(name, 'first'), 'first');
        assert.equal(await store.settings.putIfAbsent(name, 'second'), 'first');
        assert.equal(await store.settings.get(name), 'first');
      });

      it('put replaces a value and delete removes it', async () => {
        const name = unique('setting-');
        await store.settings.put(name, 'one');
        assert.equal(await store.settings.get(name), 'one');
        await store.settings.put(name, 'two');
        assert.equal(await store.settings.get(name), 'two');
        await store.settings.delete(name);
        assert.equal(await store.settings.get(name), undefined);
        await store.settings.delete(name);
      });
    });

    describe('libraries', () => {
      it('insert, get and list round-trip every field', async () => {
        const a = libraryRecord({ isMultiTenant: true, createdAt: NOW + 2 });
        const b = libraryRecord({ createdAt: NOW + 1 });
        await store.libraries.insert(a);
        await store.libraries.insert(b);
        assert.deepEqual(await store.libraries.get(a.id), a);
        assert.deepEqual(await store.libraries.get(b.id), b);
        assert.equal(await store.libraries.get('smhmissing' as LibraryId), undefined);
        const listed = (await store.libraries.list()).filter((l) => l.id === a.id || l.id === b.id);
        assert.deepEqual(listed, [b, a], 'ordered by creation time');
      });

      it('a second library with the same name is not inserted (false); the same id is an error', async () => {
        const a = libraryRecord();
        assert.equal(await store.libraries.insert(a), true);
        await assert.rejects(store.libraries.insert({ ...libraryRecord(), id: a.id }));
        const twin = { ...libraryRecord(), name: a.name };
        assert.equal(await store.libraries.insert(twin), false);
        assert.equal(await store.libraries.get(twin.id), undefined);
        assert.deepEqual(await store.libraries.get(a.id), a);
      });

      it('two transactions inserting the same name at once: one library results', async () => {
        const name = libraryRecord().name;
        const results = await Promise.allSettled(
          [0, 1].map(() =>
            store.transaction(async (tx) => {
              const lib = { ...libraryRecord(), name };
              return (await tx.libraries.insert(lib)) ? lib.id : undefined;
            }),
          ),
        );
        const ids = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
        assert.equal(ids.length, 1, JSON.stringify(results));
        assert.deepEqual(
          (await store.libraries.list()).filter((l) => l.name === name).map((l) => l.id),
          ids,
        );
      });
    });

    describe('library lifecycle', () => {
      /** A library with a row in every table that can belong to one; returns its blobs. */
      async function populated(lib: LibraryRecord): Promise<{ blobs: BlobKey[] }> {
        assert.equal(await store.libraries.insert(lib), true);
        assert.equal(await store.buckets.insert(bucketRecord(lib.id, { name: lib.bucket })), true);
        const segment = { blobKey: blobKey(), size: 11 };
        await store.objects.put(objectRecord(lib.bucket, `${lib.id}/file`), [segment]);
        const upload = uploadRecord(lib.bucket, 'big.bin');
        await store.multipart.insert(upload);
        const part = partRecord(upload.id, 1);
        await store.multipart.putPart(part);
        const key = (overrides: Partial<AccessKeyRecord>): AccessKeyRecord => ({
          id: unique('AKID') as AccessKeyId,
          secret: 's',
          libraryId: lib.id,
          bucket: lib.bucket,
          sessionToken: null,
          expiresAt: null,
          scope: null,
          createdAt: NOW,
          ...overrides,
        });
        await store.accessKeys.insert(key({}));
        await store.accessKeys.insert(key({ scope: { prefix: `${lib.id}/`, actions: ['GetObject'] } }));
        await store.accessKeys.insert(
          key({ sessionToken: 'ab'.repeat(32), expiresAt: NOW + 60_000, scope: { key: 'k' } }),
        );
        await store.tokens.insert({
          hash: unique('token'),
          libraryId: lib.id,
          spaceIds: null,
          userId: '',
          clientId: '',
          sessionId: '',
          grants: ['admin'],
          period: 3600,
          expiresAt: NOW + 3_600_000,
          createdAt: NOW,
        });
        const quotaId = await store.quotas.insert({
          libraryId: lib.id,
          capacity: 1000,
          removeWhenExceed: false,
          removeAfterDays: 30,
          removeNewest: false,
          createdAt: NOW,
        });
        for (const id of ['-', 'tenant']) {
          await store.spaces.insert({
            libraryId: lib.id,
            id,
            userId: '',
            extension: {},
            quotaId: id === 'tenant' ? quotaId : null,
            usedBytes: 0,
            createdAt: NOW,
          });
        }
        const inode = (type: 'dir' | 'file', name: string): InodeRecord => ({
          id: unique('inode'),
          libraryId: lib.id,
          spaceId: '-',
          parentId: '',
          name,
          type,
          size: 0,
          contentType: null,
          etag: '0',
          crc64: null,
          objectKey: type === 'file' ? `${lib.id}/file` : null,
          meta: {},
          attributes: {},
          beginningHash: null,
          fullHash: null,
          userId: '',
          createdAt: NOW,
          modifiedAt: NOW,
        });
        await store.inodes.insert(inode('dir', 'photos'));
        await store.inodes.insert(inode('file', 'a.jpg'));
        await store.inodes.insert(inode('file', 'b.jpg'));
        for (const state of ['uploading', 'confirmed'] as const) {
          await store.uploadTasks.insert({
            confirmKey: unique('confirm'),
            libraryId: lib.id,
            spaceId: '-',
            path: ['c.jpg'],
            flavour: 'simple',
            strategy: 'rename',
            force: false,
            objectKey: `${lib.id}/c`,
            uploadId: null,
            credentialId: null,
            state,
            objectReady: false,
            credentialExpiresAt: NOW + 60_000,
            userId: '',
            options: { meta: {}, attributes: {} },
            result: null,
            leaseOwner: null,
            leaseUntil: 0,
            createdAt: NOW,
            updatedAt: NOW,
          });
        }
        for (const state of ['WAITING', 'SUCCEED'] as const) {
          await store.jobs.insert({
            id: unique('job'),
            kind: 'transcode',
            libraryId: lib.id,
            spaceId: '-',
            state,
            priority: 0,
            payload: {},
            progress: 0,
            attempts: 0,
            maxAttempts: 3,
            leaseOwner: null,
            leaseUntil: null,
            runAfter: NOW,
            cancelRequested: false,
            assetId: null,
            result: null,
            errorCode: null,
            errorMsg: null,
            createdAt: NOW,
            startedAt: null,
            endedAt: null,
            updatedAt: NOW,
          });
        }
        return { blobs: [segment.blobKey, part.blobKey] };
      }

      it('contents counts what one library holds, unfinished uploads and tasks only', async () => {
        const lib = libraryRecord({ isMultiTenant: true });
        await populated(lib);
        assert.deepEqual(await store.libraries.contents(lib.id), {
          spaces: 2,
          files: 2,
          directories: 1,
          objects: 1,
          multipartUploads: 1,
          uploadTasks: 1,
          mediaTasks: 1,
        });
        const empty = libraryRecord();
        await store.libraries.insert(empty);
        assert.deepEqual(await store.libraries.contents(empty.id), {
          spaces: 0,
          files: 0,
          directories: 0,
          objects: 0,
          multipartUploads: 0,
          uploadTasks: 0,
          mediaTasks: 0,
        });
      });

      it('setSecretHash replaces the hash of one library', async () => {
        const lib = libraryRecord();
        const other = libraryRecord();
        await store.libraries.insert(lib);
        await store.libraries.insert(other);
        assert.equal(await store.libraries.setSecretHash(lib.id, 'cd'.repeat(32)), true);
        assert.equal((await store.libraries.get(lib.id))?.secretHash, 'cd'.repeat(32));
        assert.deepEqual(await store.libraries.get(other.id), other);
        assert.equal(await store.libraries.setSecretHash('smhmissing' as LibraryId, 'x'), false);
      });

      it('keyPairsFor lists the permanent unscoped keys only: not the SMH reader, not temporary keys', async () => {
        const lib = libraryRecord();
        await populated(lib);
        const pairs = await store.accessKeys.keyPairsFor(lib.id);
        assert.equal(pairs.length, 1);
        assert.equal(pairs[0]!.scope, null);
        assert.equal(pairs[0]!.sessionToken, null);
        assert.deepEqual(await store.accessKeys.keyPairsFor(library.id), []);
      });

      it('tokens.deleteForLibrary removes the tokens of one library', async () => {
        const lib = libraryRecord();
        const other = libraryRecord();
        await populated(lib);
        await populated(other);
        assert.equal(await store.tokens.deleteForLibrary(lib.id), 1);
        assert.equal(await store.tokens.deleteForLibrary(lib.id), 0);
        assert.equal(await store.tokens.deleteForLibrary(other.id), 1);
      });

      it('deleteWithContents removes every row of the library and nothing of another; its blobs become unreferenced', async () => {
        const doomed = libraryRecord({ isMultiTenant: true });
        const kept = libraryRecord({ isMultiTenant: true });
        const gone = await populated(doomed);
        const stays = await populated(kept);
        const keptContents = await store.libraries.contents(kept.id);
        const keptKeys = await store.accessKeys.keyPairsFor(kept.id);

        assert.equal(await store.transaction((tx) => tx.libraries.deleteWithContents(doomed.id)), true);
        assert.equal(await store.libraries.get(doomed.id), undefined);
        assert.equal(await store.buckets.get(doomed.bucket), undefined);
        assert.deepEqual(await store.libraries.contents(doomed.id), {
          spaces: 0,
          files: 0,
          directories: 0,
          objects: 0,
          multipartUploads: 0,
          uploadTasks: 0,
          mediaTasks: 0,
        });
        assert.equal(await store.accessKeys.smhReaderFor(doomed.id), undefined);
        assert.deepEqual(await store.accessKeys.keyPairsFor(doomed.id), []);
        assert.equal(await store.tokens.deleteForLibrary(doomed.id), 0);
        assert.deepEqual([...(await store.blobRefs.referenced(gone.blobs))], []);
        for (const table of [
          'access_keys',
          'inodes',
          'spaces',
          'used_space_ids',
          'quotas',
          'upload_tasks',
          'jobs',
        ] as const) {
          const { rows } = await sql<{
            n: number;
          }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE library_id = ${doomed.id}`.execute(store.db);
          assert.equal(Number(rows[0]!.n), 0, table);
        }

        assert.deepEqual(await store.libraries.contents(kept.id), keptContents);
        assert.deepEqual(await store.accessKeys.keyPairsFor(kept.id), keptKeys);
        assert.ok(await store.accessKeys.smhReaderFor(kept.id));
        assert.deepEqual(await store.blobRefs.referenced(stays.blobs), new Set(stays.blobs));
        assert.equal(await store.transaction((tx) => tx.libraries.deleteWithContents(doomed.id)), false);
      });
    });

    describe('buckets', () => {
      it('insert returns false on a duplicate name and keeps the original', async () => {
        const bucket = bucketRecord(library.id, { acl: 'public-read' });
        assert.equal(await store.buckets.insert(bucket), true);
        assert.equal(await store.buckets.insert({ ...bucket, acl: 'private', createdAt: NOW + 5 }), false);
        assert.deepEqual(await store.buckets.get(bucket.name), bucket);
        assert.equal(await store.buckets.get('missing-bucket' as BucketName), undefined);
      });

      it('list returns all buckets or those of one library, by name', async () => {
        const other = libraryRecord();
        await store.libraries.insert(other);
        const mine = [bucketRecord(other.id, { name: unique('zz-') as BucketName }), bucketRecord(other.id)];
        for (const b of mine) assert.equal(await store.buckets.insert(b), true);
        const sorted = [...mine].sort((x, y) => byUtf8(x.name, y.name));
        assert.deepEqual(await store.buckets.list(other.id), sorted);
        const all = await store.buckets.list();
        for (const b of mine) assert.ok(all.some((x) => x.name === b.name));
        assert.ok(all.length > mine.length);
        const names = all.map((b) => b.name);
        assert.deepEqual(names, [...names].sort(byUtf8));
      });
    });

    describe('access keys', () => {
      it('insert and get round-trip permanent and temporary keys', async () => {
        const bucket = await newBucket();
        const permanent: AccessKeyRecord = {
          id: unique('AKID') as AccessKeyId,
          secret: 'secret-1',
          libraryId: library.id,
          bucket,
          sessionToken: null,
          expiresAt: null,
          scope: null,
          createdAt: NOW,
        };
        const temporary: AccessKeyRecord = {
          id: unique('AKID') as AccessKeyId,
          secret: 'secret-2',
          libraryId: library.id,
          bucket,
          sessionToken: 'cd'.repeat(32),
          expiresAt: NOW + 3_600_000,
          scope: {
            key: 'videos/a.mp4',
            uploadId: 'u-1',
            actions: ['UploadPart', 'ListParts'],
            trafficLimit: 1024,
          },
          createdAt: NOW,
        };
        await store.accessKeys.insert(permanent);
        await store.accessKeys.insert(temporary);
        assert.deepEqual(await store.accessKeys.get(permanent.id), permanent);
        assert.deepEqual(await store.accessKeys.get(temporary.id), temporary);
        assert.equal(await store.accessKeys.get('AKIDmissing' as AccessKeyId), undefined);
        await store.accessKeys.delete(permanent.id);
        await store.accessKeys.delete(permanent.id);
        assert.equal(await store.accessKeys.get(permanent.id), undefined);
        assert.deepEqual(await store.accessKeys.get(temporary.id), temporary);
      });

      it("smhReaderFor finds the library's oldest permanent key with a scope, not its key pair", async () => {
        const own = libraryRecord();
        await store.libraries.insert(own);
        const bucket = bucketRecord(own.id);
        assert.equal(await store.buckets.insert(bucket), true);
        const key = (overrides: Partial<AccessKeyRecord>): AccessKeyRecord => ({
          id: unique('AKID') as AccessKeyId,
          secret: 's',
          libraryId: own.id,
          bucket: bucket.name,
          sessionToken: null,
          expiresAt: null,
          scope: null,
          createdAt: NOW,
          ...overrides,
        });
        const reader = { prefix: `${own.id}/`, actions: ['GetObject', 'HeadObject'] };
        await store.accessKeys.insert(key({ createdAt: NOW - 10 }));
        await store.accessKeys.insert(
          key({ sessionToken: 'ab'.repeat(32), expiresAt: NOW + 3_600_000, scope: { key: `${own.id}/x` } }),
        );
        assert.equal(await store.accessKeys.smhReaderFor(own.id), undefined);
        const older = key({ scope: reader, createdAt: NOW + 1 });
        await store.accessKeys.insert(key({ scope: reader, createdAt: NOW + 2 }));
        await store.accessKeys.insert(older);
        assert.deepEqual(await store.accessKeys.smhReaderFor(own.id), older);
        assert.equal(await store.accessKeys.smhReaderFor(library.id), undefined);
      });

      it('deleteForUpload removes only the keys scoped to that upload', async () => {
        const bucket = await newBucket();
        const uploadId = unique('upload-');
        const key = (scope: AccessKeyRecord['scope']): AccessKeyRecord => ({
          id: unique('AKID') as AccessKeyId,
          secret: 's',
          libraryId: library.id,
          bucket,
          sessionToken: 'ef'.repeat(32),
          expiresAt: NOW + 3_600_000,
          scope,
          createdAt: NOW,
        });
        const forUpload = [key({ uploadId }), key({ uploadId, actions: ['UploadPart'] })];
        const others = [key({ uploadId: unique('upload-') }), key({ key: 'some/key' }), key(null)];
        for (const k of [...forUpload, ...others]) await store.accessKeys.insert(k);
        assert.equal(await store.accessKeys.deleteForUpload(uploadId), 2);
        assert.equal(await store.accessKeys.deleteForUpload(uploadId), 0);
        for (const k of forUpload) assert.equal(await store.accessKeys.get(k.id), undefined);
        for (const k of others) assert.deepEqual(await store.accessKeys.get(k.id), k);
      });

      it('deleteExpired removes keys that expired before now, never permanent ones', async () => {
        const bucket = await newBucket();
        // Other tests' temporary keys expire an hour after NOW: only this test's keys expired by `now`.
        const now = NOW + 60_000;
        const key = (expiresAt: number | null): AccessKeyRecord => ({
          id: unique('AKID') as AccessKeyId,
          secret: 's',
          libraryId: library.id,
          bucket,
          sessionToken: expiresAt === null ? null : 'ab'.repeat(32),
          expiresAt,
          scope: null,
          createdAt: NOW,
        });
        const expired = [key(now - 1), key(now - 86_400_000)];
        const live = [key(now + 1), key(now + 86_400_000), key(null)];
        for (const k of [...expired, ...live]) await store.accessKeys.insert(k);
        assert.equal(await store.accessKeys.deleteExpired(now), expired.length);
        for (const k of expired) assert.equal(await store.accessKeys.get(k.id), undefined);
        for (const k of live) assert.deepEqual(await store.accessKeys.get(k.id), k);
        assert.equal(await store.accessKeys.deleteExpired(now), 0);
      });
    });

    describe('objects', () => {
      it('put and get round-trip every field, sizes beyond 32 bits included', async () => {
        const bucket = await newBucket();
        const object = objectRecord(bucket, 'videos/clip.mp4', {
          size: 5 * 2 ** 40,
          headers: {
            contentType: 'video/mp4',
            cacheControl: 'max-age=60',
            contentDisposition: 'attachment; filename="clip.mp4"',
            contentEncoding: 'identity',
            contentLanguage: 'zh-CN',
            expires: 'Wed, 21 Oct 2026 07:28:00 GMT',
            storageClass: 'STANDARD_IA',
            meta: { author: 'Zoë', 'x-y': '中文' },
          },
          checksums: { crc32c: 'AAAAAA==', sha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' },
          partsCount: 3,
        });
        assert.deepEqual(await store.objects.put(object, [{ blobKey: blobKey(), size: 5 * 2 ** 40 }]), []);
        assert.deepEqual(await store.objects.get(bucket, object.key), object);
        assert.equal(await store.objects.get(bucket, 'videos/missing.mp4'), undefined);
        assert.equal(
          await store.objects.get(await newBucket(), object.key),
          undefined,
          'buckets are separate',
        );
      });

      it('segments come back in order, however many there are', async () => {
        const bucket = await newBucket();
        const object = objectRecord(bucket, 'many-parts');
        // More segments than one INSERT statement carries.
        const segments: SegmentRecord[] = Array.from({ length: 1001 }, (_, i) => ({
          blobKey: blobKey(),
          size: 5 * 1024 * 1024 + i,
        }));
        await store.objects.put(object, segments);
        assert.deepEqual(await store.objects.segments(object.id), segments);
        assert.deepEqual(await store.objects.segments('missing' as ObjectId), []);
      });

      it('put replaces the object and returns the blobs of the replaced version', async () => {
        const bucket = await newBucket();
        const first = objectRecord(bucket, 'doc.txt');
        const firstBlobs = [blobKey(), blobKey()];
        await store.objects.put(
          first,
          firstBlobs.map((k) => ({ blobKey: k, size: 1 })),
        );
        const second = objectRecord(bucket, 'doc.txt', {
          size: 99,
          etag: 'ffffffffffffffffffffffffffffffff',
        });
        const secondBlob = blobKey();
        const replaced = await store.objects.put(second, [{ blobKey: secondBlob, size: 99 }]);
        assert.deepEqual([...replaced].sort(), [...firstBlobs].sort());
        assert.deepEqual(await store.objects.get(bucket, 'doc.txt'), second);
        assert.deepEqual(await store.objects.segments(second.id), [{ blobKey: secondBlob, size: 99 }]);
        assert.deepEqual(await store.objects.segments(first.id), [], 'the old segments are gone');
        assert.equal(await store.objects.countInBucket(bucket), 1);
      });

      it('delete removes the object and returns its blobs; a second delete returns none', async () => {
        const bucket = await newBucket();
        const object = objectRecord(bucket, 'gone.txt');
        const blobs = [blobKey(), blobKey(), blobKey()];
        await store.objects.put(
          object,
          blobs.map((k) => ({ blobKey: k, size: 3 })),
        );
        assert.deepEqual([...(await store.objects.delete(bucket, 'gone.txt'))].sort(), [...blobs].sort());
        assert.equal(await store.objects.get(bucket, 'gone.txt'), undefined);
        assert.deepEqual(await store.objects.segments(object.id), []);
        assert.deepEqual(await store.objects.delete(bucket, 'gone.txt'), []);
      });

      it('countInBucket counts the objects of one bucket', async () => {
        const bucket = await newBucket();
        assert.equal(await store.objects.countInBucket(bucket), 0);
        for (const key of ['a', 'b', 'c']) await store.objects.put(objectRecord(bucket, key), []);
        await store.objects.put(objectRecord(await newBucket(), 'a'), []);
        assert.equal(await store.objects.countInBucket(bucket), 3);
        await store.objects.delete(bucket, 'b');
        assert.equal(await store.objects.countInBucket(bucket), 2);
      });

      describe('list', () => {
        // Upper and lower case, a separator, and characters whose UTF-8 order differs from their
        // UTF-16 order: U+FB00 sorts before U+1F600 in UTF-8 bytes, after it in UTF-16 code units.
        const keys = [
          'a',
          'A',
          'ab',
          'aB',
          'a/b',
          'a/c',
          'b',
          'B',
          'é',
          'éa',
          'e',
          'z',
          '~',
          '中',
          '中文/视频.mp4',
          '\u{1F600}',
          '\u{1F600}/x',
          '\uFB00',
          '\uFF5E',
          'zz',
        ];
        const sorted = [...keys].sort(byUtf8);
        let bucket: BucketName;

        before(async () => {
          bucket = await newBucket();
          for (const key of keys) await store.objects.put(objectRecord(bucket, key), []);
          // A neighbouring bucket with overlapping keys must not show up.
          const neighbour = await newBucket();
          for (const key of ['a', 'b0', 'é']) await store.objects.put(objectRecord(neighbour, key), []);
        });

        const list = async (prefix: string, after: string, limit = 1000) =>
          (await store.objects.list({ bucket, prefix, after, limit })).map((o) => o.key);

        it('orders keys by their UTF-8 bytes', async () => {
          assert.notDeepEqual(sorted, [...keys].sort(), 'the fixture tells byte order from code-unit order');
          assert.deepEqual(await list('', ''), sorted);
        });

        it('returns full records', async () => {
          const [first] = await store.objects.list({ bucket, prefix: 'ab', after: '', limit: 10 });
          assert.equal(first?.key, 'ab');
          assert.equal(first?.bucket, bucket);
          assert.equal(first?.headers.contentType, 'application/octet-stream');
        });

        it('pages with after and limit, strictly after the marker', async () => {
          const seen: string[] = [];
          let after = '';
          for (;;) {
            const page = await list('', after, 3);
            assert.ok(page.length <= 3);
            if (page.length === 0) break;
            seen.push(...page);
            after = page.at(-1)!;
          }
          assert.deepEqual(seen, sorted);
          assert.deepEqual(await list('', 'é'), sorted.slice(sorted.indexOf('é') + 1));
          assert.deepEqual(
            await list('', 'b0'),
            sorted.filter((k) => byUtf8(k, 'b0') > 0),
            'marker need not exist',
          );
        });

        it('filters by prefix, case-sensitively and on non-ASCII prefixes', async () => {
          assert.deepEqual(await list('a', ''), ['a', 'a/b', 'a/c', 'aB', 'ab']);
          assert.deepEqual(await list('A', ''), ['A']);
          assert.deepEqual(await list('a/', ''), ['a/b', 'a/c']);
          assert.deepEqual(await list('é', ''), ['é', 'éa']);
          assert.deepEqual(await list('中', ''), ['中', '中文/视频.mp4']);
          assert.deepEqual(await list('\u{1F600}', ''), ['\u{1F600}', '\u{1F600}/x']);
          assert.deepEqual(await list('nothing', ''), []);
        });

        it('combines prefix, after and limit', async () => {
          assert.deepEqual(await list('a', 'a/b'), ['a/c', 'aB', 'ab']);
          assert.deepEqual(await list('a', 'a/b', 2), ['a/c', 'aB']);
          assert.deepEqual(await list('a', 'ab'), []);
          // A marker before the prefix range lists the whole range.
          assert.deepEqual(await list('b', 'a'), ['b']);
          assert.deepEqual(await list('é', '\u{1F600}'), []);
        });
      });
    });

    describe('multipart uploads', () => {
      it('insert, get and lock round-trip every field', async () => {
        const bucket = await newBucket();
        const upload = uploadRecord(bucket, 'big/file.bin', { checksumAlgorithm: 'crc32c' });
        await store.multipart.insert(upload);
        assert.deepEqual(await store.multipart.get(upload.id), upload);
        assert.deepEqual(await store.multipart.lock(upload.id), upload);
        assert.equal(await store.multipart.get('missing' as UploadId), undefined);
        assert.equal(await store.multipart.lock('missing' as UploadId), undefined);
      });

      it('setState is conditional: only the first change from a state wins', async () => {
        const bucket = await newBucket();
        const upload = uploadRecord(bucket, 'k');
        await store.multipart.insert(upload);
        const result = completion();
        assert.equal(await store.multipart.setState(upload.id, 'active', 'completed', result), true);
        assert.equal(await store.multipart.setState(upload.id, 'active', 'completed', result), false);
        assert.equal(await store.multipart.setState(upload.id, 'active', 'aborted'), false);
        assert.deepEqual(await store.multipart.get(upload.id), { ...upload, state: 'completed', result });
        assert.equal(await store.multipart.setState('missing' as UploadId, 'active', 'aborted'), false);

        const other = uploadRecord(bucket, 'k');
        await store.multipart.insert(other);
        assert.equal(await store.multipart.setState(other.id, 'active', 'aborted'), true);
        assert.deepEqual(await store.multipart.get(other.id), { ...other, state: 'aborted' });
      });

      it('putPart inserts, and replacing a part returns the blob it replaced', async () => {
        const upload = uploadRecord(await newBucket(), 'k');
        await store.multipart.insert(upload);
        const first = partRecord(upload.id, 1, { checksums: { crc32: 'AAAAAA==' } });
        assert.equal(await store.multipart.putPart(first), undefined);
        const second = partRecord(upload.id, 1, { size: 7, etag: 'ffffffffffffffffffffffffffffffff' });
        assert.equal(await store.multipart.putPart(second), first.blobKey);
        assert.deepEqual(await store.multipart.listParts(upload.id, 0, 100), [second]);
      });

      it('listParts pages in part-number order', async () => {
        const upload = uploadRecord(await newBucket(), 'k');
        await store.multipart.insert(upload);
        const numbers = [10000, 3, 1, 2, 20, 10];
        const parts = new Map(numbers.map((n) => [n, partRecord(upload.id, n, { size: n })]));
        for (const part of parts.values()) await store.multipart.putPart(part);
        const ordered = [...numbers].sort((a, b) => a - b).map((n) => parts.get(n)!);
        assert.deepEqual(await store.multipart.listParts(upload.id, 0, 1000), ordered);
        assert.deepEqual(await store.multipart.listParts(upload.id, 0, 2), ordered.slice(0, 2));
        assert.deepEqual(await store.multipart.listParts(upload.id, 2, 2), ordered.slice(2, 4));
        assert.deepEqual(await store.multipart.listParts(upload.id, 3, 1000), ordered.slice(3));
        assert.deepEqual(await store.multipart.listParts(upload.id, 10000, 1000), []);
        assert.deepEqual(await store.multipart.listParts('missing' as UploadId, 0, 1000), []);
      });

      it('deleteParts removes every part of one upload and returns their blobs', async () => {
        const bucket = await newBucket();
        const upload = uploadRecord(bucket, 'k');
        const neighbour = uploadRecord(bucket, 'k');
        await store.multipart.insert(upload);
        await store.multipart.insert(neighbour);
        const parts = [1, 2, 3].map((n) => partRecord(upload.id, n));
        for (const p of parts) await store.multipart.putPart(p);
        const kept = partRecord(neighbour.id, 1);
        await store.multipart.putPart(kept);
        const removed = await store.multipart.deleteParts(upload.id);
        assert.deepEqual([...removed].sort(), parts.map((p) => p.blobKey).sort());
        assert.deepEqual(await store.multipart.listParts(upload.id, 0, 100), []);
        assert.deepEqual(await store.multipart.deleteParts(upload.id), []);
        assert.deepEqual(await store.multipart.listParts(neighbour.id, 0, 100), [kept]);
      });

      it('delete removes the upload', async () => {
        const upload = uploadRecord(await newBucket(), 'k');
        await store.multipart.insert(upload);
        await store.multipart.delete(upload.id);
        assert.equal(await store.multipart.get(upload.id), undefined);
        await store.multipart.delete(upload.id);
      });

      describe('listActive', () => {
        let bucket: BucketName;
        /** [key, id] of the active uploads, in listing order: key by UTF-8 bytes, then id. */
        const active: [string, string][] = [
          ['a', '1760000000aaaa'],
          ['a', '1760000000bbbb'],
          ['a', '1760000001aaaa'],
          ['a/b', '1760000000aaaa'],
          ['aB', '1760000000cccc'],
          ['b', '1760000000aaaa'],
          ['é', '1760000000aaaa'],
          ['中', '1760000000aaaa'],
        ];
        const ids = new Map<string, UploadId>();
        const idOf = (key: string, id: string) => ids.get(`${key}\n${id}`)!;

        before(async () => {
          bucket = await newBucket();
          // Upload ids are unique across buckets: make them so while keeping their order.
          const suffix = unique('-');
          for (const [i, [key, id]] of [...active.entries()].reverse()) {
            const uploadId = `${id}${suffix}-${i}` as UploadId;
            ids.set(`${key}\n${id}`, uploadId);
            await store.multipart.insert(uploadRecord(bucket, key, { id: uploadId }));
          }
          const finished: [string, UploadState][] = [
            ['a', 'completed'],
            ['b', 'aborted'],
          ];
          for (const [key, state] of finished)
            await store.multipart.insert(uploadRecord(bucket, key, { state }));
          await store.multipart.insert(uploadRecord(await newBucket(), 'a'));
        });

        const list = async (prefix: string, keyMarker: string, uploadIdMarker: string, limit = 1000) =>
          (await store.multipart.listActive({ bucket, prefix, keyMarker, uploadIdMarker, limit })).map(
            (u) => [u.key, u.id] as [string, string],
          );
        const expected = (entries: [string, string][]) => entries.map(([k, id]) => [k, idOf(k, id)]);

        it('lists the active uploads of the bucket by key, then upload id', async () => {
          const listed = await store.multipart.listActive({
            bucket,
            prefix: '',
            keyMarker: '',
            uploadIdMarker: '',
            limit: 1000,
          });
          assert.ok(listed.every((u) => u.state === 'active' && u.bucket === bucket));
          assert.deepEqual(
            listed.map((u) => [u.key, u.id]),
            expected(active),
          );
          assert.deepEqual(await list('', '', '', 2), expected(active.slice(0, 2)));
        });

        it('filters by prefix', async () => {
          assert.deepEqual(await list('a/', '', ''), expected([['a/b', '1760000000aaaa']]));
          assert.deepEqual(await list('é', '', ''), expected([['é', '1760000000aaaa']]));
          assert.deepEqual(await list('c', '', ''), []);
        });

        it('keyMarker alone: only keys strictly greater than the marker', async () => {
          assert.deepEqual(await list('', 'a', ''), expected(active.slice(3)));
          assert.deepEqual(await list('', 'aA', ''), expected(active.slice(4)));
          assert.deepEqual(await list('a', 'a', ''), expected(active.slice(3, 5)));
        });

        it('keyMarker with uploadIdMarker: also the same key with a greater upload id', async () => {
          const marker = idOf('a', '1760000000aaaa');
          assert.deepEqual(await list('', 'a', marker), expected(active.slice(1)));
          assert.deepEqual(await list('', 'a', idOf('a', '1760000001aaaa')), expected(active.slice(3)));
          assert.deepEqual(await list('', 'a', marker, 2), expected(active.slice(1, 3)));
          assert.deepEqual(await list('a', 'a', marker), expected(active.slice(1, 5)));
        });

        it('pages through everything with the markers of the last entry', async () => {
          const seen: [string, string][] = [];
          let keyMarker = '';
          let uploadIdMarker = '';
          for (;;) {
            const page = await list('', keyMarker, uploadIdMarker, 3);
            if (page.length === 0) break;
            seen.push(...page);
            [keyMarker, uploadIdMarker] = page.at(-1)!;
          }
          assert.deepEqual(seen, expected(active));
        });
      });

      it('listStale: active uploads by initiation, finished ones by when they finished', async () => {
        const bucket = await newBucket();
        const now = Date.now();
        const old = uploadRecord(bucket, 'old', { initiatedAt: now - 10 * 86_400_000 });
        const recent = uploadRecord(bucket, 'recent', { initiatedAt: now - 60_000 });
        const finishedLongAgo = uploadRecord(bucket, 'done', { initiatedAt: now - 10 * 86_400_000 });
        const finishedJustNow = uploadRecord(bucket, 'done', { initiatedAt: now - 10 * 86_400_000 });
        for (const u of [old, recent, finishedLongAgo, finishedJustNow]) await store.multipart.insert(u);
        const longAgo = now - 9 * 86_400_000;
        assert.equal(
          await store.multipart.setState(finishedLongAgo.id, 'active', 'completed', completion(longAgo)),
          true,
        );
        assert.equal(await store.multipart.setState(finishedJustNow.id, 'active', 'aborted'), true);

        const stale = async (activeBefore: number, finishedBefore: number) =>
          new Set(
            (await store.multipart.listStale(activeBefore, finishedBefore, 100_000))
              .filter((u) => u.bucket === bucket)
              .map((u) => u.id),
          );
        const day = 86_400_000;
        assert.deepEqual(await stale(now - day, now - day), new Set([old.id, finishedLongAgo.id]));
        assert.deepEqual(await stale(now, now - day), new Set([old.id, recent.id, finishedLongAgo.id]));
        assert.deepEqual(
          await stale(now - day, now + day),
          new Set([old.id, finishedLongAgo.id, finishedJustNow.id]),
          'a recently aborted upload is stale once its finish time is old enough',
        );
        assert.deepEqual(await stale(0, 0), new Set());
        assert.equal((await store.multipart.listStale(now, now + day, 1)).length, 1, 'limit');
      });

      it('listStale leaves out active uploads behind an SMH task that is still open', async () => {
        const bucket = await newBucket();
        const now = Date.now();
        const ofTask = uploadRecord(bucket, `${library.id}/smh`, { initiatedAt: now - 10 * 86_400_000 });
        await store.multipart.insert(ofTask);
        const task: UploadTaskRecord = {
          confirmKey: unique('task'),
          libraryId: library.id,
          spaceId: '-',
          path: ['a.bin'],
          flavour: 'multipart',
          strategy: 'rename',
          force: false,
          objectKey: ofTask.key,
          uploadId: ofTask.id,
          credentialId: null,
          state: 'uploading',
          objectReady: false,
          credentialExpiresAt: now + 3_600_000,
          userId: '',
          options: { meta: {}, attributes: {} },
          result: null,
          leaseOwner: null,
          leaseUntil: 0,
          createdAt: now,
          updatedAt: now,
        };
        await store.uploadTasks.insert(task);
        const stale = async () =>
          (await store.multipart.listStale(now, now, 100_000)).some((u) => u.id === ofTask.id);
        assert.equal(await stale(), false, 'uploading');
        assert.equal(await store.uploadTasks.transition(task.confirmKey, 'uploading', 'confirming'), true);
        assert.equal(await stale(), false, 'confirming');
        assert.equal(await store.uploadTasks.transition(task.confirmKey, 'confirming', 'uploading'), true);
        assert.equal(await store.uploadTasks.transition(task.confirmKey, 'uploading', 'expired'), true);
        assert.equal(await stale(), true, 'its task expired: the upload is reclaimed like any other');
      });
    });

    describe('blob references', () => {
      it('referenced returns the keys that a part or an object segment points to', async () => {
        const bucket = await newBucket();
        const upload = uploadRecord(bucket, 'k');
        await store.multipart.insert(upload);
        const part = partRecord(upload.id, 1);
        await store.multipart.putPart(part);
        const segment = blobKey();
        const object = objectRecord(bucket, 'o');
        await store.objects.put(object, [{ blobKey: segment, size: 1 }]);
        // More keys than one IN list carries.
        const orphans = Array.from({ length: 450 }, blobKey);
        const asked = [...orphans.slice(0, 300), part.blobKey, ...orphans.slice(300), segment];
        assert.deepEqual(await store.blobRefs.referenced(asked), new Set([part.blobKey, segment]));
        assert.deepEqual(await store.blobRefs.referenced([]), new Set());

        await store.multipart.deleteParts(upload.id);
        await store.objects.delete(bucket, 'o');
        assert.deepEqual(await store.blobRefs.referenced(asked), new Set());
      });

      it('list pages through every row pointing to a blob, in blob-key order, with its owner', async () => {
        const bucket = await newBucket();
        const upload = uploadRecord(bucket, 'up');
        await store.multipart.insert(upload);
        const parts = [partRecord(upload.id, 1), partRecord(upload.id, 2)];
        for (const part of parts) await store.multipart.putPart(part);
        const segments = [blobKey(), blobKey(), blobKey()].map((k) => ({ blobKey: k, size: 3 }));
        const object = objectRecord(bucket, 'obj', { size: 9 });
        await store.objects.put(object, segments);
        const seen: BlobRef[] = [];
        let after = '';
        for (;;) {
          const page = await store.blobRefs.list(after, 2);
          if (page.length === 0) break;
          assert.ok(page.length <= 2);
          seen.push(...page);
          after = page.at(-1)!.blobKey;
        }
        const keys = seen.map((r) => r.blobKey);
        assert.deepEqual(keys, [...keys].sort(), 'in order');
        assert.equal(new Set(keys).size, keys.length, 'each once');
        const mine = seen.filter((r) => r.bucket === bucket);
        const expected: BlobRef[] = [
          ...segments.map((s) => ({ blobKey: s.blobKey, size: 3, bucket, key: 'obj' })),
          ...parts.map((p) => ({
            blobKey: p.blobKey,
            size: p.size,
            bucket,
            key: 'up',
            part: { uploadId: upload.id, partNumber: p.partNumber },
          })),
        ].sort((a, b) => (a.blobKey < b.blobKey ? -1 : 1));
        assert.deepEqual(mine, expected);
      });
    });

    describe('SMH: space ids, token scopes, confirm leases', () => {
      const space = (libraryId: LibraryId, id: string, userId = ''): SpaceRecord => ({
        libraryId,
        id,
        userId,
        extension: {},
        quotaId: null,
        usedBytes: 0,
        createdAt: NOW,
      });
      const token = (spaceIds: string[] | null, libraryId = library.id): TokenRecord => ({
        hash: unique('hash-'),
        libraryId,
        spaceIds,
        userId: '',
        clientId: '',
        sessionId: '',
        grants: [],
        period: 300,
        expiresAt: NOW + 300_000,
        createdAt: NOW,
      });
      const task = (spaceId: string, overrides: Partial<UploadTaskRecord> = {}): UploadTaskRecord => ({
        confirmKey: unique('key-'),
        libraryId: library.id,
        spaceId,
        path: ['f.bin'],
        flavour: 'multipart',
        strategy: 'rename',
        force: false,
        objectKey: unique('obj-'),
        uploadId: 'u1',
        credentialId: null,
        state: 'uploading',
        objectReady: false,
        credentialExpiresAt: NOW,
        userId: '',
        options: { meta: {}, attributes: {} },
        result: null,
        createdAt: NOW,
        updatedAt: NOW,
        leaseOwner: null,
        leaseUntil: 0,
        ...overrides,
      });

      it('a space id is inserted once per library, ever: not again after its space is deleted', async () => {
        const other = libraryRecord({ isMultiTenant: true });
        await store.libraries.insert(other);
        const id = unique('space-');
        assert.equal(await store.spaces.insert(space(library.id, id)), true);
        assert.equal(await store.spaces.insert(space(library.id, id)), false);
        await store.spaces.delete(library.id, id, NOW);
        assert.equal(await store.spaces.get(library.id, id), undefined);
        assert.equal(await store.spaces.insert(space(library.id, id)), false, 'a deleted id stays used');
        assert.equal(await store.spaces.insert(space(other.id, id)), true, 'ids are per library');
      });

      it('list with ids and userId returns the spaces listed or created by the user', async () => {
        const lib = libraryRecord({ isMultiTenant: true });
        await store.libraries.insert(lib);
        for (const [id, user] of [
          ['a1', 'ann'],
          ['b1', 'bob'],
          ['b2', 'bob'],
          ['c1', ''],
        ]) {
          assert.equal(await store.spaces.insert(space(lib.id, id!, user)), true);
        }
        const ids = async (query: { ids?: string[]; userId?: string }): Promise<string[]> =>
          (await store.spaces.list(lib.id, { after: '', limit: 10, ...query })).map((s) => s.id);
        assert.deepEqual(await ids({}), ['a1', 'b1', 'b2', 'c1']);
        assert.deepEqual(await ids({ ids: ['c1'], userId: 'bob' }), ['b1', 'b2', 'c1']);
        assert.deepEqual(await ids({ ids: ['a1', 'zz'] }), ['a1']);
        assert.deepEqual(await ids({ ids: [], userId: 'ann' }), ['a1']);
      });

      it('removeSpace deletes tokens of that space alone and strips it from the others', async () => {
        const other = libraryRecord({ isMultiTenant: true });
        await store.libraries.insert(other);
        const alone = token(['gone']);
        const shared = token(['kept', 'gone']);
        const lookalike = token(['gone-2', 'agone']);
        const everywhere = token(null);
        const elsewhere = token(['gone'], other.id);
        for (const t of [alone, shared, lookalike, everywhere, elsewhere]) await store.tokens.insert(t);
        assert.equal(await store.tokens.removeSpace(library.id, 'gone'), 2);
        assert.equal(await store.tokens.get(alone.hash), undefined);
        assert.deepEqual((await store.tokens.get(shared.hash))?.spaceIds, ['kept']);
        assert.deepEqual((await store.tokens.get(lookalike.hash))?.spaceIds, ['gone-2', 'agone']);
        assert.equal((await store.tokens.get(everywhere.hash))?.spaceIds, null);
        assert.deepEqual((await store.tokens.get(elsewhere.hash))?.spaceIds, ['gone']);
      });

      it('a confirm lease: held changes need the holder, an expired one can be taken back', async () => {
        const spaceId = unique('s');
        const t = task(spaceId);
        await store.uploadTasks.insert(t);
        const key = t.confirmKey;
        const held = { leaseOwner: 'node1/run1', leaseUntil: NOW + 20_000 };
        assert.equal(await store.uploadTasks.transition(key, 'uploading', 'confirming', held, NOW), true);
        assert.equal(await store.uploadTasks.transition(key, 'uploading', 'confirming', held, NOW), false);
        const got = await store.uploadTasks.get(key);
        assert.deepEqual([got?.leaseOwner, got?.leaseUntil], ['node1/run1', NOW + 20_000]);
        // Only the holder renews.
        const renew = { leaseUntil: NOW + 40_000 };
        assert.equal(await store.uploadTasks.update(key, 'confirming', renew, NOW, { owner: 'x/y' }), false);
        assert.equal(
          await store.uploadTasks.update(key, 'confirming', renew, NOW, { owner: 'node1/run1' }),
          true,
        );
        // Not stale until the lease has run out; taking it back needs the lease expired.
        assert.deepEqual(
          await store.uploadTasks
            .listStale('confirming', NOW + 40_000, 10000)
            .then((l) => l.filter((x) => x.confirmKey === key)),
          [],
        );
        const stale = await store.uploadTasks.listStale('confirming', NOW + 40_001, 10000);
        assert.ok(stale.some((x) => x.confirmKey === key));
        const back = { leaseOwner: null, leaseUntil: 0 };
        const early = { owner: 'node1/run1', expiredBefore: NOW + 40_000 };
        assert.equal(
          await store.uploadTasks.transition(key, 'confirming', 'uploading', back, NOW, early),
          false,
        );
        const late = { owner: 'node1/run1', expiredBefore: NOW + 40_001 };
        assert.equal(
          await store.uploadTasks.transition(key, 'confirming', 'uploading', back, NOW, late),
          true,
        );
        assert.equal((await store.uploadTasks.get(key))?.leaseOwner, null);
        assert.deepEqual(
          (await store.uploadTasks.listInSpace(library.id, spaceId)).map((x) => [x.confirmKey, x.state]),
          [[key, 'uploading']],
        );
      });

      it('reopenConfirmsOf hands back the confirms of earlier runs of one node only', async () => {
        const node = unique('node');
        const lease = (owner: string): Partial<UploadTaskRecord> => ({
          state: 'confirming',
          leaseOwner: owner,
          leaseUntil: NOW + 20_000,
        });
        const earlier = task('s', lease(`${node}/old`));
        const current = task('s', lease(`${node}/new`));
        const otherNode = task('s', lease(`${node}x/old`));
        const uploading = task('s', { leaseOwner: null });
        for (const t of [earlier, current, otherNode, uploading]) await store.uploadTasks.insert(t);
        assert.equal(await store.uploadTasks.reopenConfirmsOf(`${node}/`, `${node}/new`, NOW + 1), 1);
        const states = await Promise.all(
          [earlier, current, otherNode, uploading].map(async (t) => {
            const got = await store.uploadTasks.get(t.confirmKey);
            return [got?.state, got?.leaseOwner];
          }),
        );
        assert.deepEqual(states, [
          ['uploading', null],
          ['confirming', `${node}/new`],
          ['confirming', `${node}x/old`],
          ['uploading', null],
        ]);
      });
    });

    describe('transactions', () => {
      it('commits what the callback wrote and returns its value', async () => {
        const bucket = await newBucket();
        const object = objectRecord(bucket, 'committed');
        const value = await store.transaction(async (tx) => {
          await tx.objects.put(object, []);
          assert.deepEqual(await tx.objects.get(bucket, 'committed'), object, 'reads its own writes');
          return 42;
        });
        assert.equal(value, 42);
        assert.deepEqual(await store.objects.get(bucket, 'committed'), object);
      });

      it('a callback that throws rolls back everything it wrote', async () => {
        const bucket = await newBucket();
        const existing = objectRecord(bucket, 'existing');
        const existingBlob = blobKey();
        await store.objects.put(existing, [{ blobKey: existingBlob, size: 1 }]);
        const upload = uploadRecord(bucket, 'u');
        await store.multipart.insert(upload);
        const setting = unique('setting-');
        const newBucketName = bucketRecord(library.id).name;
        const part = partRecord(upload.id, 1);
        const boom = new Error('boom');

        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.settings.putIfAbsent(setting, 'v');
            assert.equal(await tx.buckets.insert(bucketRecord(library.id, { name: newBucketName })), true);
            await tx.objects.put(objectRecord(bucket, 'new'), [{ blobKey: blobKey(), size: 1 }]);
            await tx.objects.put(objectRecord(bucket, 'existing', { size: 1234 }), []);
            await tx.multipart.putPart(part);
            assert.equal(await tx.multipart.setState(upload.id, 'active', 'aborted'), true);
            throw boom;
          }),
          (err) => err === boom,
        );

        assert.equal(await store.settings.get(setting), undefined);
        assert.equal(await store.buckets.get(newBucketName), undefined);
        assert.equal(await store.objects.get(bucket, 'new'), undefined);
        assert.deepEqual(await store.objects.get(bucket, 'existing'), existing);
        assert.deepEqual(await store.objects.segments(existing.id), [{ blobKey: existingBlob, size: 1 }]);
        assert.deepEqual(await store.multipart.listParts(upload.id, 0, 100), []);
        assert.equal((await store.multipart.get(upload.id))?.state, 'active');
        assert.equal(await store.objects.countInBucket(bucket), 1);
      });

      it('the store stays usable after a rolled-back transaction', async () => {
        await assert.rejects(
          store.transaction(async () => {
            throw new Error('first');
          }),
        );
        const name = unique('setting-');
        await store.transaction((tx) => tx.settings.putIfAbsent(name, 'ok'));
        assert.equal(await store.settings.get(name), 'ok');
      });

      it('concurrent puts of one key all succeed; every replaced blob is reported exactly once', async () => {
        // Last writer wins, as S3 has it; object-service puts in a transaction without locking first.
        const bucket = await newBucket();
        const initialBlob = blobKey();
        await store.objects.put(objectRecord(bucket, 'hot'), [{ blobKey: initialBlob, size: 1 }]);
        const puts = Array.from({ length: 10 }, () => ({
          object: objectRecord(bucket, 'hot'),
          blob: blobKey(),
        }));
        const replaced = await Promise.all(
          puts.map(({ object, blob }) =>
            store.transaction((tx) => tx.objects.put(object, [{ blobKey: blob, size: 1 }])),
          ),
        );
        const final = await store.objects.get(bucket, 'hot');
        const winner = puts.find((p) => p.object.id === final?.id);
        assert.ok(winner, 'the stored object is one of the puts');
        assert.deepEqual(await store.objects.segments(winner.object.id), [{ blobKey: winner.blob, size: 1 }]);
        const all = [initialBlob, ...puts.map((p) => p.blob)];
        assert.deepEqual(
          replaced.flat().sort(),
          all.filter((b) => b !== winner.blob).sort(),
          'each version but the last was replaced once',
        );
        assert.equal(await store.objects.countInBucket(bucket), 1);
      });

      it('concurrent puts and deletes of one key all succeed, and lose no blob', async () => {
        const bucket = await newBucket();
        const initialBlob = blobKey();
        await store.objects.put(objectRecord(bucket, 'contested'), [{ blobKey: initialBlob, size: 1 }]);
        const written = [initialBlob];
        const operations = Array.from({ length: 20 }, (_, i) => {
          if (i % 3 === 2) return store.transaction((tx) => tx.objects.delete(bucket, 'contested'));
          const blob = blobKey();
          written.push(blob);
          return store.transaction((tx) =>
            tx.objects.put(objectRecord(bucket, 'contested'), [{ blobKey: blob, size: 1 }]),
          );
        });
        const released = (await Promise.all(operations)).flat();
        const final = await store.objects.get(bucket, 'contested');
        const kept = final ? (await store.objects.segments(final.id)).map((seg) => seg.blobKey) : [];
        assert.deepEqual(
          [...released, ...kept].sort(),
          [...written].sort(),
          'every blob is either still in use or handed back exactly once',
        );
      });

      it('concurrent locked putPart of one part number: every replaced blob is reported once', async () => {
        const upload = uploadRecord(await newBucket(), 'k');
        await store.multipart.insert(upload);
        const parts = Array.from({ length: 10 }, () => partRecord(upload.id, 1));
        const replaced = await Promise.all(
          parts.map((part) =>
            store.transaction(async (tx) => {
              assert.equal((await tx.multipart.lock(upload.id))?.state, 'active');
              return tx.multipart.putPart(part);
            }),
          ),
        );
        const [stored] = await store.multipart.listParts(upload.id, 0, 10);
        assert.ok(stored);
        const blobs = parts.map((p) => p.blobKey);
        assert.deepEqual(
          replaced.filter((b) => b !== undefined).sort(),
          blobs.filter((b) => b !== stored.blobKey).sort(),
        );
      });

      it('concurrent transactions that lock the same upload see each other: exactly one wins', async () => {
        const upload = uploadRecord(await newBucket(), 'race');
        await store.multipart.insert(upload);
        let sawActive = 0;
        const attempt = () =>
          store.transaction(async (tx) => {
            const locked = await tx.multipart.lock(upload.id);
            if (locked?.state !== 'active') return false;
            sawActive++;
            // Widen the window between the check and the write, as real work (part lists) would.
            await sleep(10);
            return tx.multipart.setState(upload.id, 'active', 'completed', completion());
          });
        const results = await Promise.all(Array.from({ length: 20 }, attempt));
        assert.equal(results.filter((won) => won).length, 1, 'one transaction completed the upload');
        assert.equal(sawActive, 1, 'the others waited for the lock and then saw it completed');
        assert.equal((await store.multipart.get(upload.id))?.state, 'completed');
      });
    });

    describe('close', () => {
      it('releases the database, also when the store never ran a query', async () => {
        const unused = await impl.database();
        await (await unused.open()).close();
        assert.equal(await unused.openHandles(), 0, 'an unused store');
        const used = await impl.database();
        const store = await used.open();
        await store.settings.putIfAbsent('name', 'value');
        await store.close();
        assert.equal(await used.openHandles(), 0, 'a used store');
      });
    });

    describe('migrations', () => {
      it('opening a store twice on one database applies the migrations once', async () => {
        const database = await impl.database();
        const first = await database.open();
        try {
          const applied = await appliedMigrations(first);
          const known = readMigrations(impl.migrationsDir).map((m) => m.version);
          assert.deepEqual(
            first.migrationsApplied,
            readMigrations(impl.migrationsDir).map((m) => m.name),
            'the opener reports what it applied',
          );
          assert.ok(known.length > 0);
          assert.deepEqual(
            applied.map((m) => m.version),
            known,
          );
          const name = unique('setting-');
          await first.settings.putIfAbsent(name, 'shared');
          const second = await database.open();
          try {
            assert.deepEqual(await appliedMigrations(second), applied);
            assert.deepEqual(second.migrationsApplied, [], 'nothing left to apply');
            assert.equal(await second.settings.get(name), 'shared', 'the same database');
          } finally {
            await second.close();
          }
        } finally {
          await first.close();
        }
      });

      it('refuses a database whose schema is newer than the code', async () => {
        const database = await impl.database();
        const store = await database.open();
        try {
          await sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${9999}, ${'9999_future'}, ${NOW})`.execute(
            store.db,
          );
          await assert.rejects(database.open(), SchemaTooNewError);
          // The refused opener changed nothing.
          assert.equal((await appliedMigrations(store)).at(-1)?.version, 9999);
        } finally {
          await store.close();
        }
      });

      // Registered only where sessions can race; a single in-process session has no race to test.
      if (impl.separateSessions)
        it('openers started at once all succeed: the migration lock serialises them', async () => {
          const database = await impl.database();
          assert.ok(database.apart, `${impl.name} says it has separate sessions`);
          await database.apart(4, { name: 'open', input: undefined });
          const store = await database.open();
          try {
            const known = readMigrations(impl.migrationsDir).map((m) => m.version);
            assert.deepEqual(
              (await appliedMigrations(store)).map((m) => m.version),
              known,
            );
          } finally {
            await store.close();
          }
        });
    });
  });
}
