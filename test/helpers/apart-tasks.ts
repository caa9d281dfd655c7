// What the contract suites run from separate database sessions at once (TestDatabase.apart): each task
// gets its own store, its input and its session's index, and returns JSON. Child processes (SQLite)
// import this module by path, so tasks use only the store and what they import here.
import assert from 'node:assert/strict';
import type { LibraryId } from '../../src/core/ids.ts';
import type { UploadTaskState } from '../../src/core/uploads/model.ts';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';

export const apartTasks = {
  /** Nothing: opening the store (and migrating) is the work. */
  async open(): Promise<null> {
    return null;
  },

  /** Claims jobs of `kinds` until none is left; the ids claimed, in order. */
  async drainJobs(
    store: MetadataStore,
    input: { kinds: string[]; now: number },
    index: number,
  ): Promise<string[]> {
    const owner = `p${index}`;
    const ids: string[] = [];
    for (;;) {
      const job = await store.jobs.claim({
        kinds: input.kinds,
        owner,
        leaseUntil: input.now + 60_000,
        now: input.now,
      });
      if (!job) return ids;
      assert.equal(job.leaseOwner, owner);
      ids.push(job.id);
    }
  },

  /** Moves every task from `from` to this session's target state at once; whether each call won. */
  async transitionUploadTasks(
    store: MetadataStore,
    input: { confirmKeys: string[]; from: UploadTaskState; to: UploadTaskState[]; now: number },
    index: number,
  ): Promise<boolean[]> {
    const to = input.to[index % input.to.length]!;
    return Promise.all(
      input.confirmKeys.map((key) => store.uploadTasks.transition(key, input.from, to, {}, input.now)),
    );
  },

  /** Adds 1 to a quota's capacity `times` times, each in a transaction that locks the quota first. */
  async incrementQuota(
    store: MetadataStore,
    input: { libraryId: LibraryId; quotaId: number; times: number },
  ): Promise<null> {
    await Promise.all(
      Array.from({ length: input.times }, () =>
        store.transaction(async (tx) => {
          const quota = await tx.quotas.lock(input.libraryId, input.quotaId);
          assert.ok(quota);
          await tx.quotas.update({ ...quota, capacity: quota.capacity + 1 });
        }),
      ),
    );
    return null;
  },
};

export type ApartTaskName = keyof typeof apartTasks;

/** A task and its input, checked against the task's signature. */
export type ApartTask = {
  [K in ApartTaskName]: { name: K; input: Parameters<(typeof apartTasks)[K]>[1] };
}[ApartTaskName];

export type ApartResult<K extends ApartTaskName> = Awaited<ReturnType<(typeof apartTasks)[K]>>;
