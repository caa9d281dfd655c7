// One blob store per database. The database gets an id at its first start with this code
// (`deploymentId` in its settings); the blob store gets a marker naming it. A process whose database
// is not the one the marker names refuses to start: its sweeper would delete the other deployment's
// blobs as orphans (docs/adr/0004-scale-out-decisions.md §18). The same object answers whether the
// sweeper may run: not while paused (by setting or by `mediahost sweeper pause`), nor while the
// store's owner is unconfirmed.
import type { Logger as PinoLogger } from 'pino';
import { sqlitePathFor } from '../adapters/metadata/sqlite/store.ts';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { BlobKey, LibraryId } from '../core/ids.ts';
import { randomHex } from '../core/ids.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { Clock } from '../ports/clock.ts';
import { type DeploymentMarker, MARKER_NAME } from '../ports/deployment-marker.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

/** The settings key of the database's id, and of the pause `mediahost sweeper pause` writes. */
export const DEPLOYMENT_ID = 'deploymentId';
export const SWEEPER_PAUSED = 'sweeperPaused';

/** Keys of the store looked at to decide whether a store without a marker is this database's. */
const SAMPLE = 1000;

/** The store belongs to another database, or holds data this one does not know: do not start. */
export class DeploymentConflictError extends ConfigError {
  override name = 'DeploymentConflictError';
}

interface MarkerContent {
  deploymentId: string;
  database: string;
  createdAt: string;
}

/** The database as an operator names it, with the setting that chooses it; never a password. */
export function databaseDescription(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  if (config.databaseUrl === '') return `${sqlitePathFor(config.dataDir)} (--data-dir)`;
  try {
    const url = new URL(config.databaseUrl);
    return `${url.protocol}//${url.host}${url.pathname} (--database-url)`;
  } catch {
    return 'the database of --database-url';
  }
}

function parseMarker(text: string): MarkerContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<MarkerContent>;
    return typeof value.deploymentId === 'string' ? (value as MarkerContent) : undefined;
  } catch {
    return undefined;
  }
}

export interface DeploymentDeps {
  config: Config;
  store: MetadataStore;
  blobs: BlobStore;
  marker: DeploymentMarker;
  clock: Clock;
  logger: PinoLogger;
}

export class Deployment {
  readonly #d: DeploymentDeps;
  #confirmed = false;

  constructor(deps: DeploymentDeps) {
    this.#d = deps;
  }

  get marker(): DeploymentMarker {
    return this.#d.marker;
  }

  /** This database's id, created the first time it is asked for. */
  id(): Promise<string> {
    return this.#d.store.settings.putIfAbsent(DEPLOYMENT_ID, randomHex(16));
  }

  /**
   * Confirms that the blob store is this database's, marking it on first use. Throws
   * DeploymentConflictError when it is another's (or unknown data without --adopt-blob-store), and
   * the store's own error when the store cannot be read.
   */
  async claim(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#confirmed) return;
    const { config, marker, logger } = this.#d;
    const id = await this.id();
    const database = databaseDescription(config);
    const text = await marker.read(options);
    if (text !== undefined) {
      const found = parseMarker(text);
      if (found?.deploymentId !== id) throw this.#conflict(found, id, database);
    } else {
      const unknown = await this.#unknownData(options.signal);
      if (unknown && !config.adoptBlobStore) {
        throw new DeploymentConflictError(
          `the blob store ${marker.location} (${marker.settings}) holds ${unknown} that this database, ${database}, does not know, and no deployment marker: it is probably another deployment's, whose blobs this one would delete as orphans. Point the settings at this database's own store, or, if the data is this database's (a restore), start once with --adopt-blob-store (docs/deploy.md, "One bucket and prefix per database").`,
        );
      }
      const content: MarkerContent = {
        deploymentId: id,
        database,
        createdAt: new Date(this.#d.clock.now()).toISOString(),
      };
      await marker.write(`${JSON.stringify(content, null, 2)}\n`, options);
      const after = parseMarker((await marker.read(options)) ?? '');
      // Two deployments that found no marker at the same moment: the one whose marker stayed wins.
      if (after?.deploymentId !== id) throw this.#conflict(after, id, database);
      logger.info(
        { deploymentId: id, blobStore: marker.location, adopted: unknown !== undefined },
        'the blob store is marked as this deployment',
      );
    }
    this.#confirmed = true;
  }

  #conflict(found: MarkerContent | undefined, id: string, database: string): DeploymentConflictError {
    const { marker } = this.#d;
    const owner = found
      ? `deployment ${found.deploymentId} (database ${found.database})`
      : 'a deployment whose marker cannot be read';
    return new DeploymentConflictError(
      `the blob store ${marker.location} (${marker.settings}) belongs to ${owner}, but this database, ${database}, is deployment ${id}: two deployments on one store delete each other's data. Give this database its own store, or point the database setting at that deployment's database; --adopt-blob-store does not take a store from another deployment: remove its marker ${MARKER_NAME} by hand only if that deployment is gone for good (docs/deploy.md, "One bucket and prefix per database").`,
    );
  }

  /** What the store holds that this database does not know (undefined: empty, or this database's). */
  async #unknownData(signal?: AbortSignal): Promise<string | undefined> {
    const { blobs, store, marker } = this.#d;
    const keys: BlobKey[] = [];
    for await (const blob of blobs.list(signal ? { signal } : {})) {
      keys.push(blob.key);
      if (keys.length >= SAMPLE) break;
    }
    const libraries = await marker.fileLibraries(SAMPLE, signal ? { signal } : {});
    if (keys.length === 0 && libraries.length === 0) return undefined;
    if (keys.length > 0 && (await store.blobRefs.referenced(keys)).size > 0) return undefined;
    for (const id of libraries) if (await store.libraries.get(id as LibraryId)) return undefined;
    return keys.length > 0 ? 'blobs' : 'SMH files';
  }

  /** Why the sweeper must not run now, or undefined. */
  async sweeperPause(): Promise<string | undefined> {
    if (this.#d.config.sweeperPaused) return 'paused by --sweeper-paused';
    const paused = await this.#d.store.settings.get(SWEEPER_PAUSED);
    if (paused !== undefined) return `paused by \`mediahost sweeper pause\` (${paused})`;
    if (!this.#confirmed) {
      try {
        await this.claim();
      } catch (err) {
        return `the blob store's owner is not confirmed: ${(err as Error).message}`;
      }
    }
    return undefined;
  }
}
