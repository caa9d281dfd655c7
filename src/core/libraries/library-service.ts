// Libraries: the top-level isolated unit. Creating one makes its bucket (COS form `name-APPID`, where
// the APPID is one random number per installation) and a permanent key pair for the object API; the
// operator lists them, replaces their secret or key pair, and deletes them (the `library` commands).
import type { Clock } from '../../ports/clock.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { AppError } from '../errors.ts';
import {
  type AccessKeyId,
  type BucketName,
  type LibraryId,
  newAccessKeyId,
  newAppId,
  newLibraryId,
  newLibrarySecret,
  newSecretAccessKey,
} from '../ids.ts';
import { sha256Hex } from '../objects/credential-service.ts';
import type { LibraryContents, LibraryRecord } from './model.ts';

export interface CreatedLibrary {
  library: LibraryRecord;
  /** Shown once: only its hash is stored. */
  librarySecret: string;
  accessKeyId: AccessKeyId;
  secretAccessKey: string;
}

export interface LibrarySummary {
  library: LibraryRecord;
  contents: LibraryContents;
  /** Ids of the library's own key pairs (never the internal key that signs SMH download URLs). */
  accessKeyIds: AccessKeyId[];
}

export interface RotatedKeys {
  library: LibraryRecord;
  /** Shown once, like at creation. */
  accessKeyId: AccessKeyId;
  secretAccessKey: string;
  /** The key pairs that stopped working. */
  revokedAccessKeyIds: AccessKeyId[];
}

export interface LibraryServiceDeps {
  store: MetadataStore;
  clock: Clock;
  /** Where SMH files live, for deleting a library's. */
  objects: ObjectStore;
}

// The COS Node SDK accepts buckets matching ^([a-z\d-]+)-(\d+)$; the name must also start and end
// with a letter or digit, and the whole bucket must fit S3's 63 characters.
const LIBRARY_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** Nothing a client put there: no file, directory, object, tenant space, upload or media task. */
function isEmptyLibrary(library: LibraryRecord, contents: LibraryContents): boolean {
  const { spaces, ...rest } = contents;
  const implicitSpaces = library.isMultiTenant ? 0 : 1;
  return spaces <= implicitSpaces && Object.values(rest).every((n) => n === 0);
}

/** Refuses to delete a library that holds anything, unless forced. */
export function checkDeletable(summary: Pick<LibrarySummary, 'library' | 'contents'>, force: boolean): void {
  const { library, contents } = summary;
  if (force || isEmptyLibrary(library, contents)) return;
  throw new AppError(
    'InvalidRequest',
    `The library ${library.name} (${library.id}) is not empty: it holds ${describeContents(contents)}. --force deletes it with everything in it.`,
  );
}

export class LibraryService {
  readonly #store: MetadataStore;
  readonly #clock: Clock;
  readonly #objects: ObjectStore;

  constructor(deps: LibraryServiceDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#objects = deps.objects;
  }

  /** The installation's APPID, created on first use. */
  async appId(): Promise<string> {
    return this.#store.settings.putIfAbsent('appId', newAppId());
  }

  async create(input: { name: string; multiTenant: boolean }): Promise<CreatedLibrary> {
    if (!LIBRARY_NAME.test(input.name)) {
      throw new AppError(
        'InvalidArgument',
        'A library name is 1 to 40 lower-case letters, digits and hyphens, starting and ending with a letter or digit.',
      );
    }
    const appId = await this.appId();
    const now = this.#clock.now();
    const librarySecret = newLibrarySecret();
    const accessKeyId = newAccessKeyId();
    const secretAccessKey = newSecretAccessKey();
    const library: LibraryRecord = {
      id: newLibraryId(),
      name: input.name,
      secretHash: sha256Hex(librarySecret),
      isMultiTenant: input.multiTenant,
      bucket: `${input.name}-${appId}` as BucketName,
      createdAt: now,
    };
    await this.#store.transaction(async (tx) => {
      // Decided by the unique name, so two nodes creating the same library at once get one library.
      if (!(await tx.libraries.insert(library)))
        throw new AppError('BucketAlreadyExists', `A library named "${input.name}" already exists.`);
      const inserted = await tx.buckets.insert({
        name: library.bucket,
        libraryId: library.id,
        acl: 'private',
        createdAt: now,
      });
      if (!inserted)
        throw new AppError('BucketAlreadyExists', `The bucket ${library.bucket} already exists.`);
      if (!input.multiTenant) {
        // SMH: a single-tenant library has exactly one implicit space, "-".
        await tx.spaces.insert({
          libraryId: library.id,
          id: '-',
          userId: '',
          extension: {},
          quotaId: null,
          usedBytes: 0,
          createdAt: now,
        });
      }
      await tx.accessKeys.insert({
        id: accessKeyId,
        secret: secretAccessKey,
        libraryId: library.id,
        bucket: library.bucket,
        sessionToken: null,
        expiresAt: null,
        scope: null,
        createdAt: now,
      });
    });
    return { library, librarySecret, accessKeyId, secretAccessKey };
  }

  async get(id: LibraryId): Promise<LibraryRecord | undefined> {
    return this.#store.libraries.get(id);
  }

  async list(): Promise<LibraryRecord[]> {
    return this.#store.libraries.list();
  }

  async #existing(id: string): Promise<LibraryRecord> {
    const library = await this.#store.libraries.get(id as LibraryId);
    if (!library) throw new AppError('LibraryNotFound', `There is no library ${id}.`);
    return library;
  }

  async #summarise(library: LibraryRecord): Promise<LibrarySummary> {
    const contents = await this.#store.libraries.contents(library.id);
    const keys = await this.#store.accessKeys.keyPairsFor(library.id);
    return { library, contents, accessKeyIds: keys.map((k) => k.id) };
  }

  async summary(id: string): Promise<LibrarySummary> {
    return this.#summarise(await this.#existing(id));
  }

  /** Every library with what it holds, oldest first. */
  async summaries(): Promise<LibrarySummary[]> {
    const out: LibrarySummary[] = [];
    for (const library of await this.#store.libraries.list()) out.push(await this.#summarise(library));
    return out;
  }

  /**
   * A new library secret; the old one stops working at once. Tokens made with the old secret are
   * credentials of their own and stay valid unless `revokeTokens` (a leaked secret may have minted some).
   */
  async rotateSecret(
    id: string,
    options: { revokeTokens: boolean },
  ): Promise<{ library: LibraryRecord; librarySecret: string; tokensRevoked: number }> {
    const librarySecret = newLibrarySecret();
    return this.#store.transaction(async (tx) => {
      const library = await tx.libraries.get(id as LibraryId);
      if (!library) throw new AppError('LibraryNotFound', `There is no library ${id}.`);
      await tx.libraries.setSecretHash(library.id, sha256Hex(librarySecret));
      const tokensRevoked = options.revokeTokens ? await tx.tokens.deleteForLibrary(library.id) : 0;
      return { library: { ...library, secretHash: sha256Hex(librarySecret) }, librarySecret, tokensRevoked };
    });
  }

  /**
   * A new object-API key pair in place of the library's current ones, which stop working at once.
   * Temporary keys of upload grants and the key that signs SMH download URLs are not key pairs a
   * user holds, and stay.
   */
  async rotateKeys(id: string): Promise<RotatedKeys> {
    const accessKeyId = newAccessKeyId();
    const secretAccessKey = newSecretAccessKey();
    return this.#store.transaction(async (tx) => {
      const library = await tx.libraries.get(id as LibraryId);
      if (!library) throw new AppError('LibraryNotFound', `There is no library ${id}.`);
      const old = await tx.accessKeys.keyPairsFor(library.id);
      for (const key of old) await tx.accessKeys.delete(key.id);
      await tx.accessKeys.insert({
        id: accessKeyId,
        secret: secretAccessKey,
        libraryId: library.id,
        bucket: library.bucket,
        sessionToken: null,
        expiresAt: null,
        scope: null,
        createdAt: this.#clock.now(),
      });
      return { library, accessKeyId, secretAccessKey, revokedAccessKeyIds: old.map((k) => k.id) };
    });
  }

  /**
   * Deletes a library: refused while it holds anything unless `force`. The SMH files an external
   * store keeps go first, so a failure part-way leaves the library in place to delete again; then
   * every row in one transaction. Blobs behind the deleted objects are reclaimed by the sweeper.
   */
  async delete(
    id: string,
    options: { force: boolean },
  ): Promise<{ library: LibraryRecord; contents: LibraryContents }> {
    const library = await this.#existing(id);
    const contents = await this.#store.libraries.contents(library.id);
    checkDeletable({ library, contents }, options.force);
    await this.#objects.purgeLibrary(library);
    await this.#store.transaction((tx) => tx.libraries.deleteWithContents(library.id));
    return { library, contents };
  }

  /** First start on an empty data dir: create the default library (returned so it can be shown once). */
  async ensureDefault(): Promise<CreatedLibrary | undefined> {
    if ((await this.#store.libraries.list()).length > 0) return undefined;
    try {
      return await this.create({ name: 'default', multiTenant: false });
    } catch (err) {
      // Another process created it first.
      if (err instanceof AppError && err.code === 'BucketAlreadyExists') return undefined;
      throw err;
    }
  }
}

/** "3 files, 1 directory, …": the non-zero counts, for messages. */
export function describeContents(contents: LibraryContents): string {
  const names: Record<keyof LibraryContents, [string, string]> = {
    spaces: ['space', 'spaces'],
    files: ['file', 'files'],
    directories: ['directory', 'directories'],
    objects: ['object', 'objects'],
    multipartUploads: ['multipart upload', 'multipart uploads'],
    uploadTasks: ['upload task', 'upload tasks'],
    mediaTasks: ['media task', 'media tasks'],
  };
  const parts = (Object.keys(names) as (keyof LibraryContents)[])
    .filter((k) => contents[k] > 0)
    .map((k) => `${contents[k]} ${names[k][contents[k] === 1 ? 0 : 1]}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}
