// Libraries: the top-level isolated unit. Creating one makes its bucket (COS form `name-APPID`, where
// the APPID is one random number per installation) and a permanent key pair for the object API.
import type { Clock } from '../../ports/clock.ts';
import type { LibraryRecord, MetadataStore } from '../../ports/metadata-store.ts';
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

export interface CreatedLibrary {
  library: LibraryRecord;
  /** Shown once: only its hash is stored. */
  librarySecret: string;
  accessKeyId: AccessKeyId;
  secretAccessKey: string;
}

// The COS Node SDK accepts buckets matching ^([a-z\d-]+)-(\d+)$; the name must also start and end
// with a letter or digit, and the whole bucket must fit S3's 63 characters.
const LIBRARY_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

export class LibraryService {
  readonly #store: MetadataStore;
  readonly #clock: Clock;

  constructor(store: MetadataStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
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
