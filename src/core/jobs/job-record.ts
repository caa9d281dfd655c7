// A new queued job: what media tasks and the background work of uploads put into the job queue.

import type { LibraryId } from '../ids.ts';
import { randomString } from '../ids.ts';
import type { JobRecord } from './model.ts';

const LOWER36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Time-ordered, unguessable: base-36 milliseconds and 14 random characters. */
export function newTaskId(now: number): string {
  return `${now.toString(36)}${randomString(14, LOWER36)}`;
}

export function newJobRecord(input: {
  kind: string;
  libraryId: LibraryId;
  spaceId: string | null;
  payload: unknown;
  priority: number;
  maxAttempts: number;
  assetId: string | null;
  now: number;
}): JobRecord {
  const { now } = input;
  return {
    id: newTaskId(now),
    kind: input.kind,
    libraryId: input.libraryId,
    spaceId: input.spaceId,
    state: 'WAITING',
    priority: input.priority,
    payload: input.payload,
    progress: 0,
    attempts: 0,
    maxAttempts: input.maxAttempts,
    leaseOwner: null,
    leaseUntil: null,
    runAfter: now,
    cancelRequested: false,
    assetId: input.assetId,
    result: null,
    errorCode: null,
    errorMsg: null,
    createdAt: now,
    startedAt: null,
    endedAt: null,
    updatedAt: now,
  };
}
