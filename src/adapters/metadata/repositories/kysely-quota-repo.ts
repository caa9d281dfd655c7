// Quotas over kysely: the capacity a library's spaces share, locked while a change is checked against it.
import type { LibraryId } from '../../../core/ids.ts';
import type { QuotaRecord } from '../../../core/spaces/model.ts';
import type { QuotaRepo } from '../../../ports/library-store.ts';
import type { Db, DialectTraits } from './kysely-db.ts';

export class KyselyQuotaRepo implements QuotaRepo {
  private readonly db: Db;
  private readonly traits: DialectTraits;

  constructor(db: Db, traits: DialectTraits) {
    this.db = db;
    this.traits = traits;
  }

  async insert(q: Omit<QuotaRecord, 'id'>): Promise<number> {
    const row = await this.db
      .insertInto('quotas')
      .values({
        library_id: q.libraryId,
        capacity: q.capacity,
        remove_when_exceed: q.removeWhenExceed ? 1 : 0,
        remove_after_days: q.removeAfterDays,
        remove_newest: q.removeNewest ? 1 : 0,
        created_at: q.createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  get(libraryId: LibraryId, id: number): Promise<QuotaRecord | undefined> {
    return this.#read(libraryId, id, false);
  }

  lock(libraryId: LibraryId, id: number): Promise<QuotaRecord | undefined> {
    return this.#read(libraryId, id, this.traits.rowLocks);
  }

  async #read(libraryId: LibraryId, id: number, forUpdate: boolean): Promise<QuotaRecord | undefined> {
    let q = this.db.selectFrom('quotas').selectAll().where('library_id', '=', libraryId).where('id', '=', id);
    if (forUpdate) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return (
      row && {
        id: Number(row.id),
        libraryId: row.library_id as LibraryId,
        capacity: Number(row.capacity),
        removeWhenExceed: Number(row.remove_when_exceed) === 1,
        removeAfterDays: Number(row.remove_after_days),
        removeNewest: Number(row.remove_newest) === 1,
        createdAt: Number(row.created_at),
      }
    );
  }

  async update(q: QuotaRecord): Promise<void> {
    await this.db
      .updateTable('quotas')
      .set({
        capacity: q.capacity,
        remove_when_exceed: q.removeWhenExceed ? 1 : 0,
        remove_after_days: q.removeAfterDays,
        remove_newest: q.removeNewest ? 1 : 0,
      })
      .where('id', '=', q.id)
      .execute();
  }
}
