// Composition root: builds the adapters a Config selects and hands them to the services through
// their constructors. Nothing here runs at import time.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import { FsBlobStore } from '../adapters/blob/fs-blob-store.ts';
import { FsDeploymentMarker } from '../adapters/blob/fs-deployment-marker.ts';
import { StatfsDiskSpace } from '../adapters/disk/statfs-disk-space.ts';
import { HashPool } from '../adapters/hashing/hash-pool.ts';
import { SafeHttpClient } from '../adapters/http/safe-fetch.ts';
import { FfmpegRunner } from '../adapters/media/ffmpeg-runner.ts';
import { openPostgresStore } from '../adapters/metadata/postgres/store.ts';
import { openSqliteStore, sqlitePathFor } from '../adapters/metadata/sqlite/store.ts';
import { EmbeddedObjectStore } from '../adapters/object-store/embedded-object-store.ts';
import type { S3Bucket } from '../adapters/s3/open.ts';
import { checkS3Settings, outboundPolicy } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { LibraryService } from '../core/libraries/library-service.ts';
import { MediaService } from '../core/media/media-service.ts';
import { NamespaceService } from '../core/namespace/namespace-service.ts';
import { CredentialService } from '../core/objects/credential-service.ts';
import type { ObjectLimits } from '../core/objects/limits.ts';
import { MultipartService } from '../core/objects/multipart-service.ts';
import { ObjectService } from '../core/objects/object-service.ts';
import { SpaceService } from '../core/spaces/space-service.ts';
import { TokenService } from '../core/tokens/token-service.ts';
import { leaseOwner } from '../core/uploads/confirm-lease.ts';
import { UploadService } from '../core/uploads/upload-service.ts';
import type { DigestName } from '../lib/checksums.ts';
import { inlineDigester } from '../lib/stream-digester.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { DeploymentMarker } from '../ports/deployment-marker.ts';
import type { DiskSpace } from '../ports/disk-space.ts';
import type { MediaRunner } from '../ports/media-runner.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { JobRunner } from '../worker/job-runner.ts';
import { mediaHandlers } from '../worker/media-handlers.ts';
import { Sweeper } from '../worker/sweeper.ts';
import { uploadHandlers } from '../worker/upload-handlers.ts';
import { createLogger } from './create-logger.ts';
import { Deployment } from './deployment.ts';
import { nodeIdOf } from './node-id.ts';

/** The server's public URL: configured, or known once it listens on its port. */
export interface PublicUrl {
  get(): string;
  set(url: string): void;
}

export interface Container {
  config: Config;
  publicUrl: PublicUrl;
  logger: PinoLogger;
  clock: Clock;
  store: MetadataStore;
  blobs: BlobStore;
  /** The data dir's filesystem: free space against --disk-reserve-mib. */
  disk: DiskSpace;
  libraries: LibraryService;
  credentials: CredentialService;
  objects: ObjectService;
  multipart: MultipartService;
  objectStore: ObjectStore;
  tokens: TokenService;
  spaces: SpaceService;
  namespace: NamespaceService;
  uploads: UploadService;
  media: MediaService;
  mediaRunner: MediaRunner;
  /** Runs media tasks and callbacks; started by `serve` (when --worker-concurrency > 0) and `worker`. */
  jobs: JobRunner;
  sweeper: Sweeper;
  /** Whose blob store this is, and whether the sweeper may run (docs/deploy.md). */
  deployment: Deployment;
  /** COS owner id shown in listings, from the installation's APPID. */
  ownerId: string;
  close(): Promise<void>;
}

/**
 * How often a write in progress refreshes its temporary file's modification time: well inside the
 * orphan grace, so a sweeper in another process sharing the data dir (a `worker`) never takes it
 * for abandoned, however slowly its body arrives (docs/adr/0001 §19).
 */
function keepAliveFor(graceMs: number): number {
  return Math.min(60_000, Math.max(250, Math.floor(graceMs / 4)));
}

/** Bodies declared smaller than this are hashed on the main thread. */
const INLINE_HASH_BELOW = 256 * 1024;

export async function openMetadataStore(config: Config, logger?: PinoLogger): Promise<MetadataStore> {
  return config.databaseUrl !== ''
    ? openPostgresStore({
        url: config.databaseUrl,
        onConnectionError: (err) =>
          logger?.warn({ reason: err.message }, 'a database connection broke; the pool reconnects'),
      })
    : openSqliteStore({ path: sqlitePathFor(config.dataDir) });
}

export function objectLimits(config: Config): ObjectLimits {
  return {
    maxPutSize: config.maxPutSize,
    maxPartSize: config.maxPartSize,
    minPartSizeCos: config.minPartSizeCos,
    minPartSizeS3: config.minPartSizeS3,
    cosRequireConsecutiveParts: config.cosRequireConsecutiveParts,
    completedUploadReplayMs: config.completedUploadReplaySeconds * 1000,
  };
}

export async function createContainer(
  config: Config,
  options: { logger?: PinoLogger; clock?: Clock } = {},
): Promise<Container> {
  const logger = options.logger ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  // statfs needs the directory; with PostgreSQL and S3 nothing else may have made it yet.
  await mkdir(config.dataDir, { recursive: true });
  const disk = new StatfsDiskSpace(config.dataDir, config.diskReserveMib * 1024 * 1024);
  const store = await openMetadataStore(config, logger);
  if (store.migrationsApplied.length > 0)
    logger.info({ migrations: store.migrationsApplied }, 'applied database migrations');
  const hashPool = new HashPool();
  let s3: S3Bucket | undefined;
  try {
    checkS3Settings(config);
    const outbound = outboundPolicy(config);
    if (config.blob === 's3') s3 = (await import('../adapters/s3/open.ts')).openS3Bucket(config, clock);
    let blobs: BlobStore;
    let marker: DeploymentMarker;
    if (s3) {
      blobs = s3.blobs;
      marker = s3.marker;
    } else {
      const fsBlobs = new FsBlobStore(join(config.dataDir, 'blobs'), {
        directIo: config.fsDirectIo,
        keepAliveMs: keepAliveFor(config.orphanGraceSeconds * 1000),
      });
      await fsBlobs.init();
      blobs = fsBlobs;
      marker = new FsDeploymentMarker(join(config.dataDir, 'blobs'));
    }
    const deployment = new Deployment({ config, store, blobs, marker, clock, logger });
    const credentials = new CredentialService(store, clock);
    const deps = {
      store,
      blobs,
      clock,
      logger,
      limits: objectLimits(config),
      disk,
      // Small bodies are hashed inline; larger ones (or of unknown length) by the worker pool.
      newDigester: (names: readonly DigestName[], sizeHint: number | undefined) =>
        (sizeHint !== undefined && sizeHint < INLINE_HASH_BELOW) || !HashPool.supports(names)
          ? inlineDigester(names)
          : hashPool.digester(names),
    };
    const objects = new ObjectService(deps);
    const multipart = new MultipartService(deps, objects);
    let publicUrlValue = config.publicUrl;
    const publicUrl: PublicUrl = {
      get: () => {
        if (publicUrlValue === '') throw new Error('the public URL is known only once the server listens');
        return publicUrlValue;
      },
      set: (url) => {
        publicUrlValue = url;
      },
    };
    const objectStore: ObjectStore =
      s3?.objects ??
      new EmbeddedObjectStore({
        store,
        blobs,
        objects,
        multipart,
        credentials,
        clock,
        publicUrl: publicUrl.get,
      });
    const libraries = new LibraryService({ store, clock, objects: objectStore });
    const tokens = new TokenService(store, clock);
    const spaces = new SpaceService({ store, objects: objectStore, clock, logger });
    const namespace = new NamespaceService({ store, objects: objectStore, spaces, clock, logger });
    const uploads = new UploadService({
      store,
      objects: objectStore,
      spaces,
      namespace,
      clock,
      logger,
      credentialLifetimeMs: config.uploadCredentialSeconds * 1000,
      taskGraceMs: config.uploadTaskGraceSeconds * 1000,
      disk,
      leaseOwner: leaseOwner(nodeIdOf(config.dataDir)),
    });
    const mediaRunner = new FfmpegRunner({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
    const jobs = new JobRunner({
      store,
      clock,
      logger,
      concurrency: config.workerConcurrency,
      leaseMs: config.jobLeaseSeconds * 1000,
      pollMs: config.workerPollMilliseconds,
      handlers: {
        ...uploadHandlers(uploads),
        ...mediaHandlers({
          store,
          objects: objectStore,
          runner: mediaRunner,
          namespace,
          clock,
          logger,
          workDir: join(config.dataDir, 'work'),
          outbound: new SafeHttpClient(outbound),
        }),
      },
    });
    const media = new MediaService({
      store,
      objects: objectStore,
      runner: mediaRunner,
      clock,
      logger,
      maxAttempts: config.jobMaxAttempts,
      outbound,
      disk,
      stopLocal: (taskId) => jobs.stopLocal(taskId),
    });
    const sweeper = new Sweeper({
      store,
      blobs,
      clock,
      logger,
      credentials,
      multipart,
      tokens,
      uploads,
      graceMs: config.orphanGraceSeconds * 1000,
      incompleteUploadMaxAgeMs: config.incompleteUploadMaxAgeHours * 3600 * 1000,
      intervalMs: config.sweepIntervalSeconds * 1000,
      paused: () => deployment.sweeperPause(),
    });
    const appId = await libraries.appId();
    return {
      config,
      publicUrl,
      logger,
      clock,
      store,
      blobs,
      disk,
      libraries,
      credentials,
      objects,
      multipart,
      objectStore,
      tokens,
      spaces,
      namespace,
      uploads,
      media,
      mediaRunner,
      jobs,
      sweeper,
      deployment,
      ownerId: `qcs::cam::uin/${appId}:uin/${appId}`,
      async close() {
        await jobs.stop();
        await sweeper.stop();
        await store.close();
        await hashPool.close();
        s3?.close();
      },
    };
  } catch (err) {
    await store.close();
    await hashPool.close();
    s3?.close();
    throw err;
  }
}
