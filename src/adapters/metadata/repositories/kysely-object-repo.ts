// Objects over kysely: one row per (bucket, key) with the segments that hold its bytes.
import type { BlobKey, BucketName, ObjectId } from '../../../core/ids.ts';
import type { ObjectRecord, SegmentRecord } from '../../../core/objects/model.ts';
import type { ObjectListQuery, ObjectRepo } from '../../../ports/object-metadata.ts';
import type { ObjectsTable } from '../tables.ts';
import { chunks, type Db, type DialectTraits, INSERT_CHUNK, json } from './kysely-db.ts';

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

export class KyselyObjectRepo implements ObjectRepo {
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
