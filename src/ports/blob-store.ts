// BlobStore: immutable byte blobs under opaque keys. The contract (test/contract/blob-store.test.ts):
// - write() returns only once the bytes are durable under the returned key; until then, and after any
//   failure or abort, no partial blob is visible under any key;
// - read() serves an inclusive byte range and fails with BlobNotFoundError for a missing key;
// - a write the disk cannot take (it is full) rejects with AppError InsufficientStorage, leaving nothing;
// - delete() ignores keys that do not exist;
// - list() yields every committed blob with its modification time, for the orphan sweeper.
import type { Readable } from 'node:stream';
import type { BlobKey } from '../core/ids.ts';

export interface BlobWriteResult {
  key: BlobKey;
  size: number;
}

export interface BlobReadOptions {
  /** First byte, inclusive (default 0). */
  start?: number;
  /** Last byte, inclusive (default: end of blob). */
  end?: number;
  signal?: AbortSignal;
}

export interface BlobInfo {
  key: BlobKey;
  modifiedAt: number;
}

export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError';
}

export interface BlobStore {
  write(source: AsyncIterable<Uint8Array>, options?: { signal?: AbortSignal }): Promise<BlobWriteResult>;
  read(key: BlobKey, options?: BlobReadOptions): Promise<Readable>;
  /** A new blob with the same bytes (server-side copy). */
  copy(key: BlobKey, options?: { signal?: AbortSignal }): Promise<BlobWriteResult>;
  size(key: BlobKey): Promise<number | undefined>;
  delete(keys: readonly BlobKey[]): Promise<void>;
  list(options?: { signal?: AbortSignal }): AsyncIterable<BlobInfo>;
  /** The blob's file on this machine, when the store keeps blobs as local files (for ffmpeg). */
  localPath?(key: BlobKey): string;
  /**
   * Removes temporary files of writes that never finished and are older than the given time; never
   * one of a write still in progress, however long ago it began or last wrote.
   */
  sweepTemporary(olderThanMs: number): Promise<number>;
}
