// Repositories of the SMH business data (tokens, spaces, quotas, inodes, upload tasks) over kysely,
// shared by the SQLite and PostgreSQL adapters like the object repositories beside them.
import { type ExpressionBuilder, sql } from 'kysely';
import type { LibraryId } from '../../core/ids.ts';
import type { InodeCursor, InodeRecord, InodeType } from '../../core/namespace/model.ts';
import type { QuotaRecord, SpaceExtension, SpaceRecord } from '../../core/spaces/model.ts';
import type { TokenRecord } from '../../core/tokens/model.ts';
import type { UploadTaskRecord, UploadTaskState } from '../../core/uploads/model.ts';
import type {
  InodeListQuery,
  InodeRepo,
  LeaseCondition,
  QuotaRepo,
  SpaceRepo,
  TokenRepo,
  UploadTaskRepo,
} from '../../ports/library-store.ts';
import type { Db, DialectTraits } from './kysely-repositories.ts';
import type { AccessTokensTable, Database, InodesTable, SpacesTable, UploadTasksTable } from './tables.ts';

const json = (value: unknown): string => JSON.stringify(value);

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

function toInode(row: InodesTable): InodeRecord {
  return {
    id: row.id,
    libraryId: row.library_id as LibraryId,
    spaceId: row.space_id,
    parentId: row.parent_id,
    name: row.name,
    type: row.type as InodeType,
    size: Number(row.size),
    contentType: row.content_type,
    etag: row.etag,
    crc64: row.crc64,
    objectKey: row.object_key,
    meta: JSON.parse(row.meta),
    attributes: JSON.parse(row.attributes),
    beginningHash: row.beginning_hash,
    fullHash: row.full_hash,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    modifiedAt: Number(row.modified_at),
  };
}

function inodeRow(i: InodeRecord): InodesTable {
  return {
    id: i.id,
    library_id: i.libraryId,
    space_id: i.spaceId,
    parent_id: i.parentId,
    name: i.name,
    type: i.type,
    size: i.size,
    content_type: i.contentType,
    etag: i.etag,
    crc64: i.crc64,
    object_key: i.objectKey,
    meta: json(i.meta),
    attributes: json(i.attributes),
    beginning_hash: i.beginningHash,
    full_hash: i.fullHash,
    user_id: i.userId,
    created_at: i.createdAt,
    modified_at: i.modifiedAt,
  };
}

const ORDER_COLUMNS = {
  name: 'name',
  modificationTime: 'modified_at',
  size: 'size',
  creationTime: 'created_at',
} as const;

/** "Strictly after `c`" in the order (type?, column dir, name, id), as one boolean expression. */
function afterCursor(
  eb: ExpressionBuilder<Database, 'inodes'>,
  column: 'name' | 'modified_at' | 'size' | 'created_at',
  descending: boolean,
  union: boolean,
  c: InodeCursor,
) {
  const cmp = descending ? '<' : '>';
  const byTie = eb.or([eb('name', '>', c.name), eb.and([eb('name', '=', c.name), eb('id', '>', c.id)])]);
  const byValue =
    column === 'name'
      ? eb.or([eb('name', cmp, c.name), eb.and([eb('name', '=', c.name), eb('id', '>', c.id)])])
      : eb.or([eb(column, cmp, c.value as number), eb.and([eb(column, '=', c.value as number), byTie])]);
  if (union) return byValue;
  return eb.or([eb('type', '>', c.type), eb.and([eb('type', '=', c.type), byValue])]);
}

export class KyselyInodeRepo implements InodeRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async get(libraryId: LibraryId, spaceId: string, id: string): Promise<InodeRecord | undefined> {
    const row = await this.db
      .selectFrom('inodes')
      .selectAll()
      .where('id', '=', id)
      .where('library_id', '=', libraryId)
      .where('space_id', '=', spaceId)
      .executeTakeFirst();
    return row && toInode(row);
  }

  async find(libraryId: LibraryId, id: string): Promise<InodeRecord | undefined> {
    const row = await this.db
      .selectFrom('inodes')
      .selectAll()
      .where('id', '=', id)
      .where('library_id', '=', libraryId)
      .executeTakeFirst();
    return row && toInode(row);
  }

  async child(
    libraryId: LibraryId,
    spaceId: string,
    parentId: string,
    name: string,
  ): Promise<InodeRecord | undefined> {
    const row = await this.db
      .selectFrom('inodes')
      .selectAll()
      .where('library_id', '=', libraryId)
      .where('space_id', '=', spaceId)
      .where('parent_id', '=', parentId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toInode(row);
  }

  async childNames(
    libraryId: LibraryId,
    spaceId: string,
    parentId: string,
    prefix: string,
  ): Promise<string[]> {
    const rows = await this.db
      .selectFrom('inodes')
      .select('name')
      .where('library_id', '=', libraryId)
      .where('space_id', '=', spaceId)
      .where('parent_id', '=', parentId)
      .where('name', '>=', prefix)
      .orderBy('name')
      .limit(10_000)
      .execute();
    const out: string[] = [];
    for (const r of rows) {
      if (!r.name.startsWith(prefix)) break;
      out.push(r.name);
    }
    return out;
  }

  async list(query: InodeListQuery): Promise<InodeRecord[]> {
    const column = ORDER_COLUMNS[query.orderBy];
    const direction = query.descending ? 'desc' : 'asc';
    let q = this.db
      .selectFrom('inodes')
      .selectAll()
      .where('library_id', '=', query.libraryId)
      .where('space_id', '=', query.spaceId)
      .where('parent_id', '=', query.parentId);
    if (query.filter === 'onlyDir') q = q.where('type', '=', 'dir');
    if (query.filter === 'onlyFile') q = q.where('type', '=', 'file');
    const after = query.after;
    if (after) q = q.where((eb) => afterCursor(eb, column, query.descending, query.union, after));
    if (!query.union) q = q.orderBy('type', 'asc');
    q = q.orderBy(column, direction);
    if (column !== 'name') q = q.orderBy('name', 'asc');
    q = q.orderBy('id', 'asc').limit(query.limit);
    if (query.offset) q = q.offset(query.offset);
    return (await q.execute()).map(toInode);
  }

  async count(
    libraryId: LibraryId,
    spaceId: string,
    parentId: string,
  ): Promise<{ dirs: number; files: number }> {
    const rows = await this.db
      .selectFrom('inodes')
      .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('library_id', '=', libraryId)
      .where('space_id', '=', spaceId)
      .where('parent_id', '=', parentId)
      .groupBy('type')
      .execute();
    const n = (t: string) => Number(rows.find((r) => r.type === t)?.n ?? 0);
    return { dirs: n('dir'), files: n('file') };
  }

  async insert(inode: InodeRecord): Promise<boolean> {
    const r = await this.db
      .insertInto('inodes')
      .values(inodeRow(inode))
      .onConflict((oc) => oc.columns(['library_id', 'space_id', 'parent_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async update(inode: InodeRecord): Promise<void> {
    const { id: _id, ...fields } = inodeRow(inode);
    await this.db.updateTable('inodes').set(fields).where('id', '=', inode.id).execute();
  }

  async setHashes(
    libraryId: LibraryId,
    spaceId: string,
    id: string,
    objectKey: string,
    hashes: { beginningHash: string; fullHash: string },
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('inodes')
      .set({ beginning_hash: hashes.beginningHash, full_hash: hashes.fullHash })
      .where('library_id', '=', libraryId)
      .where('space_id', '=', spaceId)
      .where('id', '=', id)
      .where('object_key', '=', objectKey)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 400) {
      await this.db
        .deleteFrom('inodes')
        .where('id', 'in', ids.slice(i, i + 400))
        .execute();
    }
  }

  async descendants(libraryId: LibraryId, spaceId: string, id: string): Promise<InodeRecord[]> {
    const out: InodeRecord[] = [];
    let frontier = [id];
    while (frontier.length > 0) {
      const next: string[] = [];
      for (let i = 0; i < frontier.length; i += 400) {
        const rows = await this.db
          .selectFrom('inodes')
          .selectAll()
          .where('library_id', '=', libraryId)
          .where('space_id', '=', spaceId)
          .where('parent_id', 'in', frontier.slice(i, i + 400))
          .execute();
        for (const row of rows) {
          const inode = toInode(row);
          out.push(inode);
          if (inode.type === 'dir') next.push(inode.id);
        }
      }
      frontier = next;
    }
    return out;
  }

  async countInSpace(libraryId: LibraryId, spaceId: string): Promise<{ dirs: number; files: number }> {
    const rows = await this.db
      .selectFrom('inodes')
      .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('library_id', '=', libraryId)
      .where('space_id', '=', spaceId)
      .groupBy('type')
      .execute();
    const n = (t: string) => Number(rows.find((r) => r.type === t)?.n ?? 0);
    return { dirs: n('dir'), files: n('file') };
  }

  async findByHash(
    libraryId: LibraryId,
    spaceId: string,
    size: number,
    beginningHash: string,
  ): Promise<InodeRecord[]> {
    const rows = await this.db
      .selectFrom('inodes')
      .selectAll()
      .where('library_id', '=', libraryId)
      .where('space_id', '=', spaceId)
      .where('size', '=', size)
      .where('beginning_hash', '=', beginningHash)
      .limit(50)
      .execute();
    return rows.map(toInode);
  }
}

/** The lease part of a task update's WHERE clause (always true without a condition). */
function leaseHeld(eb: ExpressionBuilder<Database, 'upload_tasks'>, lease: LeaseCondition) {
  const owner = lease.owner === null ? eb('lease_owner', 'is', null) : eb('lease_owner', '=', lease.owner);
  return lease.expiredBefore === undefined
    ? owner
    : eb.and([owner, eb('lease_until', '<', lease.expiredBefore)]);
}

function toTask(row: UploadTasksTable): UploadTaskRecord {
  return {
    confirmKey: row.confirm_key,
    libraryId: row.library_id as LibraryId,
    spaceId: row.space_id,
    path: JSON.parse(row.path),
    flavour: row.flavour as UploadTaskRecord['flavour'],
    strategy: row.strategy as UploadTaskRecord['strategy'],
    force: Number(row.force) === 1,
    objectKey: row.object_key,
    uploadId: row.upload_id,
    credentialId: row.credential_id,
    state: row.state as UploadTaskState,
    objectReady: Number(row.object_ready) === 1,
    credentialExpiresAt: Number(row.credential_expires_at),
    userId: row.user_id,
    options: JSON.parse(row.options),
    result: row.result,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    leaseOwner: row.lease_owner,
    leaseUntil: Number(row.lease_until),
  };
}

type TaskPatch = Partial<
  Pick<
    UploadTaskRecord,
    | 'objectReady'
    | 'result'
    | 'credentialExpiresAt'
    | 'credentialId'
    | 'strategy'
    | 'leaseOwner'
    | 'leaseUntil'
  >
>;

function patchColumns(patch: TaskPatch): Partial<UploadTasksTable> {
  const out: Partial<UploadTasksTable> = {};
  if (patch.leaseOwner !== undefined) out.lease_owner = patch.leaseOwner;
  if (patch.leaseUntil !== undefined) out.lease_until = patch.leaseUntil;
  if (patch.objectReady !== undefined) out.object_ready = patch.objectReady ? 1 : 0;
  if (patch.result !== undefined) out.result = patch.result;
  if (patch.credentialExpiresAt !== undefined) out.credential_expires_at = patch.credentialExpiresAt;
  if (patch.strategy !== undefined) out.strategy = patch.strategy;
  if (patch.credentialId !== undefined) out.credential_id = patch.credentialId;
  return out;
}

export class KyselyUploadTaskRepo implements UploadTaskRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async insert(t: UploadTaskRecord): Promise<void> {
    await this.db
      .insertInto('upload_tasks')
      .values({
        confirm_key: t.confirmKey,
        library_id: t.libraryId,
        space_id: t.spaceId,
        path: json(t.path),
        flavour: t.flavour,
        strategy: t.strategy,
        force: t.force ? 1 : 0,
        object_key: t.objectKey,
        upload_id: t.uploadId,
        credential_id: t.credentialId,
        state: t.state,
        object_ready: t.objectReady ? 1 : 0,
        credential_expires_at: t.credentialExpiresAt,
        user_id: t.userId,
        options: json(t.options),
        result: t.result,
        created_at: t.createdAt,
        updated_at: t.updatedAt,
        lease_owner: t.leaseOwner,
        lease_until: t.leaseUntil,
      })
      .execute();
  }

  async get(confirmKey: string): Promise<UploadTaskRecord | undefined> {
    const row = await this.db
      .selectFrom('upload_tasks')
      .selectAll()
      .where('confirm_key', '=', confirmKey)
      .executeTakeFirst();
    return row && toTask(row);
  }

  async transition(
    confirmKey: string,
    from: UploadTaskState,
    to: UploadTaskState,
    patch: TaskPatch = {},
    now: number = Date.now(),
    lease?: LeaseCondition,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('upload_tasks')
      .set({ state: to, updated_at: now, ...patchColumns(patch) })
      .where('confirm_key', '=', confirmKey)
      .where('state', '=', from)
      .$if(lease !== undefined, (q) => q.where((eb) => leaseHeld(eb, lease!)))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async update(
    confirmKey: string,
    state: UploadTaskState,
    patch: Partial<
      Pick<UploadTaskRecord, 'objectReady' | 'credentialExpiresAt' | 'credentialId' | 'leaseUntil'>
    >,
    now: number,
    lease?: LeaseCondition,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('upload_tasks')
      .set({ updated_at: now, ...patchColumns(patch) })
      .where('confirm_key', '=', confirmKey)
      .where('state', '=', state)
      .$if(lease !== undefined, (q) => q.where((eb) => leaseHeld(eb, lease!)))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async listInSpace(libraryId: LibraryId, spaceId: string): Promise<UploadTaskRecord[]> {
    const rows = await this.db
      .selectFrom('upload_tasks')
      .selectAll()
      .where('library_id', '=', libraryId)
      .where('space_id', '=', spaceId)
      .execute();
    return rows.map(toTask);
  }

  async reopenConfirmsOf(ownerPrefix: string, keepOwner: string, now: number): Promise<number> {
    const r = await this.db
      .updateTable('upload_tasks')
      .set({ state: 'uploading', updated_at: now, lease_owner: null, lease_until: 0 })
      .where('state', '=', 'confirming')
      .where(sql<string>`substr(lease_owner, 1, ${sql.lit(ownerPrefix.length)})`, '=', ownerPrefix)
      .where('lease_owner', '<>', keepOwner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async listStale(state: UploadTaskState, before: number, limit: number): Promise<UploadTaskRecord[]> {
    const column =
      state === 'uploading' ? 'credential_expires_at' : state === 'confirming' ? 'lease_until' : 'updated_at';
    const rows = await this.db
      .selectFrom('upload_tasks')
      .selectAll()
      .where('state', '=', state)
      .where(column, '<', before)
      .orderBy(column)
      .limit(limit)
      .execute();
    return rows.map(toTask);
  }

  async delete(confirmKey: string): Promise<void> {
    await this.db.deleteFrom('upload_tasks').where('confirm_key', '=', confirmKey).execute();
  }
}
