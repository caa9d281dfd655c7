// ObjectStore: where the bytes of SMH files live, seen from the business layer. In embedded mode it
// is mediahost's own object API; in scale-out mode an external S3-compatible store. Either way
// clients send bytes straight to it with the grants this port signs, and the business layer only
// creates, inspects, completes, aborts and deletes.
//
// Contract: listParts answers undefined for an upload that no longer exists; abort and delete are
// idempotent; completeMultipartUpload fails with AppError 'MultipartUploadPartTooSmall' when a
// non-last part is below the store's minimum.
import type { Readable } from 'node:stream';
import type { LibraryRecord } from '../core/libraries/model.ts';

export interface ObjectLocation {
  library: LibraryRecord;
  /** Key of the object in the library's storage, e.g. `smh…/k3j…`. Never a user path. */
  key: string;
}

export interface StoredObjectInfo {
  size: number;
  /** Without quotes. */
  etag: string;
  /** CRC-64/XZ as unsigned decimal, when the store reports it. */
  crc64: string | null;
  contentType: string;
  lastModified: number;
}

export interface UploadedPart {
  partNumber: number;
  /** Without quotes. */
  etag: string;
  size: number;
  lastModified: number;
}

export type GrantFlavour = 'simple' | 'form' | 'multipart';

/** What a client sends one part of a multipart upload with, when parts are signed one by one. */
export interface PartGrant {
  /** The full URL of the part PUT, query included. */
  url: string;
  /** Path and query of that URL. */
  path: string;
  headers: Record<string, string>;
}

/** What a client needs to send bytes to the store, in the SMH begin/renew shapes. */
export interface UploadGrant {
  /** host[:port] of the storage endpoint. */
  domain: string;
  /** Request path on that domain ("/" for form uploads). */
  path: string;
  /** The full URL, scheme included. */
  url: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  /**
   * Multipart: per-part requests by part number, for the part numbers asked for. Stores whose
   * signatures cover the part number (SigV4) always fill it; others may leave it to the caller, who
   * derives the entries from `headers`.
   */
  parts?: Record<string, PartGrant>;
  expiresAt: number;
  /**
   * Identifies the credential behind the grant (so it can be signed again without a new one), or the
   * grant's signatures where the store has no credentials of its own; equal ids sign alike, so a
   * recent grant with the same id may be reused.
   */
  credentialId: string | null;
}

export interface GrantRequest {
  flavour: GrantFlavour;
  uploadId?: string;
  expiresAt: number;
  /** Bytes per second the client may use, enforced by the store when it can. */
  trafficLimit?: number;
  contentType?: string;
  /** Largest body a form upload may carry. */
  maxSize?: number;
  /** Multipart: the part numbers to sign one by one (SigV4 stores; see UploadGrant.parts). */
  partNumbers?: readonly number[];
  /** Sign again with this earlier grant's credential (and its expiry) instead of a new one. */
  reuseCredential?: string;
}

/** Whether the store answers, for /healthz. */
export interface ObjectStoreHealth {
  kind: 'embedded' | 's3';
  status: 'ok' | 'unavailable';
  reason?: string;
}

export interface ObjectStore {
  /**
   * Whether revokeGrants really makes earlier grants unusable (embedded: their credentials are
   * deleted); false where grants are signatures that stay valid until they expire.
   */
  readonly grantsRevocable: boolean;
  /** Cheap enough for a health check: implementations cache the answer for a few seconds. */
  health(): Promise<ObjectStoreHealth>;
  createMultipartUpload(loc: ObjectLocation, options: { contentType: string }): Promise<string>;
  listParts(loc: ObjectLocation, uploadId: string): Promise<UploadedPart[] | undefined>;
  completeMultipartUpload(
    loc: ObjectLocation,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<StoredObjectInfo>;
  abortMultipartUpload(loc: ObjectLocation, uploadId: string): Promise<void>;
  headObject(loc: ObjectLocation): Promise<StoredObjectInfo | undefined>;
  deleteObject(loc: ObjectLocation): Promise<void>;
  copyObject(from: ObjectLocation, to: ObjectLocation): Promise<StoredObjectInfo>;
  /**
   * Signs what a client needs to upload to `loc` until `expiresAt`; with `reuseCredential`, signs again
   * with that credential (falling back to a new one when it is gone).
   */
  grantUpload(loc: ObjectLocation, request: GrantRequest): Promise<UploadGrant>;
  /** Makes earlier grants for `loc` (and its upload) unusable. */
  revokeGrants(loc: ObjectLocation, uploadId?: string): Promise<void>;
  /** A URL that GETs the object (Range honoured) until it expires. */
  presignGet(
    loc: ObjectLocation,
    options: { expiresInSeconds: number; query?: Record<string, string> },
  ): Promise<string>;
  read(loc: ObjectLocation, range?: { start: number; end: number }, signal?: AbortSignal): Promise<Readable>;
  /**
   * Where ffmpeg can read the object: local files (a path, or `concat:a|b` for an object kept as
   * several blobs) when the store keeps it on this machine, else a signed URL.
   */
  mediaSource(loc: ObjectLocation): Promise<string>;
  /** Stores a local file as the object. */
  putFile(loc: ObjectLocation, path: string, options: { contentType: string }): Promise<StoredObjectInfo>;
  /**
   * For a library being deleted: removes what the store holds for its SMH files apart from the
   * library's metadata rows, i.e. the objects and unfinished multipart uploads under its key prefix
   * in an external store. The embedded store keeps SMH files as objects of the library's bucket, which
   * go with the library's rows (their blobs to the sweeper), so it has nothing to do. Idempotent.
   */
  purgeLibrary(library: LibraryRecord): Promise<void>;
}
