// Multipart uploads and their parts over kysely; lock() holds an upload until the transaction ends.
import type { BlobKey, BucketName, UploadId } from '../../../core/ids.ts';
import type {
  CompletedUpload,
  PartRecord,
  PartSummary,
  UploadRecord,
  UploadState,
} from '../../../core/objects/model.ts';
import type { MultipartRepo, UploadListQuery } from '../../../ports/object-metadata.ts';
import type { MultipartUploadsTable, PartsTable } from '../tables.ts';
import { type Db, type DialectTraits, json } from './kysely-db.ts';

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

export class KyselyMultipartRepo implements MultipartRepo {
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
