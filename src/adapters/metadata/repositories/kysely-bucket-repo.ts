// Buckets over kysely: one row per bucket name, owned by a library.
import type { BucketName, LibraryId } from '../../../core/ids.ts';
import type { BucketAcl, BucketRecord } from '../../../core/objects/model.ts';
import type { BucketRepo } from '../../../ports/object-metadata.ts';
import type { Db } from './kysely-db.ts';

export class KyselyBucketRepo implements BucketRepo {
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
