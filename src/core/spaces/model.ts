// Spaces of a library and the quotas they share.
import type { LibraryId } from '../ids.ts';

export interface SpaceExtension {
  isPublicRead?: boolean;
  isMultiAlbum?: boolean;
  allowPhoto?: boolean;
  allowVideo?: boolean;
  allowPhotoExtname?: string[];
  allowVideoExtname?: string[];
  allowFileExtname?: string[];
  recognizeSensitiveContent?: boolean;
  spaceTag?: string;
}

export interface SpaceRecord {
  libraryId: LibraryId;
  /** `-` for the one space of a single-tenant library. */
  id: string;
  /** The user whose token created the space ("" for the implicit one). */
  userId: string;
  extension: SpaceExtension;
  quotaId: number | null;
  usedBytes: number;
  createdAt: number;
}

export interface QuotaRecord {
  id: number;
  libraryId: LibraryId;
  capacity: number;
  removeWhenExceed: boolean;
  removeAfterDays: number;
  removeNewest: boolean;
  createdAt: number;
}
