// The SMH and VOD services wired as src/app/container.ts wires them, over an in-memory SQLite store, a
// filesystem blob store in a temp dir and the embedded object store, with a clock tests move: for unit
// tests of the core services without HTTP. Clients' bytes arrive through the object services, as the
// object endpoint would deliver them.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store.ts';
import { StatfsDiskSpace } from '../../src/adapters/disk/statfs-disk-space.ts';
import { FfmpegRunner } from '../../src/adapters/media/ffmpeg-runner.ts';
import type { KyselyMetadataStore } from '../../src/adapters/metadata/kysely-metadata-store.ts';
import { openSqliteStore } from '../../src/adapters/metadata/sqlite/store.ts';
import { EmbeddedObjectStore } from '../../src/adapters/object-store/embedded-object-store.ts';
import { objectLimits } from '../../src/app/container.ts';
import { defaultConfig, outboundPolicy } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { LibraryService } from '../../src/core/libraries/library-service.ts';
import type { LibraryRecord } from '../../src/core/libraries/model.ts';
import { MediaService } from '../../src/core/media/media-service.ts';
import { NamespaceService } from '../../src/core/namespace/namespace-service.ts';
import { CredentialService } from '../../src/core/objects/credential-service.ts';
import { MultipartService } from '../../src/core/objects/multipart-service.ts';
import { ObjectService } from '../../src/core/objects/object-service.ts';
import { SpaceService } from '../../src/core/spaces/space-service.ts';
import type { AccessContext, Grant } from '../../src/core/tokens/access.ts';
import { leaseOwner } from '../../src/core/uploads/confirm-lease.ts';
import type { UploadTaskRecord } from '../../src/core/uploads/model.ts';
import { UploadService } from '../../src/core/uploads/upload-service.ts';
import { inlineDigester } from '../../src/lib/stream-digester.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { type TestClock, tempDir, testClock } from './server.ts';

const PUBLIC_URL = 'http://127.0.0.1:9';

export interface CoreServices {
  dir: string;
  clock: TestClock;
  store: KyselyMetadataStore;
  config: Config;
  objects: ObjectService;
  multipart: MultipartService;
  objectStore: EmbeddedObjectStore;
  libraries: LibraryService;
  spaces: SpaceService;
  namespace: NamespaceService;
  uploads: UploadService;
  media: MediaService;
  /** Task ids MediaService asked to stop in this process (its stopLocal). */
  stoppedLocally: string[];
  close(): Promise<void>;
}

export async function openCoreServices(overrides: Partial<Config> = {}): Promise<CoreServices> {
  const dir = tempDir('mediahost-core-');
  const config = defaultConfig({ dataDir: dir, publicUrl: PUBLIC_URL, logLevel: 'silent', ...overrides });
  const clock = testClock();
  const logger = silentLogger;
  const store = await openSqliteStore({ path: ':memory:' });
  const blobs = new FsBlobStore(join(dir, 'blobs'), { directIo: false });
  await blobs.init();
  const disk = new StatfsDiskSpace(dir, config.diskReserveMib * 1024 * 1024);
  const deps = {
    store,
    blobs,
    clock,
    logger,
    limits: objectLimits(config),
    disk,
    newDigester: inlineDigester,
  };
  const objects = new ObjectService(deps);
  const multipart = new MultipartService(deps, objects);
  const credentials = new CredentialService(store, clock);
  const objectStore = new EmbeddedObjectStore({
    store,
    blobs,
    objects,
    multipart,
    credentials,
    clock,
    publicUrl: () => PUBLIC_URL,
  });
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
    leaseOwner: leaseOwner('core-services-test'),
  });
  const stoppedLocally: string[] = [];
  const media = new MediaService({
    store,
    objects: objectStore,
    runner: new FfmpegRunner({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath }),
    clock,
    logger,
    maxAttempts: config.jobMaxAttempts,
    outbound: outboundPolicy(config),
    disk,
    stopLocal: (taskId) => stoppedLocally.push(taskId),
  });
  return {
    dir,
    clock,
    store,
    config,
    objects,
    multipart,
    objectStore,
    libraries: new LibraryService({ store, clock, objects: objectStore }),
    spaces,
    namespace,
    uploads,
    media,
    stoppedLocally,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Lets `steps` database round trips pass. The in-memory store serves its callers in turn, so an
 * operation started before this gets that head start over one started after, whatever the machine's
 * speed: races are walked through their interleavings without sleeping.
 */
export async function headStart(services: CoreServices, steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) await services.store.settings.get('head-start');
}

/** A caller of the SMH API: a token's library, spaces (null: all), user and grants. */
export function accessContext(
  library: LibraryRecord,
  options: { spaceIds?: string[] | null; userId?: string; grants?: Grant[] } = {},
): AccessContext {
  return {
    library,
    spaceIds: options.spaceIds === undefined ? null : options.spaceIds,
    userId: options.userId ?? 'user-1',
    grants: new Set(options.grants ?? ['admin']),
  };
}

/** The bytes of a simple or form upload arriving at the task's object key. */
export async function sendObject(
  services: CoreServices,
  library: LibraryRecord,
  task: UploadTaskRecord,
  data: Buffer,
): Promise<void> {
  await services.objects.putObject({
    bucket: library.bucket,
    key: task.objectKey,
    dialect: 'cos',
    body: Readable.from([data]),
    declaredLength: data.length,
    headers: { contentType: 'application/octet-stream', storageClass: 'STANDARD', meta: {} },
    expect: {},
  });
}

/** One part of a multipart task's upload. */
export async function sendPart(
  services: CoreServices,
  library: LibraryRecord,
  task: UploadTaskRecord,
  partNumber: number,
  data: Buffer,
): Promise<void> {
  await services.multipart.uploadPart({
    bucket: library.bucket,
    key: task.objectKey,
    uploadId: task.uploadId!,
    partNumber,
    body: Readable.from([data]),
    declaredLength: data.length,
    expect: {},
  });
}
