// SMH upload tasks: what was begun, where it goes, and the state of its lifecycle.
import type { LibraryId } from '../ids.ts';
import type { InodeAttributes } from '../namespace/model.ts';

export type UploadFlavour = 'simple' | 'form' | 'multipart';

export type ConflictStrategy = 'ask' | 'rename' | 'overwrite';

export type UploadTaskState = 'uploading' | 'confirming' | 'confirmed' | 'cancelled' | 'expired';

/** What the client sent at begin and the file gets at confirm. */
export interface UploadTaskOptions {
  meta: Record<string, string>;
  attributes: InodeAttributes;
  filesize?: number;
  trafficLimit?: number;
  beginningHash?: string;
  fullHash?: string;
  /**
   * The task's object key is a staging key (a store whose grants cannot be withdrawn): confirm copies
   * the bytes to a key of their own, so a grant used again later cannot touch the file.
   */
  staged?: boolean;
}

export interface UploadTaskRecord {
  confirmKey: string;
  libraryId: LibraryId;
  spaceId: string;
  /** Requested path, name last. */
  path: string[];
  flavour: UploadFlavour;
  strategy: ConflictStrategy;
  /** Begun with a grant that may overwrite. */
  force: boolean;
  objectKey: string;
  uploadId: string | null;
  /** Credential of the latest grant, signed again by status. */
  credentialId: string | null;
  state: UploadTaskState;
  /** The bytes are complete in the object store (a multipart upload was completed). */
  objectReady: boolean;
  credentialExpiresAt: number;
  userId: string;
  options: UploadTaskOptions;
  /** Inode id of the confirmed file. */
  result: string | null;
  createdAt: number;
  updatedAt: number;
  /** While `confirming`: the process confirming it ("node/boot"), which renews the lease until it ends. */
  leaseOwner: string | null;
  /** Epoch ms the confirm lease runs out; past it, any process may hand the task back (0: none). */
  leaseUntil: number;
}
