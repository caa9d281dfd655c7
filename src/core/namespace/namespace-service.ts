// The SMH namespace of a space: directories and files as inodes linked by parent id, so renames and
// moves touch one row. Files point at objects by opaque key. Name conflicts follow the strategies of
// spec smh §3.3, decided inside the transaction that writes the name.
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { MetadataStore, Repositories } from '../../ports/metadata-store.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { AppError } from '../errors.ts';
import { randomString } from '../ids.ts';
import { smhKeyPrefix } from '../objects/smh-keys.ts';
import type { SpaceRecord } from '../spaces/model.ts';
import type { SpaceService } from '../spaces/space-service.ts';
import { type AccessContext, hasGrant, requireAnyGrant } from '../tokens/access.ts';
import type { InodeAttributes, InodeCursor, InodeOrder, InodeRecord } from './model.ts';
import { freeName, splitExtension, validateName } from './names.ts';

export type Strategy = 'ask' | 'rename' | 'overwrite';

const LOWER36 = '0123456789abcdefghijklmnopqrstuvwxyz';
export const newInodeId = (): string => randomString(20, LOWER36);
export const newObjectKey = (libraryId: string): string =>
  `${smhKeyPrefix(libraryId)}${randomString(32, LOWER36)}`;

/** The root of a space, which has no row of its own. */
export const ROOT = '';

export interface FileContent {
  size: number;
  contentType: string;
  etag: string;
  crc64: string | null;
  objectKey: string;
  meta: Record<string, string>;
  attributes: InodeAttributes;
  beginningHash: string | null;
  fullHash: string | null;
}

export interface PlacedFile {
  inode: InodeRecord;
  isOverwritten: boolean;
  /** Object of the file this one replaced: delete it once the transaction committed. */
  displacedObjectKey: string | null;
}

export interface ListOptions {
  orderBy: InodeOrder;
  descending: boolean;
  filter?: 'onlyDir' | 'onlyFile';
  union: boolean;
  limit: number;
  marker?: string;
  page?: number;
}

export interface Listing {
  directory: InodeRecord | undefined;
  path: string[];
  entries: InodeRecord[];
  nextMarker: string | undefined;
  counts: { dirs: number; files: number } | undefined;
}

function encodeMarker(c: InodeCursor): string {
  return Buffer.from(JSON.stringify([c.type, c.value, c.name, c.id])).toString('base64url');
}

function decodeMarker(marker: string): InodeCursor {
  try {
    const [type, value, name, id] = JSON.parse(
      Buffer.from(marker, 'base64url').toString('utf8'),
    ) as unknown[];
    if ((type === 'dir' || type === 'file') && typeof name === 'string' && typeof id === 'string') {
      if (typeof value === 'string' || typeof value === 'number') return { type, value, name, id };
    }
  } catch {
    // falls through to the error below
  }
  throw new AppError('InvalidArgument', 'The marker is not one this server returned.');
}

function cursorOf(inode: InodeRecord, orderBy: InodeOrder): InodeCursor {
  const value = {
    name: inode.name,
    modificationTime: inode.modifiedAt,
    size: inode.size,
    creationTime: inode.createdAt,
  }[orderBy];
  return { type: inode.type, value, name: inode.name, id: inode.id };
}

export interface NamespaceDeps {
  store: MetadataStore;
  objects: ObjectStore;
  spaces: SpaceService;
  clock: Clock;
  logger: Logger;
}

export class NamespaceService {
  readonly #d: NamespaceDeps;

  constructor(deps: NamespaceDeps) {
    this.#d = deps;
  }

  get #store(): MetadataStore {
    return this.#d.store;
  }

  /** Walks a path of directory names from the root; DirectoryNotFound when one is missing or a file. */
  async resolveDirectory(
    repos: Repositories,
    space: SpaceRecord,
    segments: readonly string[],
  ): Promise<InodeRecord | undefined> {
    let current: InodeRecord | undefined;
    for (const name of segments) {
      const next = await repos.inodes.child(space.libraryId, space.id, current?.id ?? ROOT, name);
      if (next?.type !== 'dir')
        throw new AppError('DirectoryNotFound', `Directory ${segments.join('/')} does not exist.`);
      current = next;
    }
    return current;
  }

  /** The entry at a path (file or directory); undefined for the root. */
  async resolve(
    repos: Repositories,
    space: SpaceRecord,
    segments: readonly string[],
    kind: 'file' | 'any',
  ): Promise<InodeRecord | undefined> {
    if (segments.length === 0) {
      if (kind === 'file') throw new AppError('FileNotFound', 'The root is not a file.');
      return undefined;
    }
    const parent = await this.resolveDirectory(repos, space, segments.slice(0, -1)).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'DirectoryNotFound' && kind === 'file') {
        throw new AppError('FileNotFound', `File ${segments.join('/')} does not exist.`);
      }
      throw err;
    });
    const entry = await repos.inodes.child(space.libraryId, space.id, parent?.id ?? ROOT, segments.at(-1)!);
    if (!entry || (kind === 'file' && entry.type !== 'file')) {
      throw new AppError(
        kind === 'file' ? 'FileNotFound' : 'DirectoryNotFound',
        `${segments.join('/')} does not exist.`,
      );
    }
    return entry;
  }

  /** Names from the root down to the entry; null when a parent vanished meanwhile (SMH `path: null`). */
  async pathOf(repos: Repositories, inode: InodeRecord): Promise<string[] | null> {
    const names = [inode.name];
    let parentId = inode.parentId;
    for (let depth = 0; parentId !== ROOT; depth++) {
      if (depth > 1000) return null;
      const parent = await repos.inodes.get(inode.libraryId, inode.spaceId, parentId);
      if (!parent) return null;
      names.unshift(parent.name);
      parentId = parent.parentId;
    }
    return names;
  }

  /**
   * Puts a file under `parentId` with `name`, resolving a conflict by strategy: ask refuses (409),
   * rename picks "name (n).ext", overwrite replaces a file (never a directory). Runs in `tx`.
   */
  async placeFile(
    tx: Repositories,
    input: {
      space: SpaceRecord;
      parentId: string;
      name: string;
      strategy: Strategy;
      userId: string;
      content: FileContent;
      /** Inode id to give a new file (a media task's output keeps the asset id it handed out). */
      id?: string;
    },
  ): Promise<PlacedFile> {
    const { space, parentId, content } = input;
    const now = this.#d.clock.now();
    let name = input.name;
    for (let attempt = 0; attempt < 20; attempt++) {
      const existing = await tx.inodes.child(space.libraryId, space.id, parentId, name);
      if (existing) {
        if (input.strategy === 'ask' || existing.type === 'dir') {
          throw new AppError('SameNameDirectoryOrFileExists', `${name} already exists in this directory.`);
        }
        if (input.strategy === 'rename') {
          const taken = new Set(
            await tx.inodes.childNames(
              space.libraryId,
              space.id,
              parentId,
              input.name.replace(/\.[^.]*$/, ''),
            ),
          );
          name = freeName(input.name, taken);
          continue;
        }
        const replaced: InodeRecord = {
          ...existing,
          size: content.size,
          contentType: content.contentType,
          etag: content.etag,
          crc64: content.crc64,
          objectKey: content.objectKey,
          meta: content.meta,
          attributes: content.attributes,
          beginningHash: content.beginningHash,
          fullHash: content.fullHash,
          userId: input.userId,
          modifiedAt: now,
        };
        await tx.inodes.update(replaced);
        await tx.spaces.addUsedBytes(space.libraryId, space.id, content.size - existing.size);
        if (content.size > existing.size) await this.#d.spaces.enforceQuota(tx, space);
        return { inode: replaced, isOverwritten: true, displacedObjectKey: existing.objectKey };
      }
      const inode: InodeRecord = {
        ...content,
        id: input.id ?? newInodeId(),
        libraryId: space.libraryId,
        spaceId: space.id,
        parentId,
        name,
        type: 'file',
        userId: input.userId,
        createdAt: now,
        modifiedAt: now,
      };
      if (await tx.inodes.insert(inode)) {
        await tx.spaces.addUsedBytes(space.libraryId, space.id, content.size);
        if (content.size > 0) await this.#d.spaces.enforceQuota(tx, space);
        return { inode, isOverwritten: false, displacedObjectKey: null };
      }
      // Someone took the name between our check and our insert: decide again.
    }
    throw new AppError('PathConflict', 'The name kept changing under concurrent writes; retry.');
  }

  /** Deletes objects a committed change left behind; failures are logged for the sweeper to see. */
  async discardObjects(ctx: Pick<AccessContext, 'library'>, keys: readonly (string | null)[]): Promise<void> {
    for (const key of keys) {
      if (!key) continue;
      await this.#d.objects.deleteObject({ library: ctx.library, key }).catch((err: unknown) => {
        this.#d.logger.warn({ err, key }, 'could not delete an object that no file uses any more');
      });
    }
  }

  /** A new, empty directory row. */
  #directory(
    space: SpaceRecord,
    d: { parentId: string; name: string; userId: string } & Partial<Pick<InodeRecord, 'meta' | 'attributes'>>,
  ): InodeRecord {
    const now = this.#d.clock.now();
    return {
      id: newInodeId(),
      libraryId: space.libraryId,
      spaceId: space.id,
      parentId: d.parentId,
      name: d.name,
      type: 'dir',
      size: 0,
      contentType: null,
      etag: '0',
      crc64: null,
      objectKey: null,
      meta: d.meta ?? {},
      attributes: d.attributes ?? {},
      beginningHash: null,
      fullHash: null,
      userId: d.userId,
      createdAt: now,
      modifiedAt: now,
    };
  }

  /**
   * Walks `segments` from the root, creating the directories that are missing (SMH: directory create
   * and directory move create missing parents). A segment that is a file is a conflict, whatever the strategy.
   */
  async #ensureDirectories(
    tx: Repositories,
    space: SpaceRecord,
    segments: readonly string[],
    userId: string,
  ): Promise<InodeRecord | undefined> {
    let current: InodeRecord | undefined;
    for (const [i, name] of segments.entries()) {
      const parentId = current?.id ?? ROOT;
      const existing = await tx.inodes.child(space.libraryId, space.id, parentId, name);
      if (existing && existing.type !== 'dir') {
        throw new AppError(
          'SameNameDirectoryOrFileExists',
          `${segments.slice(0, i + 1).join('/')} is a file, not a directory.`,
        );
      }
      if (existing) {
        current = existing;
        continue;
      }
      const created = this.#directory(space, { parentId, name, userId });
      if (!(await tx.inodes.insert(created)))
        throw new AppError('PathConflict', 'The directory was created concurrently; retry.');
      current = created;
    }
    return current;
  }

  async createDirectory(
    ctx: AccessContext,
    spaceId: string,
    segments: readonly string[],
    options: { strategy: 'ask' | 'rename'; attributes: InodeAttributes; meta: Record<string, string> },
  ): Promise<{ inode: InodeRecord; path: string[] }> {
    requireAnyGrant(ctx, ['create_directory'], 'create directories');
    if (segments.length === 0)
      throw new AppError('RootDirectoryNotAllowed', 'The root directory always exists.');
    for (const name of segments) validateName(name, 'dir');
    const space = await this.#d.spaces.require(ctx, spaceId);
    return this.#store.transaction(async (tx) => {
      const parent = await this.#ensureDirectories(tx, space, segments.slice(0, -1), ctx.userId);
      const inode = await this.placeDirectory(tx, {
        space,
        parentId: parent?.id ?? ROOT,
        name: segments.at(-1)!,
        strategy: options.strategy,
        userId: ctx.userId,
        meta: options.meta,
        attributes: options.attributes,
      });
      return { inode, path: [...segments.slice(0, -1), inode.name] };
    });
  }

  /** Creates a directory under `parentId`; a taken name is refused (ask) or renamed (rename). Runs in `tx`. */
  async placeDirectory(
    tx: Repositories,
    input: {
      space: SpaceRecord;
      parentId: string;
      name: string;
      strategy: 'ask' | 'rename';
      userId: string;
    } & Partial<Pick<InodeRecord, 'meta' | 'attributes'>>,
  ): Promise<InodeRecord> {
    const { space, parentId } = input;
    let name = input.name;
    if (await tx.inodes.child(space.libraryId, space.id, parentId, name)) {
      // SMH: the strategy applies to the last segment only.
      if (input.strategy === 'ask')
        throw new AppError('SameNameDirectoryOrFileExists', `${name} already exists.`);
      // freeName keeps a dotted name's last part as an extension ("v1 (1).2"): the base is the prefix.
      const taken = await tx.inodes.childNames(
        space.libraryId,
        space.id,
        parentId,
        splitExtension(name).base,
      );
      name = freeName(name, new Set(taken));
    }
    const inode = this.#directory(space, { ...input, name });
    if (!(await tx.inodes.insert(inode)))
      throw new AppError('PathConflict', 'The directory was created concurrently; retry.');
    return inode;
  }

  /** An entry by inode id (SMH GET /inode/…) with its current path. */
  async byInode(
    ctx: AccessContext,
    spaceId: string,
    id: string,
  ): Promise<{ inode: InodeRecord; path: string[] | null }> {
    const space = await this.#d.spaces.require(ctx, spaceId);
    const inode = await this.#store.inodes.get(space.libraryId, space.id, id);
    if (!inode) throw new AppError('FileNotFound', `No file or directory has inode ${id}.`);
    return { inode, path: await this.pathOf(this.#store, inode) };
  }

  /** The entry at a path for reading (info, HEAD, download); the space must be reachable. */
  async stat(
    ctx: AccessContext,
    spaceId: string,
    segments: readonly string[],
    kind: 'file' | 'any',
  ): Promise<{ space: SpaceRecord; inode: InodeRecord | undefined }> {
    const space = await this.#d.spaces.require(ctx, spaceId);
    return { space, inode: await this.resolve(this.#store, space, segments, kind) };
  }

  async list(
    ctx: AccessContext,
    spaceId: string,
    segments: readonly string[],
    options: ListOptions,
  ): Promise<Listing> {
    const space = await this.#d.spaces.require(ctx, spaceId);
    const directory = await this.resolveDirectory(this.#store, space, segments);
    const parentId = directory?.id ?? ROOT;
    const limit = options.limit;
    const pageMode = options.page !== undefined;
    const rows = await this.#store.inodes.list({
      libraryId: space.libraryId,
      spaceId: space.id,
      parentId,
      orderBy: options.orderBy,
      descending: options.descending,
      union: options.union,
      limit: pageMode ? limit : limit + 1,
      ...(options.filter ? { filter: options.filter } : {}),
      ...(pageMode ? { offset: ((options.page ?? 1) - 1) * limit } : {}),
      ...(!pageMode && options.marker ? { after: decodeMarker(options.marker) } : {}),
    });
    const entries = rows.slice(0, limit);
    const more = !pageMode && rows.length > limit;
    return {
      directory,
      path: [...segments],
      entries,
      nextMarker: more ? encodeMarker(cursorOf(entries.at(-1)!, options.orderBy)) : undefined,
      counts: pageMode ? await this.#store.inodes.count(space.libraryId, space.id, parentId) : undefined,
    };
  }

  /** `directoryOnly` (SMH `directory_only=1`): delete the directory only when it is empty. */
  async deleteEntry(
    ctx: AccessContext,
    spaceId: string,
    segments: readonly string[],
    kind: 'file' | 'dir',
    options: { directoryOnly?: boolean } = {},
  ): Promise<void> {
    requireAnyGrant(
      ctx,
      [kind === 'file' ? 'delete_file' : 'delete_directory'],
      `delete ${kind === 'file' ? 'files' : 'directories'}`,
    );
    if (segments.length === 0)
      throw new AppError('RootDirectoryNotAllowed', 'The root directory cannot be deleted.');
    const space = await this.#d.spaces.require(ctx, spaceId);
    const removed = await this.#store.transaction(async (tx) => {
      const entry = await this.resolve(tx, space, segments, kind === 'file' ? 'file' : 'any');
      if (!entry) throw new AppError('RootDirectoryNotAllowed', 'The root directory cannot be deleted.');
      if (kind === 'dir' && entry.type !== 'dir')
        throw new AppError('DirectoryNotFound', `${segments.join('/')} is not a directory.`);
      if (options.directoryOnly) {
        const { dirs, files } = await tx.inodes.count(space.libraryId, space.id, entry.id);
        if (dirs + files > 0)
          throw new AppError(
            'DirectoryNotEmpty',
            `${segments.join('/')} holds ${dirs} directories and ${files} files; directory_only deletes only an empty directory.`,
          );
      }
      const all =
        entry.type === 'dir'
          ? [entry, ...(await tx.inodes.descendants(space.libraryId, space.id, entry.id))]
          : [entry];
      await tx.inodes.delete(all.map((i) => i.id));
      await tx.spaces.addUsedBytes(space.libraryId, space.id, -all.reduce((n, i) => n + i.size, 0));
      return all;
    });
    await this.discardObjects(
      ctx,
      removed.map((i) => i.objectKey),
    );
  }

  /**
   * Rename or move a file or directory (metadata only). `source` is what the caller means to move, for
   * the not-found code. A directory's missing target parents are created (SMH §2.4); a file's are not.
   */
  async move(
    ctx: AccessContext,
    spaceId: string,
    from: readonly string[],
    to: readonly string[],
    strategy: Strategy,
    source: 'file' | 'dir' = 'file',
  ): Promise<string[] | null> {
    const space = await this.#d.spaces.require(ctx, spaceId);
    if (from.length === 0 || to.length === 0)
      throw new AppError('RootDirectoryNotAllowed', 'The root cannot be moved.');
    const target = to.at(-1)!;
    const outcome = await this.#store.transaction(async (tx) => {
      const found = await this.resolve(tx, space, from, 'any').catch((err: unknown) => {
        if (err instanceof AppError && (err.code === 'DirectoryNotFound' || err.code === 'FileNotFound')) {
          const code = source === 'dir' ? 'SourceDirectoryNotFound' : 'SourceFileNotFound';
          throw new AppError(code, `${from.join('/')} does not exist.`);
        }
        throw err;
      });
      const entry = found!;
      if (entry.type === 'dir') {
        requireAnyGrant(ctx, ['move_directory'], 'move directories');
        if (strategy === 'overwrite')
          throw new AppError('InvalidConflictResolutionStrategy', 'Directories move with ask or rename.');
      } else {
        requireAnyGrant(
          ctx,
          strategy === 'overwrite' ? ['move_file_force'] : ['move_file', 'move_file_force'],
          'move files',
        );
      }
      if (entry.type === 'dir') for (const name of to) validateName(name, 'dir');
      else validateName(target, 'file');
      const parent =
        entry.type === 'dir'
          ? await this.#ensureDirectories(tx, space, to.slice(0, -1), ctx.userId)
          : await this.resolveDirectory(tx, space, to.slice(0, -1));
      if (entry.type === 'dir') {
        // Parents just created for a target inside the source vanish with this error's rollback.
        for (let p = parent; p; p = await tx.inodes.get(space.libraryId, space.id, p.parentId)) {
          if (p.id === entry.id) {
            throw new AppError(
              'SourceDirectoryIsParentOfDestination',
              'A directory cannot move into itself.',
            );
          }
          if (p.parentId === ROOT) break;
        }
      }
      const parentId = parent?.id ?? ROOT;
      let name = target;
      let displaced: InodeRecord | undefined;
      const existing = await tx.inodes.child(space.libraryId, space.id, parentId, name);
      if (existing && existing.id !== entry.id) {
        if (strategy === 'rename') {
          name = freeName(
            name,
            new Set(
              await tx.inodes.childNames(space.libraryId, space.id, parentId, name.replace(/\.[^.]*$/, '')),
            ),
          );
        } else if (strategy === 'overwrite' && existing.type === 'file' && entry.type === 'file') {
          await tx.inodes.delete([existing.id]);
          await tx.spaces.addUsedBytes(space.libraryId, space.id, -existing.size);
          displaced = existing;
        } else {
          throw new AppError('SameNameDirectoryOrFileExists', `${to.join('/')} already exists.`);
        }
      }
      const moved: InodeRecord = { ...entry, parentId, name, modifiedAt: this.#d.clock.now() };
      await tx.inodes.update(moved);
      return { path: await this.pathOf(tx, moved), displaced };
    });
    await this.discardObjects(ctx, [outcome.displaced?.objectKey ?? null]);
    return outcome.path;
  }

  /** Copy a file: its bytes are copied to a new object, then placed like an upload. */
  async copyFile(
    ctx: AccessContext,
    spaceId: string,
    from: readonly string[],
    to: readonly string[],
    strategy: Strategy,
  ): Promise<{ path: string[] | null; inode: InodeRecord }> {
    requireAnyGrant(
      ctx,
      strategy === 'overwrite' ? ['copy_file_force'] : ['copy_file', 'copy_file_force'],
      'copy files',
    );
    const space = await this.#d.spaces.require(ctx, spaceId);
    if (to.length === 0) throw new AppError('EmptyFileName', 'The copy needs a target name.');
    validateName(to.at(-1)!, 'file');
    const source = await this.resolve(this.#store, space, from, 'file').catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'FileNotFound')
        throw new AppError('SourceFileNotFound', `${from.join('/')} does not exist.`);
      throw err;
    });
    const original = source!;
    await this.resolveDirectory(this.#store, space, to.slice(0, -1));
    await this.#d.spaces.checkQuota(space, original.size);
    const objectKey = newObjectKey(space.libraryId);
    await this.#d.objects.copyObject(
      { library: ctx.library, key: original.objectKey! },
      { library: ctx.library, key: objectKey },
    );
    try {
      const placed = await this.#store.transaction(async (tx) => {
        const parent = await this.resolveDirectory(tx, space, to.slice(0, -1));
        const result = await this.placeFile(tx, {
          space,
          parentId: parent?.id ?? ROOT,
          name: to.at(-1)!,
          strategy,
          userId: ctx.userId,
          content: {
            size: original.size,
            contentType: original.contentType ?? 'application/octet-stream',
            etag: original.etag,
            crc64: original.crc64,
            objectKey,
            meta: original.meta,
            attributes: original.attributes,
            beginningHash: original.beginningHash,
            fullHash: original.fullHash,
          },
        });
        return { ...result, path: await this.pathOf(tx, result.inode) };
      });
      await this.discardObjects(ctx, [placed.displacedObjectKey]);
      return { path: placed.path, inode: placed.inode };
    } catch (err) {
      await this.discardObjects(ctx, [objectKey]);
      throw err;
    }
  }

  /** A signed URL for the file's bytes; the object endpoint honours Range on it. */
  async downloadUrl(
    ctx: AccessContext,
    inode: InodeRecord,
    options: { expiresInSeconds: number; disposition?: 'inline' | 'attachment' },
  ): Promise<string> {
    if (!inode.objectKey) throw new AppError('FileNotFound', `${inode.name} is not a file.`);
    const disposition = `${options.disposition ?? 'inline'}; filename*=UTF-8''${encodeURIComponent(inode.name)}`;
    return this.#d.objects.presignGet(
      { library: ctx.library, key: inode.objectKey },
      { expiresInSeconds: options.expiresInSeconds, query: { 'response-content-disposition': disposition } },
    );
  }

  /** The bytes of a small file (a playlist to serve), or undefined when it is larger than `maxBytes`. */
  async smallContent(ctx: AccessContext, inode: InodeRecord, maxBytes: number): Promise<Buffer | undefined> {
    if (!inode.objectKey) throw new AppError('FileNotFound', `${inode.name} is not a file.`);
    if (inode.size > maxBytes) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of await this.#d.objects.read({ library: ctx.library, key: inode.objectKey })) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) return undefined;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** May this caller overwrite with a strategy? (upload and file operations) */
  static canForce(
    ctx: AccessContext,
    forceGrants: readonly ('upload_file_force' | 'begin_upload_force')[],
  ): boolean {
    return forceGrants.some((g) => hasGrant(ctx, g));
  }
}
