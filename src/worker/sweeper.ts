// Reclaims what crashes and abandoned work leave behind: expired SMH upload tasks and access tokens,
// temporary files of writes that never finished, blobs no part or object points to, expired temporary
// keys and stale multipart uploads.
// Every step is idempotent, so several nodes may sweep at once.

import type { BlobKey } from '../core/ids.ts';
import type { CredentialService } from '../core/objects/credential-service.ts';
import type { MultipartService } from '../core/objects/multipart-service.ts';
import type { TokenService } from '../core/tokens/token-service.ts';
import type { UploadService } from '../core/uploads/upload-service.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export interface SweepReport {
  expiredUploadTasks: number;
  expiredTokens: number;
  temporaryFiles: number;
  orphanBlobs: number;
  expiredKeys: number;
  staleUploads: number;
}

export interface SweeperOptions {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  logger: Logger;
  credentials: CredentialService;
  multipart: MultipartService;
  tokens: TokenService;
  uploads: UploadService;
  /** Files and blobs younger than this are left alone: their writer may still record them. */
  graceMs: number;
  incompleteUploadMaxAgeMs: number;
  intervalMs: number;
  /** Why nothing may be reclaimed now (a restore in progress, an unconfirmed store), or undefined. */
  paused?: () => Promise<string | undefined>;
}

const BATCH = 500;
const NOTHING: SweepReport = {
  expiredUploadTasks: 0,
  expiredTokens: 0,
  temporaryFiles: 0,
  orphanBlobs: 0,
  expiredKeys: 0,
  staleUploads: 0,
};
/** Orphan candidates remembered between passes; more wait for a later pass. */
const MAX_SUSPECTS = 100_000;
/** Expired temporary keys are kept a day, so late requests still get a precise error. */
const EXPIRED_KEY_RETENTION_MS = 24 * 3600 * 1000;

export class Sweeper {
  readonly #o: SweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SweepReport> | undefined;
  /** Unreferenced blobs the last pass found; deleted when this pass finds them so again. */
  #suspects = new Set<BlobKey>();
  /** The pause reason last logged, so a pause is logged when it starts, not at every pass. */
  #pausedFor: string | undefined;

  constructor(options: SweeperOptions) {
    this.#o = options;
  }

  /**
   * Deletes blobs that no row points to. A blob is written before the row that points to it commits,
   * and a store's modification time is not always when the write ended (S3 stamps a multipart object
   * with the time its upload began), so an old-looking blob may be a moment from being referenced.
   * A blob is therefore deleted only when two passes, a sweep interval apart, both found it
   * unreferenced; in between, every write that produced it has committed or failed.
   */
  async #orphans(olderThan: number): Promise<number> {
    const { blobs, store } = this.#o;
    const suspects = new Set<BlobKey>();
    let removed = 0;
    let batch: BlobKey[] = [];
    const flush = async (): Promise<void> => {
      const referenced = await store.blobRefs.referenced(batch);
      const orphans = batch.filter((k) => !referenced.has(k));
      const confirmed = orphans.filter((k) => this.#suspects.has(k));
      await blobs.delete(confirmed);
      removed += confirmed.length;
      for (const k of orphans) if (!this.#suspects.has(k) && suspects.size < MAX_SUSPECTS) suspects.add(k);
      batch = [];
    };
    for await (const blob of blobs.list()) {
      if (blob.modifiedAt >= olderThan) continue;
      batch.push(blob.key);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    this.#suspects = suspects;
    return removed;
  }

  /** One full pass; concurrent callers share the pass in progress. */
  sweep(): Promise<SweepReport> {
    if (this.#running) return this.#running;
    const run = async (): Promise<SweepReport> => {
      const { blobs, clock, credentials, multipart } = this.#o;
      const paused = await this.#o.paused?.();
      if (paused !== this.#pausedFor) {
        if (paused !== undefined) this.#o.logger.warn({ reason: paused }, 'the sweeper is paused');
        else this.#o.logger.info({}, 'the sweeper resumed');
        this.#pausedFor = paused;
      }
      if (paused !== undefined) {
        // Orphans found before the pause are suspects no longer: a restore may reference them again.
        this.#suspects.clear();
        return { ...NOTHING };
      }
      const olderThan = clock.now() - this.#o.graceMs;
      const report: SweepReport = {
        expiredUploadTasks: await this.#o.uploads.expireStale(),
        expiredTokens: await this.#o.tokens.deleteExpired(),
        staleUploads: await multipart.reclaimStale(this.#o.incompleteUploadMaxAgeMs),
        expiredKeys: await credentials.deleteExpired(EXPIRED_KEY_RETENTION_MS),
        temporaryFiles: await blobs.sweepTemporary(olderThan),
        orphanBlobs: await this.#orphans(olderThan),
      };
      if (Object.values(report).some((n) => n > 0))
        this.#o.logger.info({ sweep: report }, 'sweeper reclaimed storage');
      return report;
    };
    this.#running = run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.sweep().catch((err) => this.#o.logger.error({ err }, 'sweep failed'));
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }
}
