// Spaces over kysely: a space id is never used twice in a library, even after its space is deleted.
import type { LibraryId } from '../../../core/ids.ts';
import type { SpaceExtension, SpaceRecord } from '../../../core/spaces/model.ts';
import type { SpaceRepo } from '../../../ports/library-store.ts';
import type { SpacesTable } from '../tables.ts';
import { type Db, json } from './kysely-db.ts';

function toSpace(row: SpacesTable): SpaceRecord {
  return {
    libraryId: row.library_id as LibraryId,
    id: row.id,
    userId: row.user_id,
    extension: JSON.parse(row.extension) as SpaceExtension,
    quotaId: row.quota_id === null ? null : Number(row.quota_id),
    usedBytes: Number(row.used_bytes),
    createdAt: Number(row.created_at),
  };
}

export class KyselySpaceRepo implements SpaceRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async insert(space: SpaceRecord): Promise<boolean> {
    // The id is claimed in used_space_ids first: its primary key makes an id usable once, ever.
    const claimed = await this.db
      .insertInto('used_space_ids')
      .values({ library_id: space.libraryId, id: space.id, created_at: space.createdAt, deleted_at: null })
      .onConflict((oc) => oc.columns(['library_id', 'id']).doNothing())
      .executeTakeFirst();
    if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    const r = await this.db
      .insertInto('spaces')
      .values({
        library_id: space.libraryId,
        id: space.id,
        user_id: space.userId,
        extension: json(space.extension),
        quota_id: space.quotaId,
        used_bytes: space.usedBytes,
        created_at: space.createdAt,
      })
      .onConflict((oc) => oc.columns(['library_id', 'id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async get(libraryId: LibraryId, id: string): Promise<SpaceRecord | undefined> {
    const row = await this.db
      .selectFrom('spaces')
      .selectAll()
      .where('library_id', '=', libraryId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toSpace(row);
  }

  async list(
    libraryId: LibraryId,
    query: { after: string; limit: number; ids?: readonly string[]; userId?: string; prefix?: string },
  ): Promise<SpaceRecord[]> {
    let q = this.db
      .selectFrom('spaces')
      .selectAll()
      .where('library_id', '=', libraryId)
      .where('id', '>', query.after);
    const { ids, userId } = query;
    if (ids !== undefined || userId !== undefined) {
      q = q.where((eb) =>
        eb.or([
          ...(ids !== undefined && ids.length > 0 ? [eb('id', 'in', [...ids])] : []),
          ...(userId !== undefined ? [eb('user_id', '=', userId)] : []),
        ]),
      );
    }
    // Compared, not ranged: under a language collation (PostgreSQL's default outside the C locale) the
    // ids of a prefix need not sort together, so a range scan stopping at the first miss loses some.
    const prefix = query.prefix;
    if (prefix)
      q = q.where((eb) => eb(eb.fn('substr', ['id', eb.lit(1), eb.lit([...prefix].length)]), '=', prefix));
    const rows = await q.orderBy('id').limit(query.limit).execute();
    return rows.map(toSpace);
  }

  async count(libraryId: LibraryId): Promise<number> {
    const row = await this.db
      .selectFrom('spaces')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('library_id', '=', libraryId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async totalUsedBytes(libraryId: LibraryId): Promise<number> {
    const row = await this.db
      .selectFrom('spaces')
      .select((eb) => eb.fn.sum<number | string | null>('used_bytes').as('n'))
      .where('library_id', '=', libraryId)
      .executeTakeFirstOrThrow();
    // PostgreSQL sums bigints to numeric, which arrives as a string.
    return Number(row.n ?? 0);
  }

  async delete(libraryId: LibraryId, id: string, now: number): Promise<void> {
    await this.db.deleteFrom('spaces').where('library_id', '=', libraryId).where('id', '=', id).execute();
    await this.db
      .updateTable('used_space_ids')
      .set({ deleted_at: now })
      .where('library_id', '=', libraryId)
      .where('id', '=', id)
      .execute();
  }

  async setExtension(libraryId: LibraryId, id: string, extension: SpaceExtension): Promise<void> {
    await this.db
      .updateTable('spaces')
      .set({ extension: json(extension) })
      .where('library_id', '=', libraryId)
      .where('id', '=', id)
      .execute();
  }

  async setQuota(libraryId: LibraryId, ids: readonly string[], quotaId: number | null): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('spaces')
      .set({ quota_id: quotaId })
      .where('library_id', '=', libraryId)
      .where('id', 'in', [...ids])
      .execute();
  }

  async addUsedBytes(libraryId: LibraryId, id: string, delta: number): Promise<void> {
    if (delta === 0) return;
    await this.db
      .updateTable('spaces')
      .set((eb) => ({ used_bytes: eb('used_bytes', '+', delta) }))
      .where('library_id', '=', libraryId)
      .where('id', '=', id)
      .execute();
  }

  async forQuota(quotaId: number): Promise<SpaceRecord[]> {
    const rows = await this.db
      .selectFrom('spaces')
      .selectAll()
      .where('quota_id', '=', quotaId)
      .orderBy('id')
      .execute();
    return rows.map(toSpace);
  }
}
