// The namespace of a space: directories and files (inodes) and the orders they are listed in.
import type { LibraryId } from '../ids.ts';

export type InodeType = 'dir' | 'file';

/** Labels, category and client times carried by files and directories. */
export interface InodeAttributes {
  labels?: string[];
  category?: string;
  localCreationTime?: string;
  localModificationTime?: string;
}

export interface InodeRecord {
  id: string;
  libraryId: LibraryId;
  spaceId: string;
  /** "" for entries of the space root. */
  parentId: string;
  name: string;
  type: InodeType;
  size: number;
  contentType: string | null;
  /** Without quotes; "0" for directories. */
  etag: string;
  crc64: string | null;
  /** Key of the file's bytes in the library's bucket; null for directories. */
  objectKey: string | null;
  /** x-smh-meta-* headers, keys with their prefix. */
  meta: Record<string, string>;
  attributes: InodeAttributes;
  /** Instant-upload hashes (spec smh §3.2), when known. */
  beginningHash: string | null;
  fullHash: string | null;
  userId: string;
  createdAt: number;
  modifiedAt: number;
}

export type InodeOrder = 'name' | 'modificationTime' | 'size' | 'creationTime';

/** Position of an entry in a listing order: its type, sort value, then name and id as tie-breakers. */
export interface InodeCursor {
  type: InodeType;
  value: string | number;
  name: string;
  id: string;
}
