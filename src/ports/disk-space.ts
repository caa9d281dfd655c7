// DiskSpace: how full the filesystem holding the data dir is, so writes can be refused while some
// room is left instead of failing halfway when none is.

export interface DiskUsage {
  /** Bytes this process may still write (what `df` shows as available). */
  freeBytes: number;
  totalBytes: number;
  /** Free space below which new uploads and media tasks are refused (--disk-reserve-mib). */
  reserveBytes: number;
}

export interface DiskSpace {
  /** The current usage; may be a moment old, so asking on every request costs little. */
  usage(): Promise<DiskUsage>;
}
