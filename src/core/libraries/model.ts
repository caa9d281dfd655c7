// The library as the domain sees it: a tenant of the installation with its bucket and secret.
import type { BucketName, LibraryId } from '../ids.ts';

export interface LibraryRecord {
  id: LibraryId;
  name: string;
  /** SHA-256 (hex) of the library secret; the secret itself is shown once and never stored. */
  secretHash: string;
  isMultiTenant: boolean;
  bucket: BucketName;
  createdAt: number;
}

/** What a library holds: shown by `library list`, and what `library delete` refuses to drop unforced. */
export interface LibraryContents {
  /** Every space, the implicit "-" of a single-tenant library included. */
  spaces: number;
  files: number;
  directories: number;
  /** Objects in the library's buckets (in embedded mode SMH files are objects there too). */
  objects: number;
  /** Multipart uploads of the library's buckets still active. */
  multipartUploads: number;
  /** SMH upload tasks not yet confirmed, cancelled or expired. */
  uploadTasks: number;
  /** Media tasks waiting or running. */
  mediaTasks: number;
}
