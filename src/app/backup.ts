// `mediahost backup` and `mediahost restore` for the embedded deployment (SQLite and blob files in
// the data dir), while the server runs. A backup is itself a data dir: `mediahost.db`, `blobs/`
// and `backup.json`, written last, whose presence says the backup is whole.
//
// Why the copy is consistent (docs/adr/0001-object-store-decisions.md §18): a blob is written before
// the row that points to it commits, a blob key is never pointed to again once no row points to it,
// and a blob is deleted only after that. So the blobs are hard-linked first (while the server runs),
// then the database is snapshotted, then the blobs the snapshot points to that the first pass missed
// are linked. One that is gone by then was deleted after the snapshot: the snapshot is taken again,
// and no longer points to it. One still pointed to after it was found gone was missing before the
// backup began; it is reported, as `mediahost verify` would.
import { constants, existsSync } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FsBlobStore } from '../adapters/blob/fs-blob-store.ts';
import { blobKeysIn, settingIn, vacuumInto } from '../adapters/metadata/sqlite/snapshot.ts';
import { openSqliteStore, sqlitePathFor } from '../adapters/metadata/sqlite/store.ts';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { BlobKey } from '../core/ids.ts';
import { DEPLOYMENT_ID, SWEEPER_PAUSED } from './deployment.ts';

export const MANIFEST = 'backup.json';
const FORMAT = 1;
/** Snapshots taken before giving up on a data dir whose blobs keep changing under the backup. */
const MAX_SNAPSHOTS = 5;

export interface BackupManifest {
  format: number;
  createdAt: string;
  deploymentId: string | null;
  blobs: number;
  bytes: number;
  /** Blobs the database pointed to that were already gone from the data dir. */
  missing: string[];
}

export interface RestoreReport {
  blobs: number;
  /** Where what the data dir held before went (with --force). */
  setAside: string | undefined;
}

function requireEmbedded(config: Config, command: string): void {
  if (config.databaseUrl !== '' || config.blob !== 'fs') {
    throw new ConfigError(
      `${command} copies the embedded deployment (SQLite and blob files under --data-dir); with --database-url or --blob s3, back up the database and then the bucket as docs/deploy.md ("Backups and restores") describes`,
    );
  }
}

const isErrno = (err: unknown, ...codes: string[]): boolean =>
  codes.includes((err as NodeJS.ErrnoException | undefined)?.code ?? '');

/** Where the filesystem store keeps a blob (ROOT/<first character>/<key>, ADR 0001 §16). */
const blobPath = (root: string, key: string): string => join(root, key.slice(0, 1), key);

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Puts blob files into another tree: hard links where it can, copies across filesystems. */
class BlobCopier {
  #copying = false;
  readonly #dirs = new Set<string>();
  readonly #copied: string[] = [];

  /** 'gone' when the source no longer exists. */
  async put(source: string, target: string): Promise<'done' | 'gone'> {
    const dir = dirname(target);
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#dirs.add(dir);
    }
    if (!this.#copying) {
      try {
        await link(source, target);
        return 'done';
      } catch (err) {
        if (isErrno(err, 'EEXIST')) return 'done';
        if (isErrno(err, 'ENOENT')) return 'gone';
        if (!isErrno(err, 'EXDEV', 'EPERM', 'EMLINK')) throw err;
        this.#copying = true;
      }
    }
    try {
      await copyFile(source, target, constants.COPYFILE_FICLONE);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 'gone';
      throw err;
    }
    this.#copied.push(target);
    return 'done';
  }

  /** Makes every copy and link durable. */
  async sync(root: string): Promise<void> {
    for (const file of this.#copied) await fsyncPath(file);
    for (const dir of this.#dirs) await fsyncPath(dir);
    await fsyncPath(root);
  }
}

async function writeDurably(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text, { flush: true });
  await rename(`${path}.tmp`, path);
}

/** Backs up the data dir of `config` into `to` (absent or empty) while the server may run. */
export async function backup(config: Config, to: string): Promise<BackupManifest> {
  requireEmbedded(config, 'backup');
  const database = sqlitePathFor(config.dataDir);
  if (!existsSync(database))
    throw new ConfigError(`backup: there is no database at ${database} (--data-dir)`);
  if (existsSync(to) && (await readdir(to)).length > 0)
    throw new ConfigError(`backup: ${to} (--to) is not empty; back up into a new directory`);
  await mkdir(to, { recursive: true });
  const source = new FsBlobStore(join(config.dataDir, 'blobs'));
  const target = join(to, 'blobs');
  await mkdir(target, { recursive: true });
  const copier = new BlobCopier();
  const saved = new Set<string>();
  for await (const blob of source.list()) {
    if ((await copier.put(source.localPath(blob.key), blobPath(target, blob.key))) === 'done')
      saved.add(blob.key);
  }
  const snapshot = join(to, 'mediahost.db');
  let missing = new Set<string>();
  let refs = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    await rm(snapshot, { force: true });
    vacuumInto(database, snapshot);
    refs = blobKeysIn(snapshot);
    missing = new Set([...missing].filter((k) => refs.has(k)));
    const gone: string[] = [];
    for (const key of refs) {
      if (saved.has(key) || missing.has(key)) continue;
      const outcome = await copier.put(source.localPath(key as BlobKey), blobPath(target, key));
      if (outcome === 'done') saved.add(key);
      else gone.push(key);
    }
    if (gone.length === 0) break;
    // Gone since the snapshot (deleted after a change): the next snapshot no longer points to them.
    // Still pointed to by the next one: they were missing before the backup began.
    for (const key of gone) missing.add(key);
    if (attempt === MAX_SNAPSHOTS)
      throw new Error(`backup: blobs kept changing over ${MAX_SNAPSHOTS} snapshots; try again`);
  }
  missing = new Set([...missing].filter((k) => refs.has(k)));
  let bytes = 0;
  for (const key of saved) {
    const path = blobPath(target, key);
    if (refs.has(key)) bytes += (await stat(path)).size;
    else await unlink(path); // written after the snapshot, or an orphan: nothing in the backup points to it
  }
  await copier.sync(target);
  await fsyncPath(snapshot);
  const manifest: BackupManifest = {
    format: FORMAT,
    createdAt: new Date().toISOString(),
    deploymentId: settingIn(snapshot, DEPLOYMENT_ID) ?? null,
    blobs: refs.size - missing.size,
    bytes,
    missing: [...missing].sort(),
  };
  await writeDurably(join(to, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await fsyncPath(to);
  return manifest;
}

async function readManifest(from: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(join(from, MANIFEST), 'utf8')) as BackupManifest;
  } catch {
    throw new ConfigError(
      `restore: ${from} (--from) is not a whole mediahost backup: no readable ${MANIFEST}`,
    );
  }
  if (manifest.format !== FORMAT)
    throw new ConfigError(
      `restore: ${from} is a backup in format ${manifest.format}; this version reads ${FORMAT}`,
    );
  return manifest;
}

/**
 * Restores the backup at `from` into the data dir of `config`, with the sweeper paused until the
 * operator has checked the result (`mediahost verify`, then `mediahost sweeper resume`).
 */
export async function restore(
  config: Config,
  from: string,
  options: { force: boolean },
): Promise<RestoreReport> {
  requireEmbedded(config, 'restore');
  await readManifest(from);
  const { dataDir } = config;
  const database = sqlitePathFor(dataDir);
  const blobs = join(dataDir, 'blobs');
  const present = [database, `${database}-wal`, `${database}-shm`, blobs].filter((p) => existsSync(p));
  let setAside: string | undefined;
  if (present.length > 0) {
    if (!options.force)
      throw new ConfigError(
        `restore: ${dataDir} (--data-dir) already holds a deployment; stop its server, then restore into an empty directory or give --force to move what is there aside`,
      );
    setAside = join(dataDir, `pre-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    await mkdir(setAside, { recursive: true });
    for (const path of present) await rename(path, join(setAside, basename(path)));
  }
  await mkdir(blobs, { recursive: true });
  const copier = new BlobCopier();
  let count = 0;
  const source = join(from, 'blobs');
  for (const dir of existsSync(source) ? await readdir(source) : []) {
    for (const key of await readdir(join(source, dir))) {
      if ((await copier.put(join(source, dir, key), blobPath(blobs, key))) === 'gone')
        throw new Error(`restore: ${join(source, dir, key)} disappeared while it was read`);
      count++;
    }
  }
  await copier.sync(blobs);
  // The database comes last: a restore cut short leaves blobs without one, which a start refuses.
  await copyFile(join(from, 'mediahost.db'), `${database}.restoring`);
  await fsyncPath(`${database}.restoring`);
  await rename(`${database}.restoring`, database);
  await fsyncPath(dataDir);
  const store = await openSqliteStore({ path: database });
  try {
    await store.settings.put(
      SWEEPER_PAUSED,
      `restored from ${from} on ${new Date().toISOString()}; run mediahost verify, then mediahost sweeper resume`,
    );
  } finally {
    await store.close();
  }
  return { blobs: count, setAside };
}
