// Repositories of libraries and what lives in them: settings, tokens, spaces, quotas, inodes and upload
// tasks. Conditional updates (transition, update) report whether they won, so racing changes have one winner.
import type { LibraryId } from '../core/ids.ts';
import type { LibraryContents, LibraryRecord } from '../core/libraries/model.ts';
import type { InodeCursor, InodeOrder, InodeRecord } from '../core/namespace/model.ts';
import type { QuotaRecord, SpaceExtension, SpaceRecord } from '../core/spaces/model.ts';
import type { TokenRecord } from '../core/tokens/model.ts';
import type { UploadTaskRecord, UploadTaskState } from '../core/uploads/model.ts';

export interface LibraryRepo {
  /** False when the name is taken (by a concurrent create too); the existing library stays. */
  insert(library: LibraryRecord): Promise<boolean>;
  get(id: LibraryId): Promise<LibraryRecord | undefined>;
  list(): Promise<LibraryRecord[]>;
  contents(id: LibraryId): Promise<LibraryContents>;
  /** Replaces the hash of the library secret; false when there is no such library. */
  setSecretHash(id: LibraryId, secretHash: string): Promise<boolean>;
  /**
   * Deletes the library and every row that belongs to it: buckets with their objects and multipart
   * uploads, keys, tokens, spaces, quotas, inodes, upload tasks and media tasks. The blobs those
   * objects and parts pointed to are left for the sweeper. Run it in a transaction; false when there
   * was no such library.
   */
  deleteWithContents(id: LibraryId): Promise<boolean>;
}

export interface SettingsRepo {
  get(name: string): Promise<string | undefined>;
  /** Stores the value unless one exists; returns whichever value is stored afterwards. */
  putIfAbsent(name: string, value: string): Promise<string>;
  /** Stores the value, replacing any. */
  put(name: string, value: string): Promise<void>;
  /** Removes the setting (nothing when there is none). */
  delete(name: string): Promise<void>;
}

export interface TokenRepo {
  insert(token: TokenRecord): Promise<void>;
  get(hash: string): Promise<TokenRecord | undefined>;
  /** Pushes the expiry (sliding renewal); false when the token is gone or already expired. */
  extend(hash: string, expiresAt: number, now: number): Promise<boolean>;
  delete(hash: string): Promise<boolean>;
  deleteForUser(
    libraryId: LibraryId,
    userId: string,
    filter: { clientIds?: string[]; sessionIds?: string[] },
  ): Promise<number>;
  deleteExpired(now: number): Promise<number>;
  /** Every token of the library; returns how many there were. */
  deleteForLibrary(libraryId: LibraryId): Promise<number>;
  /**
   * Revokes a space from every token of the library scoped to it: a token scoped to it alone is
   * deleted, one scoped to several loses it from its list. Returns the tokens changed.
   */
  removeSpace(libraryId: LibraryId, spaceId: string): Promise<number>;
}

export interface SpaceRepo {
  /** Inserts unless the id is taken or was ever used by a space since deleted; false then. */
  insert(space: SpaceRecord): Promise<boolean>;
  get(libraryId: LibraryId, id: string): Promise<SpaceRecord | undefined>;
  /** By id; with `ids` and/or `userId`, only spaces listed in `ids` or created by `userId`. */
  list(
    libraryId: LibraryId,
    query: { after: string; limit: number; ids?: readonly string[]; userId?: string; prefix?: string },
  ): Promise<SpaceRecord[]>;
  count(libraryId: LibraryId): Promise<number>;
  /** Bytes of every file of every space of the library. */
  totalUsedBytes(libraryId: LibraryId): Promise<number>;
  /** Deletes the space; its id stays used (never inserted again). */
  delete(libraryId: LibraryId, id: string, now: number): Promise<void>;
  setExtension(libraryId: LibraryId, id: string, extension: SpaceExtension): Promise<void>;
  setQuota(libraryId: LibraryId, ids: readonly string[], quotaId: number | null): Promise<void>;
  addUsedBytes(libraryId: LibraryId, id: string, delta: number): Promise<void>;
  forQuota(quotaId: number): Promise<SpaceRecord[]>;
}

export interface QuotaRepo {
  insert(quota: Omit<QuotaRecord, 'id'>): Promise<number>;
  get(libraryId: LibraryId, id: number): Promise<QuotaRecord | undefined>;
  /** get, holding the row until the transaction ends (PostgreSQL; SQLite has one writer anyway). */
  lock(libraryId: LibraryId, id: number): Promise<QuotaRecord | undefined>;
  update(quota: QuotaRecord): Promise<void>;
}

export interface InodeListQuery {
  libraryId: LibraryId;
  spaceId: string;
  parentId: string;
  filter?: 'onlyDir' | 'onlyFile';
  orderBy: InodeOrder;
  descending: boolean;
  /** Directories first (default) or mixed with files ("union"). */
  union: boolean;
  /** Keyset cursor: list entries strictly after this one in the chosen order. */
  after?: InodeCursor;
  offset?: number;
  limit: number;
}

export interface InodeRepo {
  get(libraryId: LibraryId, spaceId: string, id: string): Promise<InodeRecord | undefined>;
  /** An inode by id anywhere in the library (VOD asset ids are inode ids). */
  find(libraryId: LibraryId, id: string): Promise<InodeRecord | undefined>;
  child(
    libraryId: LibraryId,
    spaceId: string,
    parentId: string,
    name: string,
  ): Promise<InodeRecord | undefined>;
  /** Names in a directory starting with `prefix` (for choosing a free "name (n)"). */
  childNames(libraryId: LibraryId, spaceId: string, parentId: string, prefix: string): Promise<string[]>;
  list(query: InodeListQuery): Promise<InodeRecord[]>;
  count(libraryId: LibraryId, spaceId: string, parentId: string): Promise<{ dirs: number; files: number }>;
  /** Inserts unless the name is taken in that directory; false when taken. */
  insert(inode: InodeRecord): Promise<boolean>;
  /** Replaces every field of the inode with this id. */
  update(inode: InodeRecord): Promise<void>;
  /** Records a file's instant-upload hashes if it still holds the bytes of `objectKey`. */
  setHashes(
    libraryId: LibraryId,
    spaceId: string,
    id: string,
    objectKey: string,
    hashes: { beginningHash: string; fullHash: string },
  ): Promise<boolean>;
  delete(ids: readonly string[]): Promise<void>;
  /** Ids of every descendant of a directory (not the directory itself). */
  descendants(libraryId: LibraryId, spaceId: string, id: string): Promise<InodeRecord[]>;
  /** Directories and files of a whole space. */
  countInSpace(libraryId: LibraryId, spaceId: string): Promise<{ dirs: number; files: number }>;
  findByHash(
    libraryId: LibraryId,
    spaceId: string,
    size: number,
    beginningHash: string,
  ): Promise<InodeRecord[]>;
}

/** Extra conditions of a task update on its confirm lease. */
export interface LeaseCondition {
  /** The lease holder the task must still have (null: none). */
  owner: string | null;
  /** Also require the lease to have run out before this time (epoch ms). */
  expiredBefore?: number;
}

export interface UploadTaskRepo {
  insert(task: UploadTaskRecord): Promise<void>;
  get(confirmKey: string): Promise<UploadTaskRecord | undefined>;
  /** Conditional state change with optional field updates; true when this call made it. */
  transition(
    confirmKey: string,
    from: UploadTaskState,
    to: UploadTaskState,
    patch?: Partial<
      Pick<
        UploadTaskRecord,
        | 'objectReady'
        | 'result'
        | 'credentialExpiresAt'
        | 'credentialId'
        | 'strategy'
        | 'leaseOwner'
        | 'leaseUntil'
      >
    >,
    now?: number,
    lease?: LeaseCondition,
  ): Promise<boolean>;
  /** Updates fields of a task still in `state` (and holding `lease`); true when it was. */
  update(
    confirmKey: string,
    state: UploadTaskState,
    patch: Partial<
      Pick<UploadTaskRecord, 'objectReady' | 'credentialExpiresAt' | 'credentialId' | 'leaseUntil'>
    >,
    now: number,
    lease?: LeaseCondition,
  ): Promise<boolean>;
  /**
   * Tasks in `state` whose credentials expired before `before` (uploading), whose confirm lease ran
   * out before it (confirming), or updated before it (the others).
   */
  listStale(state: UploadTaskState, before: number, limit: number): Promise<UploadTaskRecord[]>;
  /** Every task of a space, whatever its state. */
  listInSpace(libraryId: LibraryId, spaceId: string): Promise<UploadTaskRecord[]>;
  /**
   * Hands tasks in `confirming` whose lease owner starts with `ownerPrefix` back to `uploading`, except
   * those of `keepOwner`: a restarted process recovers the confirms its previous run left. Returns them.
   */
  reopenConfirmsOf(ownerPrefix: string, keepOwner: string, now: number): Promise<number>;
  delete(confirmKey: string): Promise<void>;
}
