// The job queue over kysely: claiming is one UPDATE of the most urgent WAITING row, which PostgreSQL
// picks with FOR UPDATE SKIP LOCKED (several nodes claim at once without waiting on each other) and
// SQLite under its single writer. Every later transition is conditional on the state and the lease
// owner, so a cancel racing a claim, or a worker racing the reclaim of its expired lease, has one winner.
import type { LibraryId } from '../../../core/ids.ts';
import type { JobEnd, JobRecord, JobState } from '../../../core/jobs/model.ts';
import type { JobRepo } from '../../../ports/job-queue.ts';
import type { JobsTable } from '../tables.ts';
import type { Db, DialectTraits } from './kysely-db.ts';

function toJob(row: JobsTable): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    libraryId: row.library_id as LibraryId,
    spaceId: row.space_id,
    state: row.state as JobState,
    priority: Number(row.priority),
    payload: JSON.parse(row.payload),
    progress: Number(row.progress),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
    runAfter: Number(row.run_after),
    cancelRequested: Number(row.cancel_requested) === 1,
    assetId: row.asset_id,
    result: row.result === null ? null : JSON.parse(row.result),
    errorCode: row.error_code,
    errorMsg: row.error_msg,
    createdAt: Number(row.created_at),
    startedAt: row.started_at === null ? null : Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    updatedAt: Number(row.updated_at),
  };
}

export class KyselyJobRepo implements JobRepo {
  private readonly db: Db;
  private readonly traits: DialectTraits;

  constructor(db: Db, traits: DialectTraits) {
    this.db = db;
    this.traits = traits;
  }

  async insert(job: JobRecord): Promise<void> {
    await this.db
      .insertInto('jobs')
      .values({
        id: job.id,
        kind: job.kind,
        library_id: job.libraryId,
        space_id: job.spaceId,
        state: job.state,
        priority: job.priority,
        payload: JSON.stringify(job.payload),
        progress: job.progress,
        attempts: job.attempts,
        max_attempts: job.maxAttempts,
        lease_owner: job.leaseOwner,
        lease_until: job.leaseUntil,
        run_after: job.runAfter,
        cancel_requested: job.cancelRequested ? 1 : 0,
        asset_id: job.assetId,
        result: job.result === null || job.result === undefined ? null : JSON.stringify(job.result),
        error_code: job.errorCode,
        error_msg: job.errorMsg,
        created_at: job.createdAt,
        started_at: job.startedAt,
        ended_at: job.endedAt,
        updated_at: job.updatedAt,
      })
      .execute();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toJob(row);
  }

  async claim(input: {
    kinds: readonly string[];
    owner: string;
    leaseUntil: number;
    now: number;
  }): Promise<JobRecord | undefined> {
    if (input.kinds.length === 0) return undefined;
    let next = this.db
      .selectFrom('jobs')
      .select('id')
      .where('state', '=', 'WAITING')
      .where('kind', 'in', [...input.kinds])
      .where('run_after', '<=', input.now)
      .orderBy('priority', 'desc')
      .orderBy('created_at')
      .orderBy('id')
      .limit(1);
    if (this.traits.rowLocks) next = next.forUpdate().skipLocked();
    const row = await this.db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'PROCESSING',
        lease_owner: input.owner,
        lease_until: input.leaseUntil,
        attempts: eb('attempts', '+', 1),
        started_at: eb.fn.coalesce('started_at', eb.val(input.now)),
        updated_at: input.now,
      }))
      .where('id', '=', next)
      .where('state', '=', 'WAITING')
      .returningAll()
      .executeTakeFirst();
    return row && toJob(row);
  }

  async heartbeat(
    id: string,
    owner: string,
    leaseUntil: number,
    progress: number | undefined,
  ): Promise<{ owned: boolean; cancelRequested: boolean }> {
    const row = await this.db
      .updateTable('jobs')
      .set({ lease_until: leaseUntil, ...(progress === undefined ? {} : { progress }) })
      .where('id', '=', id)
      .where('state', '=', 'PROCESSING')
      .where('lease_owner', '=', owner)
      .returning('cancel_requested')
      .executeTakeFirst();
    return { owned: row !== undefined, cancelRequested: Number(row?.cancel_requested ?? 0) === 1 };
  }

  async finish(
    id: string,
    owner: string,
    state: 'SUCCEED' | 'FAILED' | 'CANCEL',
    end: JobEnd,
    now: number,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({
        state,
        lease_owner: null,
        lease_until: null,
        ended_at: now,
        updated_at: now,
        ...(end.progress === undefined ? {} : { progress: end.progress }),
        ...(end.result === undefined ? {} : { result: JSON.stringify(end.result) }),
        ...(end.errorCode === undefined ? {} : { error_code: end.errorCode }),
        ...(end.errorMsg === undefined ? {} : { error_msg: end.errorMsg }),
      })
      .where('id', '=', id)
      .where('state', '=', 'PROCESSING')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async release(
    id: string,
    owner: string,
    input: { runAfter: number; refundAttempt: boolean; errorMsg?: string },
    now: number,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'WAITING',
        lease_owner: null,
        lease_until: null,
        run_after: input.runAfter,
        progress: 0,
        updated_at: now,
        ...(input.refundAttempt ? { attempts: eb('attempts', '-', 1) } : {}),
        ...(input.errorMsg === undefined ? {} : { error_msg: input.errorMsg }),
      }))
      .where('id', '=', id)
      .where('state', '=', 'PROCESSING')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async cancelWaiting(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ state: 'CANCEL', ended_at: now, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'WAITING')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async requestCancel(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ cancel_requested: 1, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'PROCESSING')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async reclaimExpired(now: number): Promise<JobRecord[]> {
    const expired = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('state', '=', 'PROCESSING')
      .where('lease_until', '<', now)
      .limit(100)
      .execute();
    const changed: JobRecord[] = [];
    for (const row of expired) {
      const job = toJob(row);
      const exhausted = job.attempts >= job.maxAttempts;
      const updated = await this.db
        .updateTable('jobs')
        .set(
          exhausted
            ? {
                state: 'FAILED',
                lease_owner: null,
                lease_until: null,
                ended_at: now,
                updated_at: now,
                error_code: 'WORKER_LOST',
                error_msg: `The worker running this task stopped responding ${job.attempts} times.`,
              }
            : { state: 'WAITING', lease_owner: null, lease_until: null, progress: 0, updated_at: now },
        )
        .where('id', '=', job.id)
        .where('state', '=', 'PROCESSING')
        .where('lease_until', '=', job.leaseUntil)
        .returningAll()
        .executeTakeFirst();
      // The row as written: a FAILED job's callback must carry its WORKER_LOST error, not a stale one.
      if (updated) changed.push(toJob(updated));
    }
    return changed;
  }

  async list(query: {
    libraryId: LibraryId;
    kinds: readonly string[];
    spaceIds?: readonly string[];
    id?: string;
    offset: number;
    limit: number;
  }): Promise<{ total: number; jobs: JobRecord[] }> {
    let base = this.db
      .selectFrom('jobs')
      .where('library_id', '=', query.libraryId)
      .where('kind', 'in', [...query.kinds]);
    if (query.id !== undefined) base = base.where('id', '=', query.id);
    if (query.spaceIds !== undefined) {
      if (query.spaceIds.length === 0) return { total: 0, jobs: [] };
      base = base.where('space_id', 'in', [...query.spaceIds]);
    }
    const [count, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      base
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .offset(query.offset)
        .limit(query.limit)
        .execute(),
    ]);
    return { total: Number(count.n), jobs: rows.map(toJob) };
  }

  async forAsset(
    libraryId: LibraryId,
    assetId: string,
    kinds: readonly string[],
    states: readonly JobState[],
  ): Promise<JobRecord[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('library_id', '=', libraryId)
      .where('asset_id', '=', assetId)
      .where('kind', 'in', [...kinds])
      .where('state', 'in', [...states])
      .orderBy('created_at')
      .execute();
    return rows.map(toJob);
  }
}
