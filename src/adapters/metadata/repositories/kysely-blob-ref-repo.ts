// The rows that point to blobs (object segments and parts), for the sweeper and `mediahost verify`.
import type { BlobKey, BucketName, UploadId } from '../../../core/ids.ts';
import type { BlobRef } from '../../../core/objects/model.ts';
import type { BlobRefRepo } from '../../../ports/object-metadata.ts';
import { chunks, type Db, INSERT_CHUNK } from './kysely-db.ts';

export class KyselyBlobRefRepo implements BlobRefRepo {
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
