// Branded identifiers and their generators. Ids are random and opaque; none is derived from a user
// path, so renaming a file never renames its bytes.
import { randomBytes, randomInt } from 'node:crypto';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type LibraryId = Brand<string, 'LibraryId'>;
export type BucketName = Brand<string, 'BucketName'>;
export type UploadId = Brand<string, 'UploadId'>;
export type ObjectId = Brand<string, 'ObjectId'>;
export type BlobKey = Brand<string, 'BlobKey'>;
export type AccessKeyId = Brand<string, 'AccessKeyId'>;

const LOWER36 = '0123456789abcdefghijklmnopqrstuvwxyz';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomString(length: number, alphabet: string = BASE62): string {
  // Rejection-free for alphabets up to 256 symbols: randomInt is uniform.
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** SMH-style library id: `smh` + 13 lower-case base-36 characters. */
export function newLibraryId(): LibraryId {
  return `smh${randomString(13, LOWER36)}` as LibraryId;
}

export function newLibrarySecret(): string {
  return randomString(40);
}

/** COS-style SecretId: `AKID` + 32 base-62 characters. */
export function newAccessKeyId(): AccessKeyId {
  return `AKID${randomString(32)}` as AccessKeyId;
}

export function newSecretAccessKey(): string {
  return randomString(32);
}

/** A 10-digit APPID, the numeric suffix of every bucket name on this installation. */
export function newAppId(): string {
  return String(1_000_000_000 + randomInt(8_999_999_999 - 1_000_000_000));
}

/**
 * COS: 10 decimal digits of Unix seconds, then 64 hex digits. Lexicographic order equals initiation
 * order, which satisfies the COS and S3 ordering rules of List Multipart Uploads.
 */
export function newUploadId(nowMs: number): UploadId {
  const seconds = String(Math.floor(nowMs / 1000)).padStart(10, '0');
  return `${seconds}${randomHex(32)}` as UploadId;
}

export function newObjectId(): ObjectId {
  return randomString(24, LOWER36) as ObjectId;
}

/** Blob keys are sharded by their first characters; the blob store never sees a user path. */
export function newBlobKey(): BlobKey {
  return randomString(32, LOWER36) as BlobKey;
}

export function newRequestId(nowMs: number): string {
  return Buffer.from(`${nowMs.toString(16)}_${randomHex(8)}`).toString('base64url');
}
