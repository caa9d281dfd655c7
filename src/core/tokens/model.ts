// Access tokens: only their hash is kept, with the library, spaces and grants they carry.
import type { LibraryId } from '../ids.ts';

export interface TokenRecord {
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  hash: string;
  libraryId: LibraryId;
  /** Spaces the token may touch; null means every space (admin tokens) or the single space. */
  spaceIds: string[] | null;
  userId: string;
  clientId: string;
  sessionId: string;
  grants: string[];
  /** Seconds: initial validity, and how far each use pushes the expiry. */
  period: number;
  expiresAt: number;
  createdAt: number;
}
