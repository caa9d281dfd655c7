// The object engine's records: buckets, access keys and their scopes, objects with their segments,
// multipart uploads with their parts, and the rows that point to blobs.
import type { AccessKeyId, BlobKey, BucketName, LibraryId, ObjectId, UploadId } from '../ids.ts';

export type BucketAcl = 'private' | 'public-read' | 'public-read-write';

export interface BucketRecord {
  name: BucketName;
  libraryId: LibraryId;
  acl: BucketAcl;
  createdAt: number;
}

/** What a temporary credential may do; absent fields do not restrict. */
export interface CredentialScope {
  /** Exact object key the credential is limited to. */
  key?: string;
  /** Key prefix the credential is limited to (the SMH keys, for the key that signs download URLs). */
  prefix?: string;
  /** Multipart upload the credential is limited to. */
  uploadId?: string;
  /** Object API operations allowed, e.g. ["PutObject"] or ["UploadPart", "ListParts"]. */
  actions?: string[];
  /** Bytes per second the holder may use; enforced by the object endpoint when set. */
  trafficLimit?: number;
}

export interface AccessKeyRecord {
  id: AccessKeyId;
  /** Kept in clear: HMAC signatures cannot be checked against a hash. */
  secret: string;
  libraryId: LibraryId;
  bucket: BucketName;
  /**
   * Session token of a temporary credential (null for a permanent key). Kept in clear like the
   * secret: both are needed to sign grants again, and reading the database already gives the data.
   */
  sessionToken: string | null;
  expiresAt: number | null;
  scope: CredentialScope | null;
  createdAt: number;
}

/** Content headers stored with an object and returned on GET/HEAD. */
export interface ObjectHeaders {
  contentType: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: string;
  storageClass: string;
  /** User metadata, lower-case names without the x-cos-meta-/x-amz-meta- prefix. */
  meta: Record<string, string>;
}

export interface ObjectRecord {
  id: ObjectId;
  bucket: BucketName;
  key: string;
  size: number;
  /** Without quotes: md5 hex, or md5-of-md5s hex + "-" + part count. */
  etag: string;
  /** CRC-64/XZ, unsigned decimal. */
  crc64: string;
  headers: ObjectHeaders;
  /** Full-object S3 checksums (algorithm lower-case -> base64) when the client sent them. */
  checksums: Record<string, string>;
  partsCount: number;
  lastModified: number;
}

export interface SegmentRecord {
  blobKey: BlobKey;
  size: number;
}

export type UploadState = 'active' | 'completed' | 'aborted';

export interface CompletedUpload {
  etag: string;
  crc64: string;
  size: number;
  /** Digest of the part list Complete was called with, to recognise a retry. */
  partsDigest: string;
  completedAt: number;
}

export interface UploadRecord {
  id: UploadId;
  bucket: BucketName;
  key: string;
  state: UploadState;
  initiatedAt: number;
  owner: string;
  headers: ObjectHeaders;
  checksumAlgorithm: string | null;
  result: CompletedUpload | null;
}

export interface PartRecord {
  uploadId: UploadId;
  partNumber: number;
  blobKey: BlobKey;
  size: number;
  /** md5 hex, without quotes. */
  etag: string;
  crc64: string;
  checksums: Record<string, string>;
  lastModified: number;
}

export type PartSummary = Pick<PartRecord, 'partNumber' | 'etag' | 'size' | 'lastModified'>;

/** A row that points to a blob: an object's segment, or a part of a multipart upload. */
export interface BlobRef {
  blobKey: BlobKey;
  size: number;
  bucket: BucketName;
  key: string;
  /** Set when the row is a part. */
  part?: { uploadId: UploadId; partNumber: number };
}
