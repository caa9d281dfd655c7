// The job queue: leased claims, heartbeats and conditional ends, so each job has one runner at a time.
import type { LibraryId } from '../core/ids.ts';
import type { JobEnd, JobRecord, JobState } from '../core/jobs/model.ts';

export interface JobRepo {
  insert(job: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Takes the most urgent claimable job of these kinds: WAITING → PROCESSING with a lease. */
  claim(input: {
    kinds: readonly string[];
    owner: string;
    leaseUntil: number;
    now: number;
  }): Promise<JobRecord | undefined>;
  /** Renews the lease (and records progress) while `owner` still holds the job. */
  heartbeat(
    id: string,
    owner: string,
    leaseUntil: number,
    progress: number | undefined,
  ): Promise<{ owned: boolean; cancelRequested: boolean }>;
  /** PROCESSING → an end state, if `owner` still holds it. */
  finish(
    id: string,
    owner: string,
    state: 'SUCCEED' | 'FAILED' | 'CANCEL',
    end: JobEnd,
    now: number,
  ): Promise<boolean>;
  /** PROCESSING → WAITING (retry later, or handed back at shutdown without counting the attempt). */
  release(
    id: string,
    owner: string,
    input: { runAfter: number; refundAttempt: boolean; errorMsg?: string },
    now: number,
  ): Promise<boolean>;
  /** WAITING → CANCEL; false when the job is in any other state. */
  cancelWaiting(id: string, now: number): Promise<boolean>;
  /** Flags a PROCESSING job for its worker to stop; false when it is not processing. */
  requestCancel(id: string, now: number): Promise<boolean>;
  /** Jobs whose worker vanished (lease expired): back to WAITING, or FAILED once out of attempts. */
  reclaimExpired(now: number): Promise<JobRecord[]>;
  list(query: {
    libraryId: LibraryId;
    kinds: readonly string[];
    /** Only jobs of these spaces (a space-scoped token); undefined for all. */
    spaceIds?: readonly string[];
    id?: string;
    offset: number;
    limit: number;
  }): Promise<{ total: number; jobs: JobRecord[] }>;
  forAsset(
    libraryId: LibraryId,
    assetId: string,
    kinds: readonly string[],
    states: readonly JobState[],
  ): Promise<JobRecord[]>;
}
