// DiskSpace from statfs(2) on the data dir, remembered for a moment: a burst of requests costs one
// system call, and a disk that was freed is seen again within that moment.
import { statfs } from 'node:fs/promises';
import type { DiskSpace, DiskUsage } from '../../ports/disk-space.ts';

/** How long one statfs answer is reused. */
const CACHE_MS = 1000;

export class StatfsDiskSpace implements DiskSpace {
  readonly #dir: string;
  readonly #reserveBytes: number;
  #cached: { at: number; usage: Promise<DiskUsage> } | undefined;

  constructor(dir: string, reserveBytes: number) {
    this.#dir = dir;
    this.#reserveBytes = reserveBytes;
  }

  usage(): Promise<DiskUsage> {
    const now = Date.now();
    if (this.#cached && now - this.#cached.at < CACHE_MS) return this.#cached.usage;
    const usage = statfs(this.#dir).then((s) => ({
      // bavail, not bfree: the blocks a filesystem keeps for root are not ours to count on.
      freeBytes: s.bavail * s.bsize,
      totalBytes: s.blocks * s.bsize,
      reserveBytes: this.#reserveBytes,
    }));
    const entry = { at: now, usage };
    this.#cached = entry;
    // A failure is not remembered: the next caller asks again.
    usage.catch(() => {
      if (this.#cached === entry) this.#cached = undefined;
    });
    return usage;
  }
}
