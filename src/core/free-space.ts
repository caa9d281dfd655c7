// What a full disk answers: every surface maps InsufficientStorage to its dialect (docs/adr/0001 §18).
// Writes are refused before any byte is read while free space is below the reserve, and a disk that
// fills anyway (ENOSPC, SQLite's "database or disk is full") answers the same code.
import type { DiskSpace, DiskUsage } from '../ports/disk-space.ts';
import { AppError } from './errors.ts';

/** The error of a write the disk could not take; `cause` keeps the system error for the log. */
export function insufficientStorage(cause?: unknown): AppError {
  return new AppError(
    'InsufficientStorage',
    "The server's disk is full: the request could not be stored. Try again once space has been freed.",
    cause === undefined ? {} : { cause },
  );
}

/** Refuses a write of `incomingBytes` (0 when unknown) that would leave less than the reserve free. */
export async function requireFreeSpace(disk: DiskSpace, incomingBytes = 0): Promise<void> {
  const usage = await disk.usage();
  if (usage.freeBytes - incomingBytes < usage.reserveBytes) {
    throw new AppError(
      'InsufficientStorage',
      incomingBytes > usage.freeBytes
        ? "The server's disk has not enough free space for this request."
        : "The server's disk is nearly full: new uploads are refused until space has been freed.",
    );
  }
}

export interface DiskHealth extends Partial<DiskUsage> {
  /** ok; low: below the reserve, uploads are refused; unavailable: the data dir cannot be examined. */
  status: 'ok' | 'low' | 'unavailable';
  reason?: string;
}

/** The data dir's disk as /healthz reports it. */
export async function diskHealth(disk: DiskSpace): Promise<DiskHealth> {
  try {
    const usage = await disk.usage();
    return { status: usage.freeBytes < usage.reserveBytes ? 'low' : 'ok', ...usage };
  } catch (err) {
    return { status: 'unavailable', reason: (err as Error).message };
  }
}
