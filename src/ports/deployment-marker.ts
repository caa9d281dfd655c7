// DeploymentMarker: a small file (fs) or object (s3) at the root of the blob store that names the
// database owning it, so a second deployment pointed at the same store refuses to start instead of
// sweeping the first one's blobs as orphans (docs/deploy.md, "One bucket and prefix per database").

/** The marker's name at the root of the store (beside `a/…` blob directories, or `files/` and `blobs/`). */
export const MARKER_NAME = '.mediahost-deployment';

export interface DeploymentMarker {
  /** The store as an operator names it: a directory, or `s3://bucket/prefix`. */
  readonly location: string;
  /** The settings that choose that location, for messages. */
  readonly settings: string;
  /** The marker's text, or undefined when there is none. */
  read(options?: { signal?: AbortSignal }): Promise<string | undefined>;
  write(text: string, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Library ids of SMH files the store keeps apart from the blobs (up to `limit`): the external
   * store's `files/`. Embedded SMH files are blobs, so the fs store answers none.
   */
  fileLibraries(limit: number, options?: { signal?: AbortSignal }): Promise<string[]>;
}
