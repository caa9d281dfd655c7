// Runs queued jobs: each slot claims the most urgent job it handles, holds it with a lease renewed by
// heartbeats, and ends it SUCCEED, FAILED or CANCEL, or hands it back for a retry with backoff. A
// heartbeat that finds the job no longer ours (each claim holds its own lease owner), or a forced cancel
// requested, aborts the handler. On stop, running jobs are aborted and handed back without spending an
// attempt. Leases of vanished workers are reclaimed by whichever runner notices first. While the
// database is unavailable the runner backs off, and keeps the outcome of a finished run until it can
// record it, so an outage neither loses a task nor runs it again.
import { isAppError } from '../core/errors.ts';
import { randomString } from '../core/ids.ts';
import type { JobEnd, JobRecord } from '../core/jobs/model.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { MetadataStore, Repositories } from '../ports/metadata-store.ts';

export interface JobContext {
  job: JobRecord;
  signal: AbortSignal;
  /** Reports progress as a fraction (0..1); recorded with the next heartbeat. */
  progress(fraction: number): void;
}

export interface JobHandler {
  run(ctx: JobContext): Promise<unknown>;
  /** Called in the transaction that ends the job (to enqueue follow-up jobs such as callbacks). */
  onEnd?(
    tx: Repositories,
    job: JobRecord,
    state: 'SUCCEED' | 'FAILED' | 'CANCEL',
    end: JobEnd,
  ): Promise<void>;
}

/** A failure with a code for the task record; `retryable` failures spend an attempt and run again later. */
export class JobFailure extends Error {
  override name = 'JobFailure';
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

export interface JobRunnerOptions {
  store: MetadataStore;
  clock: Clock;
  logger: Logger;
  handlers: Record<string, JobHandler>;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** Prefix of this runner's lease owners (one owner per claim); unique per process. */
  workerId?: string;
}

type StopReason = 'cancel' | 'lost' | 'shutdown';

const BACKOFF_BASE_MS = 2000;
const BACKOFF_MAX_MS = 60_000;
/** Longest wait between two tries of an unavailable database. */
const UNAVAILABLE_MAX_WAIT_MS = 5000;

/** The database (or the object store) cannot be reached now: not the task's fault, try again later. */
function isUnavailable(err: unknown): boolean {
  return isAppError(err) && err.code === 'ServiceUnavailable';
}

export class JobRunner {
  readonly #o: JobRunnerOptions;
  readonly #workerId: string;
  readonly #running = new Map<string, AbortController>();
  readonly #stopping = new AbortController();
  #loops: Promise<void>[] = [];
  #lastReclaim = 0;
  #claims = 0;
  /** Consecutive failures to reach the database, shared by the slots (for backoff and logging). */
  #outage = 0;

  constructor(options: JobRunnerOptions) {
    this.#o = options;
    this.#workerId = options.workerId ?? `worker-${process.pid}-${randomString(8)}`;
  }

  get workerId(): string {
    return this.#workerId;
  }

  start(): void {
    if (this.#loops.length > 0 || this.#o.concurrency <= 0) return;
    for (let i = 0; i < this.#o.concurrency; i++) this.#loops.push(this.#loop());
  }

  /** Aborts a job running here (a forced cancel), without waiting for the next heartbeat. */
  stopLocal(jobId: string): void {
    this.#running.get(jobId)?.abort('cancel' satisfies StopReason);
  }

  /** Stops claiming, aborts running jobs and hands them back, then resolves. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    for (const controller of this.#running.values()) controller.abort('shutdown' satisfies StopReason);
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.#stopping.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async #reclaim(): Promise<void> {
    const now = this.#o.clock.now();
    if (now - this.#lastReclaim < this.#o.leaseMs / 2) return;
    this.#lastReclaim = now;
    // A job that ran out of attempts ends FAILED in the same transaction that queues what its end
    // brings (a callback), so a crash between the two cannot lose it.
    const reclaimed = await this.#o.store.transaction(async (tx) => {
      const jobs = await tx.jobs.reclaimExpired(now);
      for (const job of jobs) {
        if (job.state !== 'FAILED') continue;
        const end: JobEnd = {
          errorCode: job.errorCode ?? 'WORKER_LOST',
          errorMsg: job.errorMsg ?? 'worker lost',
        };
        await this.#o.handlers[job.kind]?.onEnd?.(tx, job, 'FAILED', end);
      }
      return jobs;
    });
    for (const job of reclaimed) {
      this.#o.logger.warn(
        { jobId: job.id, kind: job.kind, state: job.state },
        'reclaimed a job whose worker vanished',
      );
    }
  }

  async #loop(): Promise<void> {
    const kinds = Object.keys(this.#o.handlers);
    while (!this.#stopping.signal.aborted) {
      try {
        await this.#reclaim();
        const now = this.#o.clock.now();
        // One owner per claim, not per runner: if this lease lapses and another slot of this runner
        // claims the job again, the first run's heartbeat must find it no longer its own.
        const owner = `${this.#workerId}/${++this.#claims}`;
        const job = await this.#o.store.jobs.claim({ kinds, owner, leaseUntil: now + this.#o.leaseMs, now });
        this.#reachable();
        if (!job) {
          await this.#sleep(this.#o.pollMs);
          continue;
        }
        await this.#run(job, owner);
      } catch (err) {
        if (!isUnavailable(err)) this.#o.logger.error({ err }, 'job runner loop failed; retrying');
        await this.#sleep(isUnavailable(err) ? this.#unreachable(err) : this.#o.pollMs);
      }
    }
  }

  /** Notes a failure to reach the database; returns how long to wait before the next try. */
  #unreachable(err: unknown): number {
    if (this.#outage++ === 0) {
      const reason =
        (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : undefined;
      this.#o.logger.warn({ reason }, 'the database is unavailable; the job runner waits for it');
    }
    return Math.min(UNAVAILABLE_MAX_WAIT_MS, this.#o.pollMs * 2 ** Math.min(this.#outage, 10));
  }

  #reachable(): void {
    if (this.#outage === 0) return;
    this.#outage = 0;
    this.#o.logger.info({ workerId: this.#workerId }, 'the database is back; the job runner resumes');
  }

  /**
   * Records the outcome of a run, trying again while the database is unavailable: the run's work is
   * done, and running it again after the outage would repeat it. The heartbeats go on meanwhile, so the
   * lease holds once the database is back. On stop the outcome is dropped; the lease lapses and the
   * job runs again elsewhere.
   */
  async #record(job: JobRecord, outcome: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await outcome();
        this.#reachable();
        return;
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        const wait = this.#unreachable(err);
        if (this.#stopping.signal.aborted) {
          this.#o.logger.warn({ jobId: job.id }, 'stopping during a database outage; the job will run again');
          return;
        }
        await this.#sleep(wait);
      }
    }
  }

  async #end(
    job: JobRecord,
    owner: string,
    state: 'SUCCEED' | 'FAILED' | 'CANCEL',
    end: JobEnd,
  ): Promise<void> {
    const handler = this.#o.handlers[job.kind];
    const ended = await this.#o.store.transaction(async (tx) => {
      if (!(await tx.jobs.finish(job.id, owner, state, end, this.#o.clock.now()))) return false;
      await handler?.onEnd?.(tx, job, state, end);
      return true;
    });
    if (ended) this.#o.logger.info({ jobId: job.id, kind: job.kind, state, owner }, 'job ended');
    else this.#o.logger.warn({ jobId: job.id, state }, 'the job was no longer ours when it ended');
  }

  /** What to record for a run that threw (or was stopped): `reason` says why it was aborted, if it was. */
  #afterFailure(
    job: JobRecord,
    owner: string,
    err: unknown,
    reason: StopReason | undefined,
  ): () => Promise<void> {
    const { store, clock } = this.#o;
    if (reason === 'cancel') {
      return () =>
        this.#end(job, owner, 'CANCEL', {
          errorCode: 'CANCELLED',
          errorMsg: 'The task was stopped on request.',
        });
    }
    if (reason === 'shutdown') {
      return async () => {
        const now = clock.now();
        await store.jobs.release(job.id, owner, { runAfter: now, refundAttempt: true }, now);
      };
    }
    if (reason === 'lost') {
      return async () =>
        this.#o.logger.warn({ jobId: job.id }, 'lost the lease of a running job; it runs elsewhere');
    }
    const message = (err as Error)?.message ?? String(err);
    if (isUnavailable(err)) {
      // An outage is not the task's fault: it goes back to the queue without spending an attempt.
      this.#o.logger.warn(
        { jobId: job.id, reason: message },
        'a job met an unavailable store; it will run again',
      );
      return async () => {
        const now = clock.now();
        await store.jobs.release(
          job.id,
          owner,
          { runAfter: now + BACKOFF_BASE_MS, refundAttempt: true },
          now,
        );
      };
    }
    const failure = err instanceof JobFailure ? err : undefined;
    if (failure?.retryable === false || job.attempts >= job.maxAttempts) {
      return () =>
        this.#end(job, owner, 'FAILED', { errorCode: failure?.code ?? 'TASK_FAILED', errorMsg: message });
    }
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (job.attempts - 1));
    this.#o.logger.warn({ err, jobId: job.id, attempt: job.attempts }, 'job failed; it will be retried');
    return async () => {
      const now = clock.now();
      await store.jobs.release(
        job.id,
        owner,
        { runAfter: now + backoff, refundAttempt: false, errorMsg: message },
        now,
      );
    };
  }

  async #run(job: JobRecord, owner: string): Promise<void> {
    const { store, clock, leaseMs } = this.#o;
    const controller = new AbortController();
    this.#running.set(job.id, controller);
    // stop() came while this job was being claimed: it aborted only the jobs already running.
    if (this.#stopping.signal.aborted) controller.abort('shutdown' satisfies StopReason);
    let progress: number | undefined;
    let reported: number | undefined;
    const beat = async (): Promise<void> => {
      const send = progress !== reported ? progress : undefined;
      const hb = await store.jobs.heartbeat(job.id, owner, clock.now() + leaseMs, send);
      reported = send ?? reported;
      if (!hb.owned) controller.abort('lost' satisfies StopReason);
      else if (hb.cancelRequested) controller.abort('cancel' satisfies StopReason);
    };
    const timer = setInterval(
      () => {
        beat().catch((err) =>
          this.#o.logger.warn(
            isUnavailable(err) ? { jobId: job.id, reason: (err as Error).message } : { err, jobId: job.id },
            'heartbeat failed',
          ),
        );
      },
      Math.max(200, Math.floor(leaseMs / 3)),
    );
    if (job.cancelRequested) controller.abort('cancel' satisfies StopReason);
    const handler = this.#o.handlers[job.kind]!;
    this.#o.logger.info({ jobId: job.id, kind: job.kind, attempt: job.attempts, owner }, 'job started');
    let outcome: () => Promise<void>;
    try {
      const result = await handler.run({
        job,
        signal: controller.signal,
        progress: (fraction) => {
          progress = Math.max(progress ?? 0, Math.min(99, Math.floor(fraction * 100)));
        },
      });
      if (controller.signal.aborted) throw new Error('stopped');
      outcome = () => this.#end(job, owner, 'SUCCEED', { result: result ?? null, progress: 100 });
    } catch (err) {
      const reason = controller.signal.aborted ? (controller.signal.reason as StopReason) : undefined;
      outcome = this.#afterFailure(job, owner, err, reason);
    }
    try {
      await this.#record(job, outcome);
    } finally {
      clearInterval(timer);
      // A run that lost its lease to another slot here must not unregister that slot's run.
      if (this.#running.get(job.id) === controller) this.#running.delete(job.id);
    }
  }
}
