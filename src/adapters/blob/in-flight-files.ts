// The temporary files a process is writing. Age alone cannot tell an abandoned temporary file from
// a slow one: with direct I/O a body is written once per MiB, so an upload slower than a MiB per
// orphan grace period looked abandoned and was swept from under its writer. The sweeper of this
// process skips the files registered here, and their modification times are refreshed well inside
// the grace period for a sweeper in another process sharing the data dir (docs/adr/0001 §19).
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';

export class InFlightFiles {
  readonly #dir: string;
  readonly #keepAliveMs: number;
  readonly #names = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #touching = false;

  /** Files live in `dir`; each one's modification time is refreshed every `keepAliveMs`. */
  constructor(dir: string, keepAliveMs: number) {
    this.#dir = dir;
    this.#keepAliveMs = keepAliveMs;
  }

  /** Whether the file `name` is being written by this process. */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** Runs `write` on the file `name`, registered from before it exists until it is renamed or removed. */
  async run<T>(name: string, write: (path: string) => Promise<T>): Promise<T> {
    this.#names.add(name);
    this.#timer ??= setInterval(() => void this.#touchAll(), this.#keepAliveMs).unref();
    try {
      return await write(join(this.#dir, name));
    } finally {
      this.#names.delete(name);
      if (this.#names.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    }
  }

  async #touchAll(): Promise<void> {
    if (this.#touching) return;
    this.#touching = true;
    try {
      const now = new Date();
      for (const name of [...this.#names]) {
        // ENOENT: renamed into place, removed, or not yet created since the set was read.
        await utimes(join(this.#dir, name), now, now).catch(() => {});
      }
    } finally {
      this.#touching = false;
    }
  }
}
