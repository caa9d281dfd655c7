// Object API credentials: the permanent key pair of a library, temporary keys (with a session token)
// scoped to one object or upload, which SMH upload tasks hand to their clients, and the key confined to
// the SMH keys that signs download URLs. Signature checking is the surface's job; this service finds
// the secret and decides what a key may do.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../ports/clock.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { AppError } from '../errors.ts';
import {
  type AccessKeyId,
  type BucketName,
  type LibraryId,
  newAccessKeyId,
  newSecretAccessKey,
  randomString,
} from '../ids.ts';
import type { AccessKeyRecord, CredentialScope } from './model.ts';
import { mayReachKey, smhKeyDenied, smhKeyPrefix } from './smh-keys.ts';

export type ObjectAction =
  | 'ListBuckets'
  | 'HeadBucket'
  | 'ListObjects'
  | 'ListMultipartUploads'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'PostObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'DeleteObjects'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'ListParts'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload';

/** Who signed a request, once the signature has been checked. */
export interface Principal {
  accessKeyId: AccessKeyId;
  libraryId: LibraryId;
  scope: CredentialScope | null;
}

export interface TemporaryCredential {
  accessKeyId: AccessKeyId;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

export class CredentialService {
  readonly #store: MetadataStore;
  readonly #clock: Clock;

  constructor(store: MetadataStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Finds a key and checks its session token; the caller then verifies the signature with `secret`. */
  async resolve(accessKeyId: string, sessionToken: string | undefined): Promise<AccessKeyRecord> {
    const key = await this.#store.accessKeys.get(accessKeyId as AccessKeyId);
    if (!key) {
      throw new AppError(
        'InvalidAccessKeyId',
        'The access key ID you provided does not exist in our records.',
      );
    }
    if (key.sessionToken !== null) {
      if (sessionToken === undefined || sessionToken === '') {
        throw new AppError('AccessDenied', 'Temporary credentials need their security token.');
      }
      const given = Buffer.from(sha256Hex(sessionToken));
      const stored = Buffer.from(sha256Hex(key.sessionToken));
      if (given.length !== stored.length || !timingSafeEqual(given, stored)) {
        throw new AppError('InvalidToken', 'The provided security token is malformed or otherwise invalid.');
      }
    }
    return key;
  }

  /** Temporary credentials past their life: checked after the signature, as COS does. */
  checkNotExpired(key: AccessKeyRecord): void {
    if (key.expiresAt !== null && key.expiresAt < this.#clock.now()) {
      throw new AppError('ExpiredToken', 'The provided token has expired.');
    }
  }

  /** May this key perform `action` on bucket/key (and upload)? Throws AccessDenied if not. */
  async authorize(
    key: AccessKeyRecord,
    request: { action: ObjectAction; bucket?: BucketName; key?: string; uploadId?: string },
  ): Promise<Principal> {
    const principal: Principal = { accessKeyId: key.id, libraryId: key.libraryId, scope: key.scope };
    if (request.bucket !== undefined) {
      const bucket = await this.#store.buckets.get(request.bucket);
      if (!bucket) {
        throw new AppError('NoSuchBucket', 'The specified bucket does not exist.', {
          details: { BucketName: request.bucket },
        });
      }
      if (bucket.libraryId !== key.libraryId) throw new AppError('AccessDenied', 'Access Denied.');
      if (request.key !== undefined && !mayReachKey(bucket.libraryId, request.key, key.scope))
        throw smhKeyDenied(bucket.libraryId);
    }
    const scope = key.scope;
    if (scope) {
      const denied =
        (scope.actions !== undefined && !scope.actions.includes(request.action)) ||
        (scope.key !== undefined && request.key !== scope.key) ||
        (scope.prefix !== undefined && !request.key?.startsWith(scope.prefix)) ||
        (scope.uploadId !== undefined &&
          request.uploadId !== undefined &&
          request.uploadId !== scope.uploadId) ||
        (request.bucket !== undefined && request.bucket !== key.bucket);
      if (denied)
        throw new AppError('AccessDenied', 'Access Denied: the credential does not cover this request.');
    }
    return principal;
  }

  async issueTemporary(input: {
    libraryId: LibraryId;
    bucket: BucketName;
    scope: CredentialScope;
    expiresAt: number;
  }): Promise<TemporaryCredential> {
    const credential: TemporaryCredential = {
      accessKeyId: newAccessKeyId(),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: randomString(48),
      expiresAt: input.expiresAt,
    };
    await this.#store.accessKeys.insert({
      id: credential.accessKeyId,
      secret: credential.secretAccessKey,
      libraryId: input.libraryId,
      bucket: input.bucket,
      sessionToken: credential.sessionToken,
      expiresAt: input.expiresAt,
      scope: input.scope,
      createdAt: this.#clock.now(),
    });
    return credential;
  }

  /**
   * The library's key that signs SMH download URLs: permanent, confined to reading its SMH keys, and
   * never handed out. Made on first use; two nodes making one at once both work, the oldest is kept.
   */
  async smhReader(libraryId: LibraryId, bucket: BucketName): Promise<AccessKeyRecord> {
    const found = await this.#store.accessKeys.smhReaderFor(libraryId);
    if (found) return found;
    const key: AccessKeyRecord = {
      id: newAccessKeyId(),
      secret: newSecretAccessKey(),
      libraryId,
      bucket,
      sessionToken: null,
      expiresAt: null,
      scope: { prefix: smhKeyPrefix(libraryId), actions: ['GetObject', 'HeadObject'] },
      createdAt: this.#clock.now(),
    };
    await this.#store.accessKeys.insert(key);
    return (await this.#store.accessKeys.smhReaderFor(libraryId)) ?? key;
  }

  /** A temporary credential by id, to sign again with it; undefined once expired or revoked. */
  async temporary(id: string): Promise<TemporaryCredential | undefined> {
    const key = await this.#store.accessKeys.get(id as AccessKeyId);
    if (!key || key.sessionToken === null || key.expiresAt === null || key.expiresAt < this.#clock.now())
      return undefined;
    return {
      accessKeyId: key.id,
      secretAccessKey: key.secret,
      sessionToken: key.sessionToken,
      expiresAt: key.expiresAt,
    };
  }

  /** Removes temporary keys that expired more than `graceMs` ago. */
  async deleteExpired(graceMs: number): Promise<number> {
    return this.#store.accessKeys.deleteExpired(this.#clock.now() - graceMs);
  }
}
