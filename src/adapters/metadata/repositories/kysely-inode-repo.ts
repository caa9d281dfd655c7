// Inodes over kysely: directories and files of a space, unique by name in their directory, listed in
// every order SMH offers with keyset cursors.

import type { ExpressionBuilder } from 'kysely';
import type { LibraryId } from '../../../core/ids.ts';
import type { InodeCursor, InodeRecord, InodeType } from '../../../core/namespace/model.ts';
import type { InodeListQuery, InodeRepo } from '../../../ports/library-store.ts';
import type { Database, InodesTable } from '../tables.ts';
import { type Db, json } from './kysely-db.ts';

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
