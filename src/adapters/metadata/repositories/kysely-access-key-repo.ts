// Access keys over kysely: permanent key pairs and temporary credentials, indexed by the upload or
// object their scope confines them to so they can be revoked with it.
import type { AccessKeyId, BucketName, LibraryId } from '../../../core/ids.ts';
import type { AccessKeyRecord } from '../../../core/objects/model.ts';
import type { AccessKeyRepo } from '../../../ports/object-metadata.ts';
import type { AccessKeysTable } from '../tables.ts';
import { type Db, json } from './kysely-db.ts';

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

export class KyselyAccessKeyRepo implements AccessKeyRepo {
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
