// SMH upload tasks over kysely: every change is conditional on the state (and the confirm lease), so
// racing changes have one winner.

import { type ExpressionBuilder, sql } from 'kysely';
import type { LibraryId } from '../../../core/ids.ts';
import type { UploadTaskRecord, UploadTaskState } from '../../../core/uploads/model.ts';
import type { LeaseCondition, UploadTaskRepo } from '../../../ports/library-store.ts';
import type { Database, UploadTasksTable } from '../tables.ts';
import { type Db, json } from './kysely-db.ts';

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
