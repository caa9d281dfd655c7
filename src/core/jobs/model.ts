// Queued jobs (media tasks and background work) and how a run ends.
import type { LibraryId } from '../ids.ts';

/** VOD's task states, shared by every job kind. */
export type JobState = 'WAITING' | 'PROCESSING' | 'SUCCEED' | 'FAILED' | 'CANCEL';

export interface JobRecord {
  id: string;
  /** What runs it: 'edit', 'transcode', 'snapshot', 'callback'. */
  kind: string;
  libraryId: LibraryId;
  /** The space the job works in (its output's), to keep tenants apart; null for library-wide jobs. */
  spaceId: string | null;
  state: JobState;
  /** Higher runs first (-10..10). */
  priority: number;
  payload: unknown;
  /** 0..100. */
  progress: number;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** Not claimable before this time (retry backoff). */
  runAfter: number;
  /** A forced cancel of a running job was asked for; its worker stops it. */
  cancelRequested: boolean;
  /** The VOD asset the job is about (its output for edits, its source for processing). */
  assetId: string | null;
  result: unknown;
  errorCode: string | null;
  errorMsg: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt: number;
}

export interface JobEnd {
  result?: unknown;
  errorCode?: string;
  errorMsg?: string;
  progress?: number;
}
