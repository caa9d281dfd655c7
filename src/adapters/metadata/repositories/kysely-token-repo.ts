// Access tokens over kysely: kept by hash, with sliding expiry and revocation by user, space or library.
import type { LibraryId } from '../../../core/ids.ts';
import type { TokenRecord } from '../../../core/tokens/model.ts';
import type { TokenRepo } from '../../../ports/library-store.ts';
import type { AccessTokensTable } from '../tables.ts';
import { type Db, json } from './kysely-db.ts';

function toToken(row: AccessTokensTable): TokenRecord {
  return {
    hash: row.token_hash,
    libraryId: row.library_id as LibraryId,
    spaceIds: row.space_ids === null ? null : JSON.parse(row.space_ids),
    userId: row.user_id,
    clientId: row.client_id,
    sessionId: row.session_id,
    grants: JSON.parse(row.grants),
    period: Number(row.period),
    expiresAt: Number(row.expires_at),
    createdAt: Number(row.created_at),
  };
}

export class KyselyTokenRepo implements TokenRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async insert(t: TokenRecord): Promise<void> {
    await this.db
      .insertInto('access_tokens')
      .values({
        token_hash: t.hash,
        library_id: t.libraryId,
        space_ids: t.spaceIds === null ? null : json(t.spaceIds),
        user_id: t.userId,
        client_id: t.clientId,
        session_id: t.sessionId,
        grants: json(t.grants),
        period: t.period,
        expires_at: t.expiresAt,
        created_at: t.createdAt,
      })
      .execute();
  }

  async get(hash: string): Promise<TokenRecord | undefined> {
    const row = await this.db
      .selectFrom('access_tokens')
      .selectAll()
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    return row && toToken(row);
  }

  async extend(hash: string, expiresAt: number, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('access_tokens')
      .set({ expires_at: expiresAt })
      .where('token_hash', '=', hash)
      .where('expires_at', '>=', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async delete(hash: string): Promise<boolean> {
    const r = await this.db.deleteFrom('access_tokens').where('token_hash', '=', hash).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async deleteForUser(
    libraryId: LibraryId,
    userId: string,
    filter: { clientIds?: string[]; sessionIds?: string[] },
  ): Promise<number> {
    let q = this.db
      .deleteFrom('access_tokens')
      .where('library_id', '=', libraryId)
      .where('user_id', '=', userId);
    if (filter.clientIds && filter.clientIds.length > 0) q = q.where('client_id', 'in', filter.clientIds);
    if (filter.sessionIds && filter.sessionIds.length > 0) q = q.where('session_id', 'in', filter.sessionIds);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('access_tokens').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteForLibrary(libraryId: LibraryId): Promise<number> {
    const r = await this.db
      .deleteFrom('access_tokens')
      .where('library_id', '=', libraryId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async removeSpace(libraryId: LibraryId, spaceId: string): Promise<number> {
    // space_ids is a JSON list; the LIKE only narrows the rows, the parsed list decides.
    const rows = await this.db
      .selectFrom('access_tokens')
      .select(['token_hash', 'space_ids'])
      .where('library_id', '=', libraryId)
      .where('space_ids', 'like', `%${json(spaceId)}%`)
      .execute();
    let changed = 0;
    for (const row of rows) {
      const ids = JSON.parse(row.space_ids ?? '[]') as string[];
      if (!ids.includes(spaceId)) continue;
      const kept = ids.filter((id) => id !== spaceId);
      // An empty list must not become null: null means "every space".
      if (kept.length === 0) await this.delete(row.token_hash);
      else
        await this.db
          .updateTable('access_tokens')
          .set({ space_ids: json(kept) })
          .where('token_hash', '=', row.token_hash)
          .execute();
      changed++;
    }
    return changed;
  }
}
