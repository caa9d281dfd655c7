// Tenant spaces (spec smh §1.2, §2.2) and their quotas (§2.6). A single-tenant library has exactly the
// space "-"; a multi-tenant library's spaces are created and deleted through the API.
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type {
  MetadataStore,
  QuotaRecord,
  Repositories,
  SpaceExtension,
  SpaceRecord,
  UploadTaskRecord,
} from '../../ports/metadata-store.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { AppError } from '../errors.ts';
import { randomString } from '../ids.ts';
import { type AccessContext, hasGrant, requireAnyGrant, requireSpaceAccess } from '../tokens/access.ts';
import { releaseTask } from '../uploads/task-release.ts';

const SPACE_ID = /^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/;
const MAX_LIST = 1000;

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
    const count = await this.#store.inodes.countInSpace(ctx.library.id, spaceId);
    if (count > 0 && !force)
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

  async updateQuota(
    ctx: AccessContext,
    spaceId: string,
    patch: {
      capacity?: number;
      removeWhenExceed?: boolean;
      removeAfterDays?: number;
      removeNewest?: boolean;
    },
  ): Promise<void> {
    requireAnyGrant(ctx, ['admin'], 'manage quotas');
    const quota = await this.getQuota(ctx, spaceId);
    if (patch.capacity !== undefined) {
      const used = (await this.#store.spaces.forQuota(quota.id)).reduce((n, s) => n + s.usedBytes, 0);
      if (patch.capacity < used) {
        throw new AppError(
          'QuotaCapacityLessThanSize',
          `The new capacity is below the ${used} bytes already used.`,
        );
      }
    }
    await this.#store.quotas.update({
      ...quota,
      ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    });
  }
}
