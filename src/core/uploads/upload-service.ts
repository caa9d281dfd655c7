// The SMH upload-task lifecycle (spec smh §2.3.1–2.3.8, §3): begin (form, simple, multipart, instant),
// status, renew, cancel, confirm, and expiry of abandoned tasks. Bytes go straight to the object store
// with the grants begin and renew sign; the file appears only at confirm.
//
// Races are settled by conditional state changes on the task: confirm moves uploading → confirming
// → confirmed, cancel moves uploading → cancelled, so exactly one of them wins. A caller that meets a
// task in `confirming` waits until it settles and then sees the outcome; a confirm holds a lease that
// it renews, so a task whose confirmer died is handed back as soon as the lease runs out.
import type { Clock } from '../../ports/clock.ts';
import type { DiskSpace } from '../../ports/disk-space.ts';
import type { Logger } from '../../ports/logger.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type {
  ObjectLocation,
  ObjectStore,
  StoredObjectInfo,
  UploadedPart,
  UploadGrant,
} from '../../ports/object-store.ts';
import { AppError, isAppError } from '../errors.ts';
import { requireFreeSpace } from '../free-space.ts';
import { randomString } from '../ids.ts';
import { newJobRecord } from '../jobs/job-record.ts';
import type { JobRecord } from '../jobs/model.ts';
import type { InodeAttributes, InodeRecord } from '../namespace/model.ts';
import { contentTypeOf, validateName } from '../namespace/names.ts';
import { type NamespaceService, newObjectKey, ROOT } from '../namespace/namespace-service.ts';
import type { SpaceRecord } from '../spaces/model.ts';
import type { SpaceService } from '../spaces/space-service.ts';
import { type AccessContext, type Grant, hasGrant, requireAnyGrant } from '../tokens/access.ts';
import { CONFIRM_LEASE_MS, keepLease, type LeaseOwner, nodePrefix } from './confirm-lease.ts';
import { instantHashes } from './instant-hash.ts';
import type { ConflictStrategy, UploadFlavour, UploadTaskRecord } from './model.ts';
import { releaseTask } from './task-release.ts';

const MiB = 1024 * 1024;
const UPLOAD_GRANTS: Grant[] = ['upload_file', 'upload_file_force', 'begin_upload', 'begin_upload_force'];
const FORCE_GRANTS: Grant[] = ['upload_file_force', 'begin_upload_force'];
const CONFIRM_GRANTS: Grant[] = ['upload_file', 'upload_file_force', 'confirm_upload'];
/** How long a caller waits for a task another request is confirming (with a live lease). */
const SETTLE_WAIT_MS = 30_000;
const LOWER36 = '0123456789abcdefghijklmnopqrstuvwxyz';
const STATUS_GRANT_REUSE_MS = 30_000;
/**
 * Status hands out a new credential when the task's has less than this left: SDKs renew at once below
 * 5 minutes (spec smh §3.4), so anything shorter sends a resuming client straight into renew or a 403.
 */
const STATUS_RESIGN_WITHIN_MS = 5 * 60_000;
const STATUS_GRANT_CACHE = 10_000;
/** Files up to this size have their instant-upload hashes checked during confirm; larger ones after. */
const SYNC_HASH_LIMIT = 64 * MiB;
/** The job that checks the instant-upload hashes of a large file after its confirm. */
export const INSTANT_HASH_JOB = 'instant-hash';
const INSTANT_HASH_ATTEMPTS = 3;
/** Below media tasks: the check only makes later uploads faster. */
const INSTANT_HASH_PRIORITY = -5;

interface InstantHashPayload {
  inodeId: string;
  objectKey: string;
  beginningHash: string;
  fullHash?: string;
}

/** How long a confirmed task answers a repeated confirm. */
const CONFIRMED_RETENTION_MS = 7 * 24 * 3600 * 1000;

export interface BeginInput {
  spaceId: string;
  path: string[];
  flavour: UploadFlavour;
  strategy: ConflictStrategy;
  filesize?: number;
  trafficLimit?: number;
  meta: Record<string, string>;
  attributes: InodeAttributes;
  beginningHash?: string;
  fullHash?: string;
  size?: number;
  /** Multipart: parts to sign one by one (SMH's partNumberRange). */
  partNumbers?: number[];
}

/** A file as SMH reports it after confirm (and instant upload). */
export interface ConfirmedFile {
  inode: InodeRecord;
  path: string[] | null;
  isOverwritten: boolean;
}

export type BeginOutcome =
  | { kind: 'task'; task: UploadTaskRecord; grant: UploadGrant }
  | { kind: 'send-full-hash' }
  | { kind: 'instant'; file: ConfirmedFile };

export interface TaskStatus {
  task: UploadTaskRecord;
  path: string[] | null;
  parts: UploadedPart[] | undefined;
  grant: UploadGrant | undefined;
}

export interface UploadServiceDeps {
  store: MetadataStore;
  objects: ObjectStore;
  spaces: SpaceService;
  namespace: NamespaceService;
  clock: Clock;
  logger: Logger;
  credentialLifetimeMs: number;
  taskGraceMs: number;
  /** The data dir's disk: begin is refused while it is below its reserve. */
  disk: DiskSpace;
  /** This process, as the holder of confirm leases. */
  leaseOwner: LeaseOwner;
}

/**
 * Per-part entries from a grant whose headers serve every part (the COS way): the same headers, and
 * the part's URL.
 */
function withPartGrants(grant: UploadGrant, uploadId: string, partNumbers: number[]): UploadGrant {
  const parts: NonNullable<UploadGrant['parts']> = {};
  for (const n of partNumbers) {
    const query = `?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`;
    parts[String(n)] = { url: grant.url + query, path: grant.path + query, headers: grant.headers ?? {} };
  }
  return { ...grant, parts };
}

const confirmKeyNotFound = (): AppError =>
  new AppError(
    'ConfirmKeyNotFound',
    'The confirm key does not exist, or its upload was cancelled or expired.',
  );

export class UploadService {
  readonly #d: UploadServiceDeps;
  /** Grants status signed again, by credential: re-signing on every poll costs more than the poll. */
  readonly #statusGrants = new Map<string, { grant: UploadGrant; until: number }>();

  constructor(deps: UploadServiceDeps) {
    this.#d = deps;
  }

  #loc(ctx: Pick<AccessContext, 'library'>, task: Pick<UploadTaskRecord, 'objectKey'>): ObjectLocation {
    return { library: ctx.library, key: task.objectKey };
  }

  async #grant(
    ctx: AccessContext,
    task: UploadTaskRecord,
    fresh: boolean,
    options: { trafficLimit?: number | undefined; partNumbers?: number[] | undefined } = {},
  ): Promise<UploadGrant> {
    const limit = options.trafficLimit ?? task.options.trafficLimit;
    const partNumbers = task.uploadId ? options.partNumbers : undefined;
    const grant = await this.#d.objects.grantUpload(this.#loc(ctx, task), {
      flavour: task.flavour,
      // Signing again (status) keeps the task's expiry, also when its credential is gone: only renew
      // extends it (ADR 0002 §19), so the sweeper's view of the task stays true.
      expiresAt: fresh ? this.#d.clock.now() + this.#d.credentialLifetimeMs : task.credentialExpiresAt,
      contentType: contentTypeOf(task.path.at(-1)!),
      ...(task.uploadId ? { uploadId: task.uploadId } : {}),
      ...(limit ? { trafficLimit: limit } : {}),
      ...(task.options.filesize !== undefined ? { maxSize: task.options.filesize } : {}),
      ...(!fresh && task.credentialId ? { reuseCredential: task.credentialId } : {}),
      ...(partNumbers ? { partNumbers } : {}),
    });
    return partNumbers && !grant.parts ? withPartGrants(grant, task.uploadId!, partNumbers) : grant;
  }

  /**
   * The grant status returns: signed again with the task's current credential and expiry, reused for
   * up to STATUS_GRANT_REUSE_MS (its signature window starts before it was made, so it stays valid).
   */
  async #statusGrant(
    ctx: AccessContext,
    task: UploadTaskRecord,
    partNumbers: number[] | undefined,
  ): Promise<UploadGrant> {
    if (partNumbers) return this.#grant(ctx, task, false, { partNumbers });
    const now = this.#d.clock.now();
    const cached = task.credentialId ? this.#statusGrants.get(task.credentialId) : undefined;
    if (cached && cached.until > now) return cached.grant;
    const grant = await this.#grant(ctx, task, false);
    if (task.credentialId) {
      if (this.#statusGrants.size >= STATUS_GRANT_CACHE) this.#statusGrants.clear();
      this.#statusGrants.set(task.credentialId, { grant, until: now + STATUS_GRANT_REUSE_MS });
    }
    return grant;
  }

  /** The task behind a confirm key, in this library and space, visible to the caller. */
  async #task(
    ctx: AccessContext,
    spaceId: string,
    confirmKey: string,
  ): Promise<{ task: UploadTaskRecord; space: SpaceRecord }> {
    const space = await this.#d.spaces.require(ctx, spaceId);
    const task = await this.#d.store.uploadTasks.get(confirmKey);
    if (!task || task.libraryId !== ctx.library.id || task.spaceId !== spaceId) throw confirmKeyNotFound();
    return { task, space };
  }

  /**
   * Re-reads a task until it leaves `confirming` (another request is completing it). A lease that ran
   * out means its confirmer died: the task goes back to `uploading` at once, bytes kept.
   */
  async #settled(confirmKey: string): Promise<UploadTaskRecord | undefined> {
    const deadline = this.#d.clock.now() + SETTLE_WAIT_MS;
    for (;;) {
      const task = await this.#d.store.uploadTasks.get(confirmKey);
      if (task?.state !== 'confirming') return task;
      const now = this.#d.clock.now();
      if (task.leaseUntil < now) {
        await this.#takeBack(task, now);
        continue;
      }
      if (now > deadline)
        throw new AppError('PathConflict', 'The upload is being confirmed by another request.');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Hands a task whose confirm lease ran out back to `uploading` (unless its holder renewed it meanwhile). */
  async #takeBack(task: UploadTaskRecord, now: number): Promise<boolean> {
    const done = await this.#d.store.uploadTasks.transition(
      task.confirmKey,
      'confirming',
      'uploading',
      { leaseOwner: null, leaseUntil: 0 },
      now,
      { owner: task.leaseOwner, expiredBefore: now },
    );
    if (done) this.#d.logger.warn({ confirmKey: task.confirmKey }, 'took back a confirm whose lease ran out');
    return done;
  }

  /**
   * At start: the confirms a previous run of this node left in `confirming` (it died in the middle)
   * go back to `uploading` at once, instead of waiting for their leases. Returns how many.
   */
  async recoverInterruptedConfirms(): Promise<number> {
    const owner = this.#d.leaseOwner;
    const count = await this.#d.store.uploadTasks.reopenConfirmsOf(
      nodePrefix(owner),
      owner.id,
      this.#d.clock.now(),
    );
    if (count > 0) this.#d.logger.warn({ count }, 'recovered confirms interrupted by a previous run');
    return count;
  }

  async begin(ctx: AccessContext, input: BeginInput): Promise<BeginOutcome> {
    requireAnyGrant(ctx, UPLOAD_GRANTS, 'upload files');
    const force = FORCE_GRANTS.some((g) => hasGrant(ctx, g));
    if (input.strategy === 'overwrite' && !force) {
      throw new AppError('NoPermission', 'Overwriting needs upload_file_force or begin_upload_force.');
    }
    const name = input.path.at(-1);
    if (name === undefined) throw new AppError('EmptyFileName', 'The upload path needs a file name.');
    validateName(name, 'file');
    const space = await this.#d.spaces.require(ctx, input.spaceId);
    // SMH: uploads never create parent directories.
    const parent = await this.#d.namespace.resolveDirectory(this.#d.store, space, input.path.slice(0, -1));
    const existing = await this.#d.store.inodes.child(space.libraryId, space.id, parent?.id ?? ROOT, name);
    if (
      existing &&
      (input.strategy === 'ask' || (input.strategy === 'overwrite' && existing.type === 'dir'))
    ) {
      throw new AppError('SameNameDirectoryOrFileExists', `${input.path.join('/')} already exists.`);
    }
    // An overwrite adds to the space only what the file grows by.
    const replaced = input.strategy === 'overwrite' && existing?.type === 'file' ? existing.size : 0;
    if (input.filesize !== undefined) await this.#d.spaces.checkQuota(space, input.filesize - replaced);

    const instant = await this.#instant(ctx, space, { parentId: parent?.id ?? ROOT, replaced }, input);
    if (instant) return instant;
    // An instant upload stores no bytes; any other is refused now rather than when the disk is full.
    await requireFreeSpace(this.#d.disk, input.filesize ?? input.size);

    const now = this.#d.clock.now();
    const objectKey = newObjectKey(ctx.library.id);
    const uploadId =
      input.flavour === 'multipart'
        ? await this.#d.objects.createMultipartUpload(
            { library: ctx.library, key: objectKey },
            { contentType: contentTypeOf(name) },
          )
        : null;
    const task: UploadTaskRecord = {
      confirmKey: `${randomString(8, LOWER36)}${now.toString(36)}${randomString(24, LOWER36)}`,
      libraryId: ctx.library.id,
      spaceId: space.id,
      path: input.path,
      flavour: input.flavour,
      strategy: input.strategy,
      force,
      objectKey,
      uploadId,
      credentialId: null,
      state: 'uploading',
      objectReady: false,
      credentialExpiresAt: now,
      userId: ctx.userId,
      options: {
        meta: input.meta,
        attributes: input.attributes,
        ...(input.filesize !== undefined ? { filesize: input.filesize } : {}),
        ...(input.trafficLimit !== undefined ? { trafficLimit: input.trafficLimit } : {}),
        ...(input.beginningHash ? { beginningHash: input.beginningHash } : {}),
        ...(input.fullHash ? { fullHash: input.fullHash } : {}),
        // A simple or form grant writes the object itself; where it cannot be withdrawn, it writes
        // to a staging key instead (confirm copies), so that it can never touch the file.
        ...(!this.#d.objects.grantsRevocable && input.flavour !== 'multipart' ? { staged: true } : {}),
      },
      result: null,
      createdAt: now,
      updatedAt: now,
      leaseOwner: null,
      leaseUntil: 0,
    };
    const grant = await this.#grant(ctx, task, true, { partNumbers: input.partNumbers });
    task.credentialExpiresAt = grant.expiresAt;
    task.credentialId = grant.credentialId;
    try {
      await this.#d.store.uploadTasks.insert(task);
    } catch (err) {
      if (uploadId)
        await this.#d.objects.abortMultipartUpload(this.#loc(ctx, task), uploadId).catch(() => {});
      throw err;
    }
    return { kind: 'task', task, grant };
  }

  /**
   * SMH instant upload (§3.2): with a beginningHash matching a stored file of the same size the client
   * is asked for the fullHash (202); with a matching fullHash the file is created from the stored
   * bytes (200). Only files of the same space are candidates, so tenants learn nothing of each other.
   * The new file counts against the quota like any upload (`replaced`: bytes an overwrite frees).
   */
  async #instant(
    ctx: AccessContext,
    space: SpaceRecord,
    target: { parentId: string; replaced: number },
    input: BeginInput,
  ): Promise<BeginOutcome | undefined> {
    const { parentId } = target;
    const size = input.size;
    if (!input.beginningHash || size === undefined || size < MiB) return undefined;
    const candidates = await this.#d.store.inodes.findByHash(
      space.libraryId,
      space.id,
      size,
      input.beginningHash.toLowerCase(),
    );
    if (candidates.length === 0) return undefined;
    if (!input.fullHash) return { kind: 'send-full-hash' };
    const match = candidates.find((c) => c.fullHash === input.fullHash?.toLowerCase());
    if (!match?.objectKey) return undefined;
    await this.#d.spaces.checkQuota(space, match.size - target.replaced);
    const objectKey = newObjectKey(ctx.library.id);
    await this.#d.objects.copyObject(
      { library: ctx.library, key: match.objectKey },
      { library: ctx.library, key: objectKey },
    );
    try {
      const placed = await this.#d.store.transaction(async (tx) => {
        const result = await this.#d.namespace.placeFile(tx, {
          space,
          parentId,
          name: input.path.at(-1)!,
          strategy: input.strategy,
          userId: ctx.userId,
          content: {
            size: match.size,
            contentType: match.contentType ?? contentTypeOf(input.path.at(-1)!),
            etag: match.etag,
            crc64: match.crc64,
            objectKey,
            meta: input.meta,
            attributes: input.attributes,
            beginningHash: match.beginningHash,
            fullHash: match.fullHash,
          },
        });
        return { ...result, path: await this.#d.namespace.pathOf(tx, result.inode) };
      });
      await this.#d.namespace.discardObjects(ctx, [placed.displacedObjectKey]);
      return {
        kind: 'instant',
        file: { inode: placed.inode, path: placed.path, isOverwritten: placed.isOverwritten },
      };
    } catch (err) {
      await this.#d.namespace.discardObjects(ctx, [objectKey]);
      throw err;
    }
  }

  async status(
    ctx: AccessContext,
    spaceId: string,
    confirmKey: string,
    options: { withPartInfo: boolean; partNumbers?: number[] },
  ): Promise<TaskStatus> {
    requireAnyGrant(ctx, UPLOAD_GRANTS, 'see upload tasks');
    const { task: found } = await this.#task(ctx, spaceId, confirmKey);
    const task = found.state === 'confirming' ? ((await this.#settled(confirmKey)) ?? found) : found;
    if (task.state === 'cancelled' || task.state === 'expired') throw confirmKeyNotFound();
    if (task.state === 'confirmed') {
      const inode = task.result
        ? await this.#d.store.inodes.get(ctx.library.id, spaceId, task.result)
        : undefined;
      return {
        task,
        path: inode ? await this.#d.namespace.pathOf(this.#d.store, inode) : null,
        parts: undefined,
        grant: undefined,
      };
    }
    let parts: UploadedPart[] | undefined;
    let grant: UploadGrant | undefined;
    if (task.flavour === 'multipart' && task.uploadId && !task.objectReady) {
      parts = (await this.#d.objects.listParts(this.#loc(ctx, task), task.uploadId)) ?? [];
      if (options.withPartInfo) {
        // SMH §2.3.4: uploadPartInfo is "fresh signed info to continue", so it must still be usable.
        if (task.credentialExpiresAt - this.#d.clock.now() < STATUS_RESIGN_WITHIN_MS) {
          grant = await this.#extend(ctx, task, { partNumbers: options.partNumbers });
          // The task left `uploading` meanwhile (confirmed, cancelled): answer what it is now.
          if (!grant) return this.status(ctx, spaceId, confirmKey, options);
          return {
            task: { ...task, credentialExpiresAt: grant.expiresAt, credentialId: grant.credentialId },
            path: task.path,
            parts,
            grant,
          };
        }
        grant = await this.#statusGrant(ctx, task, options.partNumbers);
      }
    }
    return { task, path: task.path, parts, grant };
  }

  /**
   * A grant with a new credential and a whole lifetime, recorded on the task (which the sweeper then
   * keeps alive); undefined, and the grant withdrawn, when the task is no longer `uploading`.
   */
  async #extend(
    ctx: AccessContext,
    task: UploadTaskRecord,
    options: { trafficLimit?: number | undefined; partNumbers?: number[] | undefined },
  ): Promise<UploadGrant | undefined> {
    const grant = await this.#grant(ctx, task, true, options);
    const updated = await this.#d.store.uploadTasks.update(
      task.confirmKey,
      'uploading',
      { credentialExpiresAt: grant.expiresAt, credentialId: grant.credentialId },
      this.#d.clock.now(),
    );
    if (updated) return grant;
    await this.#d.objects.revokeGrants(this.#loc(ctx, task), task.uploadId ?? undefined);
    return undefined;
  }

  async renew(
    ctx: AccessContext,
    spaceId: string,
    confirmKey: string,
    options: { trafficLimit?: number; partNumbers?: number[] },
  ): Promise<{ task: UploadTaskRecord; grant: UploadGrant }> {
    requireAnyGrant(ctx, UPLOAD_GRANTS, 'renew upload tasks');
    const { task: found } = await this.#task(ctx, spaceId, confirmKey);
    const task = found.state === 'confirming' ? ((await this.#settled(confirmKey)) ?? found) : found;
    if (task.state === 'confirmed') throw new AppError('UploadComplete', 'The upload is already confirmed.');
    if (task.state !== 'uploading') throw confirmKeyNotFound();
    if (task.flavour !== 'multipart') {
      throw new AppError(
        'NotMultipartUpload',
        'Only multipart uploads renew; begin a simple or form upload again.',
      );
    }
    const grant = await this.#extend(ctx, task, options);
    if (!grant) {
      const now = await this.#d.store.uploadTasks.get(confirmKey);
      if (now?.state === 'confirmed' || now?.state === 'confirming')
        throw new AppError('UploadComplete', 'The upload is already confirmed.');
      throw confirmKeyNotFound();
    }
    return {
      task: { ...task, credentialExpiresAt: grant.expiresAt, credentialId: grant.credentialId },
      grant,
    };
  }

  /** Frees what an unconfirmed task holds in the store: its multipart upload or object, and grants. */
  async #release(ctx: Pick<AccessContext, 'library'>, task: UploadTaskRecord): Promise<void> {
    await releaseTask(this.#d.objects, ctx.library, task);
  }

  async cancel(ctx: AccessContext, spaceId: string, confirmKey: string): Promise<void> {
    requireAnyGrant(ctx, UPLOAD_GRANTS, 'cancel upload tasks');
    await this.#task(ctx, spaceId, confirmKey);
    for (;;) {
      // A task being confirmed settles first: cancel then loses to a confirm that succeeded, and
      // tries again after one that failed.
      const task = await this.#settled(confirmKey);
      if (task?.state === 'confirmed')
        throw new AppError('UploadComplete', 'The upload is already confirmed and cannot be cancelled.');
      if (task?.state !== 'uploading') throw confirmKeyNotFound();
      if (
        await this.#d.store.uploadTasks.transition(
          confirmKey,
          'uploading',
          'cancelled',
          {},
          this.#d.clock.now(),
        )
      ) {
        await this.#release(ctx, task);
        return;
      }
    }
  }

  /** Makes the bytes a complete object: completes a multipart upload, or checks a simple/form one arrived. */
  async #finishBytes(ctx: AccessContext, task: UploadTaskRecord): Promise<StoredObjectInfo> {
    const loc = this.#loc(ctx, task);
    if (task.uploadId && !task.objectReady) {
      const parts = await this.#d.objects.listParts(loc, task.uploadId);
      // The upload is gone but its object is there: an earlier Complete succeeded and was not recorded
      // (its node died, or its reply was lost and the retry found no upload).
      const completed = async (): Promise<StoredObjectInfo | undefined> => {
        const object = await this.#d.objects.headObject(loc);
        if (object) await this.#markObjectReady(task);
        return object;
      };
      if (parts === undefined) {
        const object = await completed();
        if (object) return object;
      }
      // SMH completes parts 1..N itself; a gap or no part at all means the bytes are not all there.
      if (!parts || parts.length === 0 || parts.some((p, i) => p.partNumber !== i + 1)) {
        throw new AppError(
          'MultipartUploadIncomplete',
          'Parts are missing: upload parts 1..N without gaps before confirming.',
        );
      }
      let object: StoredObjectInfo;
      try {
        object = await this.#d.objects.completeMultipartUpload(loc, task.uploadId, parts);
      } catch (err) {
        const done = isAppError(err) && err.code === 'NoSuchUpload' ? await completed() : undefined;
        if (done) return done;
        throw err;
      }
      await this.#markObjectReady(task);
      return object;
    }
    const object = await this.#d.objects.headObject(loc);
    if (!object) throw new AppError('UploadIncomplete', 'The file has not been uploaded yet.');
    return object;
  }

  /** A confirm that did not finish hands the task back to `uploading`, for another try (if still its own). */
  async #reopen(confirmKey: string): Promise<void> {
    await this.#d.store.uploadTasks.transition(
      confirmKey,
      'confirming',
      'uploading',
      { leaseOwner: null, leaseUntil: 0 },
      this.#d.clock.now(),
      { owner: this.#d.leaseOwner.id },
    );
  }

  async #markObjectReady(task: UploadTaskRecord): Promise<void> {
    await this.#d.store.uploadTasks.update(
      task.confirmKey,
      'confirming',
      { objectReady: true },
      this.#d.clock.now(),
    );
  }

  async confirm(
    ctx: AccessContext,
    spaceId: string,
    confirmKey: string,
    input: { strategy?: ConflictStrategy; crc64?: string; attributes: InodeAttributes },
  ): Promise<ConfirmedFile> {
    requireAnyGrant(ctx, CONFIRM_GRANTS, 'confirm uploads');
    const { task: found, space } = await this.#task(ctx, spaceId, confirmKey);
    const now = this.#d.clock.now();
    const lease = { leaseOwner: this.#d.leaseOwner.id, leaseUntil: now + CONFIRM_LEASE_MS };
    if (!(await this.#d.store.uploadTasks.transition(confirmKey, 'uploading', 'confirming', lease, now))) {
      const settled = await this.#settled(confirmKey);
      if (settled?.state === 'confirmed') return this.#confirmedFile(ctx, settled);
      if (settled?.state === 'uploading') return this.confirm(ctx, spaceId, confirmKey, input);
      throw confirmKeyNotFound();
    }
    // Read again: a confirm that died may have recorded that its Complete succeeded (objectReady).
    const task = {
      ...((await this.#d.store.uploadTasks.get(confirmKey)) ?? found),
      state: 'confirming' as const,
    };
    const stopLease = keepLease({ ...this.#d, owner: this.#d.leaseOwner }, confirmKey);
    try {
      return await this.#confirmClaimed(ctx, space, task, input);
    } finally {
      stopLease();
    }
  }

  /** The confirm of a task this process holds in `confirming`. */
  async #confirmClaimed(
    ctx: AccessContext,
    space: SpaceRecord,
    task: UploadTaskRecord,
    input: { strategy?: ConflictStrategy; crc64?: string; attributes: InodeAttributes },
  ): Promise<ConfirmedFile> {
    const { confirmKey } = task;
    const strategy = input.strategy ?? task.strategy;
    let object: StoredObjectInfo;
    try {
      if (strategy === 'overwrite' && !task.force && !hasGrant(ctx, 'upload_file_force')) {
        throw new AppError(
          'NoPermission',
          'Overwriting needs a task begun with a _force grant, or upload_file_force.',
        );
      }
      // A conflict known now is refused before the parts are assembled: the task stays a plain
      // multipart upload, whose status still lists its parts for the client.
      const replaced = await this.#checkTarget(space, task.path, strategy);
      object = await this.#finishBytes(ctx, task);
      if (input.crc64 !== undefined && object.crc64 !== null && input.crc64 !== object.crc64) {
        throw new AppError(
          'BadCrc64',
          `The crc64 ${input.crc64} does not match the uploaded bytes (${object.crc64}).`,
        );
      }
      await this.#d.spaces.checkQuota(space, object.size - replaced);
    } catch (err) {
      await this.#reopen(confirmKey);
      throw err;
    }
    // The declared hashes are recorded only once the bytes are shown to match them: here for a small
    // file, by a background job (which reads the whole file) for a large one, so confirm stays prompt.
    const hashLater = task.options.beginningHash !== undefined && object.size > SYNC_HASH_LIMIT;
    const hashes = hashLater ? undefined : await this.#verifiedHashes(ctx, task);
    const fileKey = task.options.staged ? newObjectKey(ctx.library.id) : task.objectKey;
    if (task.options.staged) {
      try {
        object = await this.#d.objects.copyObject(this.#loc(ctx, task), {
          library: ctx.library,
          key: fileKey,
        });
      } catch (err) {
        await this.#reopen(confirmKey);
        throw err;
      }
    }
    try {
      const placed = await this.#d.store.transaction(async (tx) => {
        const parent = await this.#d.namespace.resolveDirectory(tx, space, task.path.slice(0, -1));
        const result = await this.#d.namespace.placeFile(tx, {
          space,
          parentId: parent?.id ?? ROOT,
          name: task.path.at(-1)!,
          strategy,
          userId: task.userId,
          content: {
            size: object.size,
            contentType: object.contentType,
            etag: object.etag,
            crc64: object.crc64,
            objectKey: fileKey,
            meta: task.options.meta,
            attributes: { ...task.options.attributes, ...input.attributes },
            beginningHash: hashes?.beginningHash ?? null,
            fullHash: hashes?.fullHash ?? null,
          },
        });
        const done = await tx.uploadTasks.transition(
          confirmKey,
          'confirming',
          'confirmed',
          {
            result: result.inode.id,
            strategy: result.isOverwritten ? 'overwrite' : strategy,
            leaseOwner: null,
            leaseUntil: 0,
          },
          this.#d.clock.now(),
          { owner: this.#d.leaseOwner.id },
        );
        if (!done)
          throw new AppError('PathConflict', 'The upload task changed while it was being confirmed.');
        if (hashLater) {
          const payload: InstantHashPayload = {
            inodeId: result.inode.id,
            objectKey: fileKey,
            beginningHash: task.options.beginningHash!.toLowerCase(),
            ...(task.options.fullHash ? { fullHash: task.options.fullHash.toLowerCase() } : {}),
          };
          await tx.jobs.insert(
            newJobRecord({
              kind: INSTANT_HASH_JOB,
              libraryId: ctx.library.id,
              spaceId: space.id,
              payload,
              priority: INSTANT_HASH_PRIORITY,
              maxAttempts: INSTANT_HASH_ATTEMPTS,
              assetId: null,
              now: this.#d.clock.now(),
            }),
          );
        }
        return { ...result, path: await this.#d.namespace.pathOf(tx, result.inode) };
      });
      await this.#d.namespace.discardObjects(ctx, [placed.displacedObjectKey]);
      await this.#d.objects.revokeGrants(this.#loc(ctx, task), task.uploadId ?? undefined).catch(() => {});
      if (task.options.staged) await this.#d.objects.deleteObject(this.#loc(ctx, task)).catch(() => {});
      return { inode: placed.inode, path: placed.path, isOverwritten: placed.isOverwritten };
    } catch (err) {
      if (task.options.staged) await this.#d.namespace.discardObjects(ctx, [fileKey]);
      // The bytes stay (objectReady) so a later confirm, perhaps with another strategy, can finish.
      await this.#reopen(confirmKey);
      throw err;
    }
  }

  /**
   * Checks the target path as it stands (the placement re-checks inside its transaction): the parent
   * must exist, and ask or an overwrite onto a directory must not meet an entry. Returns the size of
   * the file an overwrite would replace (0 when none).
   */
  async #checkTarget(
    space: SpaceRecord,
    path: readonly string[],
    strategy: ConflictStrategy,
  ): Promise<number> {
    const { store, namespace } = this.#d;
    const parent = await namespace.resolveDirectory(store, space, path.slice(0, -1));
    const existing = await store.inodes.child(space.libraryId, space.id, parent?.id ?? ROOT, path.at(-1)!);
    if (existing && (strategy === 'ask' || (strategy === 'overwrite' && existing.type === 'dir'))) {
      throw new AppError('SameNameDirectoryOrFileExists', `${path.join('/')} already exists.`);
    }
    return strategy === 'overwrite' && existing?.type === 'file' ? existing.size : 0;
  }

  /** A repeated confirm answers with the file the first one created (the Flutter SDK relies on it). */
  async #confirmedFile(ctx: AccessContext, task: UploadTaskRecord): Promise<ConfirmedFile> {
    const inode = task.result
      ? await this.#d.store.inodes.get(ctx.library.id, task.spaceId, task.result)
      : undefined;
    if (!inode) throw new AppError('FileNotFound', 'The confirmed file has since been deleted.');
    return {
      inode,
      path: await this.#d.namespace.pathOf(this.#d.store, inode),
      isOverwritten: task.strategy === 'overwrite',
    };
  }

  /**
   * The instant-hash job: reads a confirmed file and records the hashes its upload declared if the
   * bytes match them and the file still holds those bytes. Returns what it found, for the job record.
   */
  async verifyInstantHashes(
    job: Pick<JobRecord, 'libraryId' | 'spaceId' | 'payload'>,
    signal: AbortSignal,
  ): Promise<{ recorded: boolean; reason?: string }> {
    const p = job.payload as InstantHashPayload;
    const library = await this.#d.store.libraries.get(job.libraryId);
    const inode = library && (await this.#d.store.inodes.get(job.libraryId, job.spaceId ?? '-', p.inodeId));
    if (!library || inode?.objectKey !== p.objectKey) return { recorded: false, reason: 'the file changed' };
    const hashes = await instantHashes(
      await this.#d.objects.read({ library, key: p.objectKey }, undefined, signal),
    );
    if (
      hashes.beginningHash !== p.beginningHash ||
      (p.fullHash !== undefined && hashes.fullHash !== p.fullHash)
    ) {
      return { recorded: false, reason: 'the bytes do not match the declared hashes' };
    }
    const recorded = await this.#d.store.inodes.setHashes(
      job.libraryId,
      inode.spaceId,
      inode.id,
      p.objectKey,
      hashes,
    );
    return recorded ? { recorded } : { recorded, reason: 'the file changed' };
  }

  /** Hashes for instant upload, recorded only when the client declared them and the bytes agree. */
  async #verifiedHashes(
    ctx: AccessContext,
    task: UploadTaskRecord,
  ): Promise<{ beginningHash: string; fullHash: string } | undefined> {
    if (!task.options.beginningHash) return undefined;
    try {
      const hashes = await instantHashes(await this.#d.objects.read(this.#loc(ctx, task)));
      if (hashes.beginningHash !== task.options.beginningHash.toLowerCase()) return undefined;
      if (task.options.fullHash && hashes.fullHash !== task.options.fullHash.toLowerCase()) return undefined;
      return hashes;
    } catch (err) {
      this.#d.logger.warn(
        { err, confirmKey: task.confirmKey },
        'could not hash an upload for instant upload',
      );
      return undefined;
    }
  }

  /**
   * Expires tasks whose credentials ran out more than the grace period ago and that were not renewed:
   * their bytes are reclaimed and their confirm keys answer 404. Also returns tasks whose confirmer died
   * (confirm lease run out) to `uploading`.
   */
  async expireStale(): Promise<number> {
    const { store, clock } = this.#d;
    const now = clock.now();
    let count = 0;
    for (const task of await store.uploadTasks.listStale('confirming', now, 200)) {
      await this.#takeBack(task, now);
    }
    // Finished tasks are kept a while (a repeated confirm answers from them), then forgotten.
    for (const state of ['cancelled', 'expired', 'confirmed'] as const) {
      const keep = state === 'confirmed' ? CONFIRMED_RETENTION_MS : this.#d.taskGraceMs;
      for (const task of await store.uploadTasks.listStale(state, now - keep, 500)) {
        if (state !== 'confirmed' || task.options.staged) {
          // A store may not be able to withdraw a grant (an external store's signature): bytes sent
          // with it after the cancel (or, to a staging key, after the confirm) would stay. So the task
          // is forgotten only once its grant has expired, and what it may have stored meanwhile is
          // released once more (for a confirmed task: its staging key, never the file's).
          if (task.credentialExpiresAt > now) continue;
          await this.#releaseQuietly(task);
        }
        await store.uploadTasks.delete(task.confirmKey);
      }
    }
    for (const task of await store.uploadTasks.listStale('uploading', now - this.#d.taskGraceMs, 200)) {
      if (!(await store.uploadTasks.transition(task.confirmKey, 'uploading', 'expired', {}, now))) continue;
      await this.#releaseQuietly(task);
      count++;
    }
    return count;
  }

  /** Releases a task of a background job: failures are logged, and released again on the next run. */
  async #releaseQuietly(task: UploadTaskRecord): Promise<void> {
    const library = await this.#d.store.libraries.get(task.libraryId);
    if (!library) return;
    await this.#release({ library }, task).catch((err: unknown) => {
      if (!isAppError(err))
        this.#d.logger.warn({ err, confirmKey: task.confirmKey }, 'could not release an upload task');
    });
  }
}
