// Tenant spaces (spec smh §1.2, §2.2) and their quotas (§2.6). A single-tenant library has exactly the
// space "-"; a multi-tenant library's spaces are created and deleted through the API.
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { MetadataStore, Repositories } from '../../ports/metadata-store.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { AppError } from '../errors.ts';
import { randomString } from '../ids.ts';
import { type AccessContext, hasGrant, requireAnyGrant, requireSpaceAccess } from '../tokens/access.ts';
import type { UploadTaskRecord } from '../uploads/model.ts';
import { releaseTask } from '../uploads/task-release.ts';
import type { QuotaRecord, SpaceExtension, SpaceRecord } from './model.ts';

const SPACE_ID = /^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/;
const MAX_LIST = 1000;

export interface QuotaPatch {
  capacity?: number;
  removeWhenExceed?: boolean;
  removeAfterDays?: number;
  removeNewest?: boolean;
}

export interface SpaceUsage {
  space: SpaceRecord;
  /** null: the space has no quota. */
  capacity: number | null;
  available: number | null;
}

export interface SpaceListResult {
  list: SpaceRecord[];
  nextMarker: string | undefined;
}

export class SpaceService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(deps: { store: MetadataStore; objects: ObjectStore; clock: Clock; logger: Logger }) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** The space the caller wants, after checking the caller may touch it. */
  async require(ctx: AccessContext, spaceId: string): Promise<SpaceRecord> {
    requireSpaceAccess(ctx, spaceId);
    const space = await this.#store.spaces.get(ctx.library.id, spaceId);
    if (!space) throw new AppError('SpaceNotFound', `Space ${spaceId} does not exist.`);
    return space;
  }

  async create(
    ctx: AccessContext,
    input: { spaceId?: string; extension: SpaceExtension },
  ): Promise<SpaceRecord> {
    if (!ctx.library.isMultiTenant)
      throw new AppError('NotMultiSpaceLibrary', 'This library is single-tenant.');
    requireAnyGrant(ctx, ['create_space'], 'create spaces');
    const id = input.spaceId ?? `space${randomString(13, '0123456789abcdefghijklmnopqrstuvwxyz')}`;
    if (!SPACE_ID.test(id)) {
      throw new AppError(
        'SpaceIdInvalid',
        'A space id is 2 to 32 of a-z, 0-9 and "-", not starting or ending with "-".',
      );
    }
    const space: SpaceRecord = {
      libraryId: ctx.library.id,
      id,
      userId: ctx.userId,
      extension: input.extension,
      quotaId: null,
      usedBytes: 0,
      createdAt: this.#clock.now(),
    };
    if (!(await this.#store.spaces.insert(space))) {
      // ADR 0002 §10: ids of deleted spaces are never reused, so nothing granted for one reaches a new one.
      const live = await this.#store.spaces.get(ctx.library.id, id);
      throw new AppError(
        'SpaceAlreadyExists',
        live ? `Space ${id} already exists.` : `Space ${id} was deleted; space ids are never reused.`,
      );
    }
    return space;
  }

  /**
   * ADR 0002 §9: admin/space_admin without space_id see every space; any other token the spaces it is
   * scoped to and those its user created (a token without user_id owns none).
   */
  async list(
    ctx: AccessContext,
    input: { marker?: string; limit?: number; prefix?: string },
  ): Promise<SpaceListResult> {
    if (!ctx.library.isMultiTenant)
      throw new AppError('NotMultiSpaceLibrary', 'This library is single-tenant.');
    const limit = Math.min(Math.max(1, input.limit ?? MAX_LIST), MAX_LIST);
    const all = ctx.spaceIds === null && hasGrant(ctx, 'space_admin');
    const ids = ctx.spaceIds ?? [];
    if (!all && ids.length === 0 && ctx.userId === '') return { list: [], nextMarker: undefined };
    const rows = await this.#store.spaces.list(ctx.library.id, {
      after: input.marker ?? '',
      limit: limit + 1,
      ...(all ? {} : { ids, ...(ctx.userId !== '' ? { userId: ctx.userId } : {}) }),
      ...(input.prefix ? { prefix: input.prefix } : {}),
    });
    const list = rows.slice(0, limit);
    return { list, nextMarker: rows.length > limit ? list.at(-1)?.id : undefined };
  }

  /**
   * Deletes a space; its files and unfinished uploads go with it (force), or it must be empty. Its
   * upload tasks are cancelled (their uploads aborted, grants revoked), tokens lose it, and its id is
   * never used again.
   */
  async delete(ctx: AccessContext, spaceId: string, force: boolean): Promise<void> {
    if (!ctx.library.isMultiTenant || spaceId === '-') {
      throw new AppError(
        'NotMultiSpaceLibrary',
        'Only tenant spaces of a multi-tenant library can be deleted.',
      );
    }
    requireAnyGrant(ctx, ['delete_space'], 'delete spaces');
    // ADR 0002 §8: a token without space_id manages every space; one with space_id only its own.
    if (ctx.spaceIds !== null) requireSpaceAccess(ctx, spaceId);
    if (!(await this.#store.spaces.get(ctx.library.id, spaceId)))
      throw new AppError('SpaceNotFound', `Space ${spaceId} does not exist.`);
    const { dirs, files } = await this.#store.inodes.countInSpace(ctx.library.id, spaceId);
    if (dirs + files > 0 && !force)
      throw new AppError('SpaceNotEmpty', `Space ${spaceId} is not empty; pass force=1.`);
    const root = await this.#store.inodes.descendants(ctx.library.id, spaceId, '');
    const now = this.#clock.now();
    const cancelled = await this.#store.transaction(async (tx) => {
      await tx.inodes.delete(root.map((i) => i.id));
      const tasks: UploadTaskRecord[] = [];
      for (const task of await tx.uploadTasks.listInSpace(ctx.library.id, spaceId)) {
        if (task.state !== 'uploading' && task.state !== 'confirming') continue;
        // A confirm still running loses: its placement needs the task still `confirming`.
        const patch = { leaseOwner: null, leaseUntil: 0 };
        if (await tx.uploadTasks.transition(task.confirmKey, task.state, 'cancelled', patch, now))
          tasks.push(task);
      }
      await tx.tokens.removeSpace(ctx.library.id, spaceId);
      await tx.spaces.delete(ctx.library.id, spaceId, now);
      return tasks;
    });
    for (const task of cancelled) {
      await releaseTask(this.#objects, ctx.library, task).catch((err: unknown) => {
        // The sweeper releases cancelled tasks once more before it forgets them.
        this.#logger.warn(
          { err, confirmKey: task.confirmKey },
          'could not release a task of a deleted space',
        );
      });
    }
    for (const inode of root) {
      if (!inode.objectKey) continue;
      await this.#objects
        .deleteObject({ library: ctx.library, key: inode.objectKey })
        .catch((err: unknown) => {
          this.#logger.warn({ err, key: inode.objectKey }, 'could not delete the object of a deleted space');
        });
    }
  }

  /** SMH §2.2: absent fields keep their value, `spaceTag: null` clears the tag, isMultiAlbum is fixed. */
  async setExtension(
    ctx: AccessContext,
    spaceId: string,
    patch: Omit<SpaceExtension, 'spaceTag'> & { spaceTag?: string | null },
  ): Promise<void> {
    requireAnyGrant(ctx, ['space_admin'], 'change space attributes');
    const space = await this.require(ctx, spaceId);
    const { isMultiAlbum: _fixed, spaceTag, ...changes } = patch;
    const { spaceTag: current, ...kept } = space.extension;
    const tag = spaceTag === undefined ? current : (spaceTag ?? undefined);
    await this.#store.spaces.setExtension(ctx.library.id, spaceId, {
      ...kept,
      ...changes,
      ...(tag !== undefined ? { spaceTag: tag } : {}),
    });
  }

  /** The quota covering a space, if any. */
  async quotaOf(space: SpaceRecord): Promise<QuotaRecord | undefined> {
    return space.quotaId === null ? undefined : this.#store.quotas.get(space.libraryId, space.quotaId);
  }

  /** SMH QuotaLimitReached when adding `bytes` to the space would pass its quota. */
  async checkQuota(space: SpaceRecord, bytes: number): Promise<void> {
    const quota = await this.quotaOf(space);
    if (!quota) return;
    const spaces = await this.#store.spaces.forQuota(quota.id);
    const used = spaces.reduce((n, s) => n + s.usedBytes, 0);
    if (used + bytes > quota.capacity) {
      throw new AppError(
        'QuotaLimitReached',
        `The quota of ${quota.capacity} bytes would be exceeded (${used} used).`,
      );
    }
  }

  /**
   * Inside the transaction that has just added bytes to `space`: QuotaLimitReached (and so a rollback)
   * when its quota is now exceeded. The quota row is held until the transaction ends, so placements
   * racing into spaces of one quota are checked one after the other, each seeing the others' bytes:
   * the prechecks before the transfer (checkQuota) can pass for several uploads at once, this cannot.
   */
  async enforceQuota(tx: Repositories, space: Pick<SpaceRecord, 'libraryId' | 'id'>): Promise<void> {
    const current = await tx.spaces.get(space.libraryId, space.id);
    if (current?.quotaId == null) return;
    const quota = await tx.quotas.lock(space.libraryId, current.quotaId);
    if (!quota) return;
    const used = (await tx.spaces.forQuota(quota.id)).reduce((n, s) => n + s.usedBytes, 0);
    if (used > quota.capacity) {
      throw new AppError('QuotaLimitReached', `The quota of ${quota.capacity} bytes would be exceeded.`);
    }
  }

  async createQuota(
    ctx: AccessContext,
    input: {
      spaces: string[];
      capacity: number;
      removeWhenExceed: boolean;
      removeAfterDays: number;
      removeNewest: boolean;
    },
  ): Promise<number> {
    // Quotas bound what tenants may store: only admin sets them, never a tenant's own space_admin.
    requireAnyGrant(ctx, ['admin'], 'manage quotas');
    const spaces = ctx.library.isMultiTenant ? input.spaces : ['-'];
    if (spaces.length === 0)
      throw new AppError('InvalidArgument', 'spaces lists the spaces the quota covers.');
    for (const id of spaces) {
      const space = await this.require(ctx, id);
      if (space.quotaId !== null) throw new AppError('DuplicateQuota', `Space ${id} already has a quota.`);
    }
    return this.#store.transaction(async (tx) => {
      const id = await tx.quotas.insert({
        libraryId: ctx.library.id,
        capacity: input.capacity,
        removeWhenExceed: input.removeWhenExceed,
        removeAfterDays: input.removeAfterDays,
        removeNewest: input.removeNewest,
        createdAt: this.#clock.now(),
      });
      await tx.spaces.setQuota(ctx.library.id, spaces, id);
      return id;
    });
  }

  async getQuota(ctx: AccessContext, spaceId: string): Promise<QuotaRecord> {
    const space = await this.require(ctx, spaceId);
    const quota = await this.quotaOf(space);
    if (!quota) throw new AppError('NoQuota', `Space ${spaceId} has no quota.`);
    return quota;
  }

  /** SMH §2.6: a quota by its id, with the spaces it covers; the caller must reach every one of them. */
  async getQuotaById(
    ctx: AccessContext,
    quotaId: number,
  ): Promise<{ quota: QuotaRecord; spaces: SpaceRecord[] }> {
    const quota = await this.#store.quotas.get(ctx.library.id, quotaId);
    if (!quota) throw new AppError('QuotaNotFound', `Quota ${quotaId} does not exist.`);
    const spaces = await this.#store.spaces.forQuota(quota.id);
    for (const space of spaces) requireSpaceAccess(ctx, space.id);
    return { quota, spaces };
  }

  async updateQuota(ctx: AccessContext, spaceId: string, patch: QuotaPatch): Promise<void> {
    requireAnyGrant(ctx, ['admin'], 'manage quotas');
    await this.#updateQuota(ctx, await this.getQuota(ctx, spaceId), patch);
  }

  /** SMH §2.6 by quota id: `spaces`, when given, replaces the spaces the quota covers. */
  async updateQuotaById(
    ctx: AccessContext,
    quotaId: number,
    patch: QuotaPatch & { spaces?: string[] },
  ): Promise<void> {
    requireAnyGrant(ctx, ['admin'], 'manage quotas');
    const { quota } = await this.getQuotaById(ctx, quotaId);
    const { spaces, ...rest } = patch;
    if (spaces === undefined) return this.#updateQuota(ctx, quota, rest);
    if (!ctx.library.isMultiTenant)
      throw new AppError('InvalidArgument', 'spaces cannot be given in a single-tenant library.');
    if (spaces.length === 0)
      throw new AppError('InvalidArgument', 'spaces lists the spaces the quota covers.');
    for (const id of spaces) {
      const space = await this.require(ctx, id);
      if (space.quotaId !== null && space.quotaId !== quota.id)
        throw new AppError('DuplicateQuota', `Space ${id} already has another quota.`);
    }
    await this.#updateQuota(ctx, quota, rest, [...new Set(spaces)]);
  }

  async #updateQuota(
    ctx: AccessContext,
    quota: QuotaRecord,
    patch: QuotaPatch,
    spaces?: string[],
  ): Promise<void> {
    const covered = await this.#store.spaces.forQuota(quota.id);
    const after = spaces
      ? await Promise.all(spaces.map(async (id) => (await this.#store.spaces.get(ctx.library.id, id))!))
      : covered;
    const used = after.reduce((n, s) => n + s.usedBytes, 0);
    const capacity = patch.capacity ?? quota.capacity;
    if ((patch.capacity !== undefined || spaces) && capacity < used) {
      throw new AppError(
        'QuotaCapacityLessThanSize',
        `The capacity is below the ${used} bytes already used.`,
      );
    }
    await this.#store.transaction(async (tx) => {
      if (spaces) {
        const dropped = covered.map((s) => s.id).filter((id) => !spaces.includes(id));
        if (dropped.length > 0) await tx.spaces.setQuota(ctx.library.id, dropped, null);
        await tx.spaces.setQuota(ctx.library.id, spaces, quota.id);
      }
      await tx.quotas.update({
        ...quota,
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
      });
    });
  }

  /** SMH §2.2 library usage (admin): the bytes of every file in the library. */
  async libraryUsage(ctx: AccessContext): Promise<number> {
    requireAnyGrant(ctx, ['admin'], 'see the usage of the library');
    return this.#store.spaces.totalUsedBytes(ctx.library.id);
  }

  /**
   * SMH §2.2 batch space usage (admin, or space_admin for the token's spaces): each space's bytes, and
   * its quota's capacity and what is left of it (shared by every space the quota covers).
   */
  async usage(ctx: AccessContext, spaceIds: readonly string[]): Promise<SpaceUsage[]> {
    requireAnyGrant(ctx, ['space_admin'], 'see the usage of spaces');
    const out: SpaceUsage[] = [];
    for (const id of spaceIds) {
      const space = await this.require(ctx, id);
      const quota = await this.quotaOf(space);
      let available: number | null = null;
      if (quota) {
        const used = (await this.#store.spaces.forQuota(quota.id)).reduce((n, s) => n + s.usedBytes, 0);
        available = Math.max(0, quota.capacity - used);
      }
      out.push({ space, capacity: quota?.capacity ?? null, available });
    }
    return out;
  }

  /** SMH §2.2 file count (admin/space_admin). */
  async fileCount(ctx: AccessContext, spaceId: string): Promise<{ dirs: number; files: number }> {
    requireAnyGrant(ctx, ['space_admin'], 'count the files of a space');
    await this.require(ctx, spaceId);
    return this.#store.inodes.countInSpace(ctx.library.id, spaceId);
  }
}
