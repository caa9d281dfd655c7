// The one repository code path over kysely, shared by the SQLite and PostgreSQL adapters. The only
// dialect difference it knows is whether rows can be locked (SELECT … FOR UPDATE); SQLite does not
// need it because its transactions take the write lock up front (BEGIN IMMEDIATE).
import type { Kysely, Transaction } from 'kysely';
import type { AccessKeyId, BlobKey, BucketName, LibraryId, ObjectId, UploadId } from '../../core/ids.ts';
import type {
  AccessKeyRecord,
  BlobRef,
  BucketAcl,
  BucketRecord,
  CompletedUpload,
  ObjectRecord,
  PartRecord,
  PartSummary,
  SegmentRecord,
  UploadRecord,
  UploadState,
} from '../../core/objects/model.ts';
import type { SettingsRepo } from '../../ports/library-store.ts';
import type { Repositories } from '../../ports/metadata-store.ts';
import type {
  AccessKeyRepo,
  BlobRefRepo,
  BucketRepo,
  MultipartRepo,
  ObjectListQuery,
  ObjectRepo,
  UploadListQuery,
} from '../../ports/object-metadata.ts';
import { KyselyJobRepo } from './kysely-job-repository.ts';
import { KyselyLibraryRepo } from './kysely-library-repository.ts';
import {
  KyselyInodeRepo,
  KyselyQuotaRepo,
  KyselySpaceRepo,
  KyselyTokenRepo,
  KyselyUploadTaskRepo,
} from './kysely-smh-repositories.ts';
import type { AccessKeysTable, Database, MultipartUploadsTable, ObjectsTable, PartsTable } from './tables.ts';

export type Db = Kysely<Database> | Transaction<Database>;

export interface DialectTraits {
  /** SELECT … FOR UPDATE is available (PostgreSQL). */
  rowLocks: boolean;
}

/** Rows per INSERT statement: keeps every dialect below its bound-parameter limit. */
const INSERT_CHUNK = 400;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const json = (value: unknown): string => JSON.stringify(value);

class KyselySettingsRepo implements SettingsRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async get(name: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.value;
  }

  async putIfAbsent(name: string, value: string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await this.get(name)) ?? value;
  }

  async put(name: string, value: string): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
      .execute();
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('settings').where('name', '=', name).execute();
  }
}

class KyselyBucketRepo implements BucketRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async insert(bucket: BucketRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('buckets')
      .values({
        name: bucket.name,
        library_id: bucket.libraryId,
        acl: bucket.acl,
        created_at: bucket.createdAt,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async get(name: BucketName): Promise<BucketRecord | undefined> {
    const row = await this.db.selectFrom('buckets').selectAll().where('name', '=', name).executeTakeFirst();
    return (
      row && {
        name: row.name as BucketName,
        libraryId: row.library_id as LibraryId,
        acl: row.acl as BucketAcl,
        createdAt: Number(row.created_at),
      }
    );
  }

  async list(libraryId?: LibraryId): Promise<BucketRecord[]> {
    let q = this.db.selectFrom('buckets').selectAll().orderBy('name');
    if (libraryId) q = q.where('library_id', '=', libraryId);
    const rows = await q.execute();
    return rows.map((row) => ({
      name: row.name as BucketName,
      libraryId: row.library_id as LibraryId,
      acl: row.acl as BucketAcl,
      createdAt: Number(row.created_at),
    }));
  }
}

function toAccessKey(row: AccessKeysTable): AccessKeyRecord {
  return {
    id: row.id as AccessKeyId,
    secret: row.secret,
    libraryId: row.library_id as LibraryId,
    bucket: row.bucket as BucketName,
    sessionToken: row.session_token,
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    scope: row.scope === null ? null : JSON.parse(row.scope),
    createdAt: Number(row.created_at),
  };
}

class KyselyAccessKeyRepo implements AccessKeyRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async insert(key: AccessKeyRecord): Promise<void> {
    await this.db
      .insertInto('access_keys')
      .values({
        id: key.id,
        secret: key.secret,
        library_id: key.libraryId,
        bucket: key.bucket,
        session_token: key.sessionToken,
        expires_at: key.expiresAt,
        scope: key.scope === null ? null : json(key.scope),
        object_key: key.scope?.key ?? null,
        upload_id: key.scope?.uploadId ?? null,
        created_at: key.createdAt,
      })
      .execute();
  }

  async get(id: AccessKeyId): Promise<AccessKeyRecord | undefined> {
    const row = await this.db.selectFrom('access_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAccessKey(row);
  }

  async smhReaderFor(libraryId: LibraryId): Promise<AccessKeyRecord | undefined> {
    const row = await this.db
      .selectFrom('access_keys')
      .selectAll()
      .where('library_id', '=', libraryId)
      .where('session_token', 'is', null)
      .where('scope', 'is not', null)
      .orderBy('created_at')
      .orderBy('id')
      .executeTakeFirst();
    return row && toAccessKey(row);
  }

  async keyPairsFor(libraryId: LibraryId): Promise<AccessKeyRecord[]> {
    const rows = await this.db
      .selectFrom('access_keys')
      .selectAll()
      .where('library_id', '=', libraryId)
      .where('session_token', 'is', null)
      .where('scope', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toAccessKey);
  }

  async delete(id: AccessKeyId): Promise<void> {
    await this.db.deleteFrom('access_keys').where('id', '=', id).execute();
  }

  async deleteForUpload(uploadId: string): Promise<number> {
    const r = await this.db.deleteFrom('access_keys').where('upload_id', '=', uploadId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteForObject(bucket: BucketName, key: string): Promise<number> {
    const r = await this.db
      .deleteFrom('access_keys')
      .where('bucket', '=', bucket)
      .where('object_key', '=', key)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpired(now: number): Promise<number> {
    const r = await this.db
      .deleteFrom('access_keys')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<', now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

function toObject(row: ObjectsTable): ObjectRecord {
  return {
    id: row.id as ObjectId,
    bucket: row.bucket as BucketName,
    key: row.key,
    size: Number(row.size),
    etag: row.etag,
    crc64: row.crc64,
    headers: JSON.parse(row.headers),
    checksums: JSON.parse(row.checksums),
    partsCount: row.parts_count,
    lastModified: Number(row.last_modified),
  };
}

class KyselyObjectRepo implements ObjectRepo {
  private readonly db: Db;
  private readonly traits: DialectTraits;

  constructor(db: Db, traits: DialectTraits) {
    this.db = db;
    this.traits = traits;
  }

  async get(bucket: BucketName, key: string): Promise<ObjectRecord | undefined> {
    const row = await this.db
      .selectFrom('objects')
      .selectAll()
      .where('bucket', '=', bucket)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && toObject(row);
  }

  async segments(objectId: ObjectId): Promise<SegmentRecord[]> {
    const rows = await this.db
      .selectFrom('object_segments')
      .select(['blob_key', 'size'])
      .where('object_id', '=', objectId)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({ blobKey: r.blob_key as BlobKey, size: Number(r.size) }));
  }

  /**
   * The id of the object under (bucket, key), its row locked until commit where the dialect can.
   * put and delete both lock the row before its segments, so that they never wait on each other in
   * opposite orders (a deadlock).
   */
  async #lockId(bucket: BucketName, key: string): Promise<string | undefined> {
    let q = this.db.selectFrom('objects').select('id').where('bucket', '=', bucket).where('key', '=', key);
    if (this.traits.rowLocks) q = q.forUpdate();
    return (await q.executeTakeFirst())?.id;
  }

  async #deleteSegments(objectId: string): Promise<BlobKey[]> {
    const segs = await this.db
      .deleteFrom('object_segments')
      .where('object_id', '=', objectId)
      .returning('blob_key')
      .execute();
    return segs.map((s) => s.blob_key as BlobKey);
  }

  async put(object: ObjectRecord, segments: readonly SegmentRecord[]): Promise<BlobKey[]> {
    const values = {
      id: object.id,
      size: object.size,
      etag: object.etag,
      crc64: object.crc64,
      headers: json(object.headers),
      checksums: json(object.checksums),
      parts_count: object.partsCount,
      last_modified: object.lastModified,
    };
    let replaced: BlobKey[] = [];
    // Concurrent puts of one key must all succeed, the last one winning (S3). The existing row is
    // updated in place rather than deleted and inserted again: a writer waiting on its lock then
    // finds the row and replaces that version in turn. When there is no row, two writers may race
    // to insert it; the one that loses finds the winner's row on the next round and replaces it.
    for (;;) {
      const oldId = await this.#lockId(object.bucket, object.key);
      if (oldId !== undefined) {
        replaced = await this.#deleteSegments(oldId);
        await this.db
          .updateTable('objects')
          .set(values)
          .where('bucket', '=', object.bucket)
          .where('key', '=', object.key)
          .execute();
        break;
      }
      const inserted = await this.db
        .insertInto('objects')
        .values({ bucket: object.bucket, key: object.key, ...values })
        .onConflict((oc) => oc.columns(['bucket', 'key']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) break;
    }
    let seq = 0;
    for (const chunk of chunks(segments, INSERT_CHUNK)) {
      await this.db
        .insertInto('object_segments')
        .values(chunk.map((s) => ({ object_id: object.id, seq: seq++, blob_key: s.blobKey, size: s.size })))
        .execute();
    }
    return replaced;
  }

  async delete(bucket: BucketName, key: string): Promise<BlobKey[]> {
    const id = await this.#lockId(bucket, key);
    if (id === undefined) return [];
    const blobs = await this.#deleteSegments(id);
    await this.db.deleteFrom('objects').where('id', '=', id).execute();
    return blobs;
  }

  async list(query: ObjectListQuery): Promise<ObjectRecord[]> {
    // Keys with a common prefix are contiguous in byte order: scan from the prefix and stop at the
    // first key that no longer starts with it.
    let q = this.db.selectFrom('objects').selectAll().where('bucket', '=', query.bucket);
    if (query.after !== '') q = q.where('key', '>', query.after);
    if (query.prefix !== '') q = q.where('key', '>=', query.prefix);
    const rows = await q.orderBy('key').limit(query.limit).execute();
    const out: ObjectRecord[] = [];
    for (const row of rows) {
      if (!row.key.startsWith(query.prefix)) break;
      out.push(toObject(row));
    }
    return out;
  }

  async countInBucket(bucket: BucketName): Promise<number> {
    const row = await this.db
      .selectFrom('objects')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('bucket', '=', bucket)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function toUpload(row: MultipartUploadsTable): UploadRecord {
  return {
    id: row.id as UploadId,
    bucket: row.bucket as BucketName,
    key: row.key,
    state: row.state as UploadState,
    initiatedAt: Number(row.initiated_at),
    owner: row.owner,
    headers: JSON.parse(row.headers),
    checksumAlgorithm: row.checksum_algorithm,
    result: row.result === null ? null : JSON.parse(row.result),
  };
}

function toPart(row: PartsTable): PartRecord {
  return {
    uploadId: row.upload_id as UploadId,
    partNumber: row.part_number,
    blobKey: row.blob_key as BlobKey,
    size: Number(row.size),
    etag: row.etag,
    crc64: row.crc64,
    // Most parts carry no S3 checksum: skip the parse, which dominates listing cost.
    checksums: row.checksums === '{}' ? {} : JSON.parse(row.checksums),
    lastModified: Number(row.last_modified),
  };
}

class KyselyMultipartRepo implements MultipartRepo {
  private readonly db: Db;
  private readonly traits: DialectTraits;

  constructor(db: Db, traits: DialectTraits) {
    this.db = db;
    this.traits = traits;
  }

  async insert(upload: UploadRecord): Promise<void> {
    await this.db
      .insertInto('multipart_uploads')
      .values({
        id: upload.id,
        bucket: upload.bucket,
        key: upload.key,
        state: upload.state,
        initiated_at: upload.initiatedAt,
        updated_at: upload.initiatedAt,
        owner: upload.owner,
        headers: json(upload.headers),
        checksum_algorithm: upload.checksumAlgorithm,
        result: upload.result === null ? null : json(upload.result),
      })
      .execute();
  }

  async get(id: UploadId): Promise<UploadRecord | undefined> {
    const row = await this.db
      .selectFrom('multipart_uploads')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toUpload(row);
  }

  async lock(id: UploadId): Promise<UploadRecord | undefined> {
    let q = this.db.selectFrom('multipart_uploads').selectAll().where('id', '=', id);
    if (this.traits.rowLocks) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row && toUpload(row);
  }

  async setState(
    id: UploadId,
    from: UploadState,
    to: UploadState,
    result?: CompletedUpload,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('multipart_uploads')
      .set({
        state: to,
        updated_at: result?.completedAt ?? Date.now(),
        ...(result ? { result: json(result) } : {}),
      })
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async putPart(part: PartRecord): Promise<BlobKey | undefined> {
    const old = await this.db
      .deleteFrom('parts')
      .where('upload_id', '=', part.uploadId)
      .where('part_number', '=', part.partNumber)
      .returning('blob_key')
      .executeTakeFirst();
    await this.db
      .insertInto('parts')
      .values({
        upload_id: part.uploadId,
        part_number: part.partNumber,
        blob_key: part.blobKey,
        size: part.size,
        etag: part.etag,
        crc64: part.crc64,
        checksums: json(part.checksums),
        last_modified: part.lastModified,
      })
      .execute();
    return old?.blob_key as BlobKey | undefined;
  }

  async listParts(id: UploadId, afterPartNumber: number, limit: number): Promise<PartRecord[]> {
    const rows = await this.db
      .selectFrom('parts')
      .selectAll()
      .where('upload_id', '=', id)
      .where('part_number', '>', afterPartNumber)
      .orderBy('part_number')
      .limit(limit)
      .execute();
    return rows.map(toPart);
  }

  async partSummaries(id: UploadId): Promise<PartSummary[]> {
    const rows = await this.db
      .selectFrom('parts')
      .select(['part_number', 'etag', 'size', 'last_modified'])
      .where('upload_id', '=', id)
      .orderBy('part_number')
      .execute();
    return rows.map((r) => ({
      partNumber: r.part_number,
      etag: r.etag,
      size: Number(r.size),
      lastModified: Number(r.last_modified),
    }));
  }

  async deleteParts(id: UploadId): Promise<BlobKey[]> {
    const rows = await this.db
      .deleteFrom('parts')
      .where('upload_id', '=', id)
      .returning('blob_key')
      .execute();
    return rows.map((r) => r.blob_key as BlobKey);
  }

  async listActive(query: UploadListQuery): Promise<UploadRecord[]> {
    let q = this.db
      .selectFrom('multipart_uploads')
      .selectAll()
      .where('bucket', '=', query.bucket)
      .where('state', '=', 'active');
    if (query.prefix !== '') q = q.where('key', '>=', query.prefix);
    if (query.keyMarker !== '') {
      if (query.uploadIdMarker !== '') {
        q = q.where((eb) =>
          eb.or([
            eb('key', '>', query.keyMarker),
            eb.and([eb('key', '=', query.keyMarker), eb('id', '>', query.uploadIdMarker)]),
          ]),
        );
      } else {
        q = q.where('key', '>', query.keyMarker);
      }
    }
    const rows = await q.orderBy('key').orderBy('id').limit(query.limit).execute();
    const out: UploadRecord[] = [];
    for (const row of rows) {
      if (!row.key.startsWith(query.prefix)) break;
      out.push(toUpload(row));
    }
    return out;
  }

  async listStale(activeBefore: number, finishedBefore: number, limit: number): Promise<UploadRecord[]> {
    const rows = await this.db
      .selectFrom('multipart_uploads')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([
            eb('state', '=', 'active'),
            eb('updated_at', '<', activeBefore),
            // An SMH task still open expires with its task (UploadService.expireStale), not here.
            eb.not(
              eb.exists(
                eb
                  .selectFrom('upload_tasks')
                  .select('upload_tasks.confirm_key')
                  .whereRef('upload_tasks.upload_id', '=', 'multipart_uploads.id')
                  .where('upload_tasks.state', 'in', ['uploading', 'confirming']),
              ),
            ),
          ]),
          eb.and([eb('state', '!=', 'active'), eb('updated_at', '<', finishedBefore)]),
        ]),
      )
      .limit(limit)
      .execute();
    return rows.map(toUpload);
  }

  async delete(id: UploadId): Promise<void> {
    await this.db.deleteFrom('multipart_uploads').where('id', '=', id).execute();
  }
}

class KyselyBlobRefRepo implements BlobRefRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async referenced(keys: readonly BlobKey[]): Promise<Set<BlobKey>> {
    const found = new Set<BlobKey>();
    for (const chunk of chunks(keys, INSERT_CHUNK)) {
      const fromParts = await this.db
        .selectFrom('parts')
        .select('blob_key')
        .where('blob_key', 'in', chunk)
        .execute();
      const fromSegments = await this.db
        .selectFrom('object_segments')
        .select('blob_key')
        .where('blob_key', 'in', chunk)
        .execute();
      for (const r of fromParts) found.add(r.blob_key as BlobKey);
      for (const r of fromSegments) found.add(r.blob_key as BlobKey);
    }
    return found;
  }

  async list(after: string, limit: number): Promise<BlobRef[]> {
    const segments = await this.db
      .selectFrom('object_segments')
      .innerJoin('objects', 'objects.id', 'object_segments.object_id')
      .select(['object_segments.blob_key', 'object_segments.size', 'objects.bucket', 'objects.key'])
      .where('object_segments.blob_key', '>', after)
      .orderBy('object_segments.blob_key')
      .limit(limit)
      .execute();
    const parts = await this.db
      .selectFrom('parts')
      .innerJoin('multipart_uploads', 'multipart_uploads.id', 'parts.upload_id')
      .select([
        'parts.blob_key',
        'parts.size',
        'parts.upload_id',
        'parts.part_number',
        'multipart_uploads.bucket',
        'multipart_uploads.key',
      ])
      .where('parts.blob_key', '>', after)
      .orderBy('parts.blob_key')
      .limit(limit)
      .execute();
    const refs: BlobRef[] = [
      ...segments.map((r) => ({
        blobKey: r.blob_key as BlobKey,
        size: Number(r.size),
        bucket: r.bucket as BucketName,
        key: r.key,
      })),
      ...parts.map((r) => ({
        blobKey: r.blob_key as BlobKey,
        size: Number(r.size),
        bucket: r.bucket as BucketName,
        key: r.key,
        part: { uploadId: r.upload_id as UploadId, partNumber: Number(r.part_number) },
      })),
    ];
    // Each query's page is complete up to its own last key, so the first `limit` of both are too.
    return refs.sort((a, b) => (a.blobKey < b.blobKey ? -1 : a.blobKey > b.blobKey ? 1 : 0)).slice(0, limit);
  }
}

export function createRepositories(db: Db, traits: DialectTraits): Repositories {
  return {
    settings: new KyselySettingsRepo(db),
    libraries: new KyselyLibraryRepo(db),
    buckets: new KyselyBucketRepo(db),
    accessKeys: new KyselyAccessKeyRepo(db),
    objects: new KyselyObjectRepo(db, traits),
    multipart: new KyselyMultipartRepo(db, traits),
    blobRefs: new KyselyBlobRefRepo(db),
    tokens: new KyselyTokenRepo(db),
    spaces: new KyselySpaceRepo(db),
    quotas: new KyselyQuotaRepo(db, traits),
    inodes: new KyselyInodeRepo(db),
    uploadTasks: new KyselyUploadTaskRepo(db),
    jobs: new KyselyJobRepo(db, traits),
  };
}
