// Filesystem BlobStore: blobs live at ROOT/a/<key> (one directory per first character of the key);
// writes go to ROOT/.tmp, are fsynced, then renamed into place (and the directory fsynced), so a
// crash at any moment leaves either the whole blob under its key or nothing but a temporary file for
// the sweeper. Stores written before 2026-11-22 kept blobs at ROOT/ab/cd/<key>: they are still read,
// listed and deleted there (docs/adr/0001-object-store-decisions.md §16). A temporary file being
// written is never swept by this process and keeps a fresh modification time for others (§19); a
// full disk fails the write with InsufficientStorage (§18).
import { constants, existsSync } from 'node:fs';
import { copyFile, type FileHandle, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { insufficientStorage } from '../../core/free-space.ts';
import { type BlobKey, newBlobKey, randomHex } from '../../core/ids.ts';
import { untilAborted } from '../../lib/streams.ts';
import {
  type BlobInfo,
  BlobNotFoundError,
  type BlobReadOptions,
  type BlobStore,
  type BlobWriteResult,
} from '../../ports/blob-store.ts';
import { InFlightFiles } from './in-flight-files.ts';

const TMP = '.tmp';
/**
 * Socket chunks are written as they arrive (only smaller ones are gathered up to this size): the
 * kernel copies a chunk into the page cache while it is still in the CPU cache. Gathering 1 MiB per
 * writev saved system calls but cost more: with 4 bodies streaming in (hashing off), the server used
 * 3.3-4.1 CPU-seconds per GiB stored against 2.7 now (bench/README.md).
 */
const WRITE_BATCH = 64 * 1024;
/**
 * Bytes written between early writebacks. While a body streams in, an fdatasync is started (not
 * awaited) each time this much more has been written, so the disk works while the network does and
 * the fsync before the rename only has the tail left to flush. Measured on a bare server with 8 MiB
 * bodies, 4 at a time: one fsync per body at the end gave ~70 % of the rate without fsync; with
 * writebacks every 2 MiB, ~86 %.
 */
const EARLY_SYNC_BYTES = 2 * 1024 * 1024;
/** Bytes gathered while a write is in flight before the body waits for it: bounds memory per body. */
const MAX_GATHER = 1024 * 1024;

/** The buffers that remain after the first `written` bytes of a partial writev. */
function remainder(buffers: readonly Uint8Array[], written: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = written;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/** How a body's chunks reach its temporary file. */
interface BodyAppender {
  /** Takes a chunk; returns a promise to wait for when the body must slow down. */
  add(chunk: Uint8Array): Promise<void> | undefined;
  /** Writes what is left and waits for every write; the byte count. */
  end(): Promise<number>;
  /** After a failure: waits until nothing is in flight, so the handle can be closed. */
  settle(): Promise<void>;
}

/**
 * Appends a body's chunks to a file with one write in flight at a time. Chunks that arrive while it
 * is in flight are gathered for the next writev, so the body keeps being read while a pool thread
 * writes: waiting for each write before reading on held every body to the pool's round trip.
 * Every EARLY_SYNC_BYTES written, an fdatasync is started and not awaited (at most one at a time).
 */
class Appender implements BodyAppender {
  readonly #fh: FileHandle;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #size = 0;
  #written = 0;
  #syncedUpTo = 0;
  #writing: Promise<void> | undefined;
  #writeback: Promise<void> | undefined;
  // The first error of a write or an early writeback; it fails the body (Linux reports a
  // writeback error once: a later fsync may not).
  #error: unknown;

  constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  /** Queues a chunk; returns a promise to wait for when too much is gathered already. */
  add(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    this.#size += chunk.length;
    if (!this.#writing && this.#pendingBytes >= WRITE_BATCH) this.#startWrite();
    return this.#pendingBytes >= MAX_GATHER ? this.#writing : undefined;
  }

  /** Writes what is left and waits for every write and writeback; the byte count. */
  async end(): Promise<number> {
    while (this.#writing || this.#pendingBytes > 0) {
      if (!this.#writing) this.#startWrite();
      await this.#writing;
      if (this.#error) throw this.#error;
    }
    await this.#writeback;
    if (this.#error) throw this.#error;
    return this.#size;
  }

  /** Waits until nothing is in flight (after a failure, before the handle is closed). */
  async settle(): Promise<void> {
    this.#pending = [];
    this.#pendingBytes = 0;
    while (this.#writing || this.#writeback) await Promise.all([this.#writing, this.#writeback]);
  }

  #startWrite(): void {
    let buffers = this.#pending;
    let left = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    const write = async (): Promise<void> => {
      while (left > 0) {
        const { bytesWritten } = await this.#fh.writev(buffers);
        left -= bytesWritten;
        this.#written += bytesWritten;
        if (left > 0) buffers = remainder(buffers, bytesWritten);
      }
    };
    this.#writing = write().then(
      () => {
        this.#writing = undefined;
        this.#startWriteback();
        if (this.#pendingBytes >= WRITE_BATCH) this.#startWrite();
      },
      (err: unknown) => {
        this.#error ??= err;
        this.#writing = undefined;
      },
    );
  }

  #startWriteback(): void {
    if (this.#writeback || this.#error || this.#written - this.#syncedUpTo < EARLY_SYNC_BYTES) return;
    this.#syncedUpTo = this.#written;
    this.#writeback = this.#fh.datasync().then(
      () => {
        this.#writeback = undefined;
      },
      (err: unknown) => {
        this.#error ??= err;
        this.#writeback = undefined;
      },
    );
  }
}

// The global WebAssembly API is not part of the ES library types; declare the one member used here.
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } };

/** O_DIRECT where the platform has it (Linux), else 0 and every write is buffered. */
const O_DIRECT = constants.O_DIRECT ?? 0;
/** Direct writes need the buffer, the file offset and the length aligned to the device's blocks. */
const DIRECT_ALIGN = 4096;
/**
 * Size of a direct write, and of each of a body's two staging buffers. Each write goes to libuv's
 * pool, and handing one over (waking a pool thread) took ~90 µs of the main thread on the benchmark
 * VM: 1 MiB writes instead of 512 KiB took the server from 2.6 to 2.4 CPU-s/GiB in alternating
 * pushes, for 4 MiB more resident with four uploads (bench/README.md).
 */
const DIRECT_SLOT = 1024 * 1024;
/** Staging buffers per WebAssembly memory (a memory's base is page-aligned; an ArrayBuffer's is not). */
const SLOTS_PER_MEMORY = 8;

/**
 * Page-aligned staging buffers for direct writes, carved out of WebAssembly memories. A memory whose
 * slots are all back is dropped unless it is the only one left, so a burst of uploads does not
 * leave its buffers resident.
 */
class StagingBuffers {
  readonly #groups: { buffer: ArrayBuffer; free: Uint8Array[] }[] = [];

  take(): Uint8Array {
    let group = this.#groups.find((g) => g.free.length > 0);
    if (!group) {
      const { buffer } = new WebAssembly.Memory({ initial: (SLOTS_PER_MEMORY * DIRECT_SLOT) / 65536 });
      const free = Array.from(
        { length: SLOTS_PER_MEMORY },
        (_, i) => new Uint8Array(buffer, i * DIRECT_SLOT, DIRECT_SLOT),
      );
      group = { buffer, free };
      this.#groups.push(group);
    }
    return group.free.pop()!;
  }

  give(slot: Uint8Array): void {
    const group = this.#groups.find((g) => g.buffer === slot.buffer);
    if (!group) return;
    group.free.push(slot);
    if (group.free.length === SLOTS_PER_MEMORY && this.#groups.length > 1) {
      this.#groups.splice(this.#groups.indexOf(group), 1);
    }
  }
}

const staging = new StagingBuffers();

/**
 * Appends a body with direct I/O: chunks are copied (on the main thread, while they are still in the
 * CPU cache) into one of two page-aligned 1 MiB staging buffers, and each full buffer is written at
 * its offset with O_DIRECT while the other fills. The kernel then neither copies the bytes into the
 * page cache nor writes them back later, which was most of the write path's CPU (bench/README.md),
 * and the fsync at the end has only metadata left. The last, partial buffer is padded to the block
 * size and the file truncated to the body's length.
 */
class DirectAppender implements BodyAppender {
  readonly #fh: FileHandle;
  readonly #slots: [Uint8Array, Uint8Array];
  #fill = 0;
  #fillBytes = 0;
  #size = 0;
  #position = 0;
  #writing: Promise<void> | undefined;
  #error: unknown;
  #released = false;

  constructor(fh: FileHandle) {
    this.#fh = fh;
    this.#slots = [staging.take(), staging.take()];
  }

  add(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    this.#size += chunk.length;
    return this.#copy(chunk, 0);
  }

  async end(): Promise<number> {
    try {
      await this.#writing;
      if (this.#error) throw this.#error;
      if (this.#fillBytes > 0) {
        const padded = Math.ceil(this.#fillBytes / DIRECT_ALIGN) * DIRECT_ALIGN;
        this.#slots[this.#fill]!.fill(0, this.#fillBytes, padded);
        this.#submit(padded);
        await this.#writing;
        if (this.#error) throw this.#error;
        if (this.#position !== this.#size) await this.#fh.truncate(this.#size);
      }
      return this.#size;
    } finally {
      this.#release();
    }
  }

  async settle(): Promise<void> {
    await this.#writing;
    this.#release();
  }

  /** Copies chunk[offset..] into the staging buffers, waiting when both are taken. */
  #copy(chunk: Uint8Array, offset: number): Promise<void> | undefined {
    let off = offset;
    while (off < chunk.length) {
      if (this.#fillBytes === DIRECT_SLOT) {
        if (this.#writing) return this.#copyAfterWrite(chunk, off);
        this.#submit(DIRECT_SLOT);
      }
      const n = Math.min(chunk.length - off, DIRECT_SLOT - this.#fillBytes);
      this.#slots[this.#fill]!.set(chunk.subarray(off, off + n), this.#fillBytes);
      this.#fillBytes += n;
      off += n;
    }
    if (this.#fillBytes === DIRECT_SLOT && !this.#writing) this.#submit(DIRECT_SLOT);
    return undefined;
  }

  async #copyAfterWrite(chunk: Uint8Array, offset: number): Promise<void> {
    await this.#writing;
    if (this.#error) throw this.#error;
    await this.#copy(chunk, offset);
  }

  /** Starts writing the filling buffer's first `length` bytes; the other buffer fills meanwhile. */
  #submit(length: number): void {
    const data = this.#slots[this.#fill]!.subarray(0, length);
    const position = this.#position;
    this.#position += length;
    this.#fill ^= 1;
    this.#fillBytes = 0;
    const write = async (): Promise<void> => {
      for (let done = 0; done < length; ) {
        const { bytesWritten } = await this.#fh.write(data, done, length - done, position + done);
        if (bytesWritten === 0) throw new Error('direct write made no progress');
        done += bytesWritten;
      }
    };
    this.#writing = write().then(
      () => {
        this.#writing = undefined;
      },
      (err: unknown) => {
        this.#error ??= err;
        this.#writing = undefined;
      },
    );
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const slot of this.#slots) staging.give(slot);
  }
}

/** A blob key as FsBlobStore accepts it (newBlobKey makes 32 characters). */
const KEY = /^[a-z0-9]{8,64}$/;

async function fsyncDirectory(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

export interface FsBlobStoreOptions {
  /** fsync a directory after an entry is added to it (default true). */
  fsyncDirectories?: boolean;
  /** Write with O_DIRECT where the platform and filesystem allow it (default true). */
  directIo?: boolean;
  /** How often the modification time of temporary files being written is refreshed (default 60 s). */
  keepAliveMs?: number;
}

export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #tmp: string;
  readonly #fsyncDirs: boolean;
  /** Blob directories created or found, each once (concurrent writers share the mkdir). */
  readonly #dirs = new Map<string, Promise<void>>();

  /** Temporary files this process is writing: sweepTemporary leaves them alone. */
  readonly #inFlight: InFlightFiles;

  #directIo: boolean;

  constructor(root: string, options: FsBlobStoreOptions = {}) {
    this.#root = root;
    this.#tmp = join(root, TMP);
    this.#fsyncDirs = options.fsyncDirectories ?? true;
    this.#directIo = (options.directIo ?? true) && O_DIRECT !== 0;
    this.#inFlight = new InFlightFiles(this.#tmp, options.keepAliveMs ?? 60_000);
  }

  async init(): Promise<void> {
    await mkdir(this.#tmp, { recursive: true });
  }

  /** The blob's directory: one of 36, created on first use. */
  #dirOf(key: string): string {
    return join(this.#root, key.slice(0, 1));
  }

  #pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return join(this.#dirOf(key), key);
  }

  /** Where the two-level layout kept the blob (ROOT/ab/cd/<key>). */
  #legacyPathOf(key: string): string {
    return join(this.#root, key.slice(0, 2), key.slice(2, 4), key);
  }

  /** Runs `op` on the blob's path, then on its legacy path if the first gave ENOENT. */
  async #atPath<T>(key: BlobKey, op: (path: string) => Promise<T>): Promise<T> {
    try {
      return await op(this.#pathOf(key));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      return await op(this.#legacyPathOf(key));
    }
  }

  /**
   * Creates the blob directory the first time a blob goes there (and makes its entry durable before
   * a blob is published in it). Each blob used to get a directory of its own at the second level: an
   * extra inode and directory block per blob, and on the benchmark machine's ext4 a mkdir cost more
   * CPU than the file's own creation.
   */
  #ensureDir(dir: string): Promise<void> {
    let ready = this.#dirs.get(dir);
    if (!ready) {
      ready = (async () => {
        try {
          await mkdir(dir);
          if (this.#fsyncDirs) await fsyncDirectory(this.#root);
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw err;
        }
      })();
      this.#dirs.set(dir, ready);
      // A failure is not remembered: the next blob tries again.
      ready.catch(() => this.#dirs.delete(dir));
    }
    return ready;
  }

  async #commit(tmpPath: string, key: BlobKey): Promise<void> {
    const dir = this.#dirOf(key);
    await this.#ensureDir(dir);
    try {
      await rename(tmpPath, join(dir, key));
    } catch (err) {
      // The directory was removed behind this process's back (an emptied store, a restore): make it
      // again once rather than fail every write that goes there.
      if (!isErrno(err, 'ENOENT')) throw err;
      this.#dirs.delete(dir);
      await this.#ensureDir(dir);
      await rename(tmpPath, join(dir, key));
    }
    if (this.#fsyncDirs) await fsyncDirectory(dir);
  }

  /** Runs a write through a new temporary file for blob `key`; a full disk becomes InsufficientStorage. */
  async #throughTemporary<T>(key: BlobKey, write: (tmpPath: string) => Promise<T>): Promise<T> {
    try {
      return await this.#inFlight.run(`${key}.${randomHex(4)}`, write);
    } catch (err) {
      throw isErrno(err, 'ENOSPC') || isErrno(err, 'EDQUOT') ? insufficientStorage(err) : err;
    }
  }

  async write(
    source: AsyncIterable<Uint8Array>,
    options: { signal?: AbortSignal } = {},
  ): Promise<BlobWriteResult> {
    const key = newBlobKey();
    return this.#throughTemporary(key, (tmpPath) => this.#writeAt(tmpPath, key, source, options));
  }

  async #writeAt(
    tmpPath: string,
    key: BlobKey,
    source: AsyncIterable<Uint8Array>,
    options: { signal?: AbortSignal },
  ): Promise<BlobWriteResult> {
    const { fh, appender } = await this.#create(tmpPath);
    try {
      const chunks = options.signal ? untilAborted(source, options.signal) : source;
      for await (const chunk of chunks) {
        const wait = appender.add(chunk);
        if (wait) await wait;
      }
      const size = await appender.end();
      // Bytes reach the disk before the rename publishes them under their key.
      await fh.sync();
      await fh.close();
      await this.#commit(tmpPath, key);
      return { key, size };
    } catch (err) {
      await appender.settle();
      await fh.close().catch(() => {});
      await unlink(tmpPath).catch(() => {});
      throw err;
    }
  }

  /** A new temporary file, written with direct I/O where the filesystem allows it. */
  async #create(tmpPath: string): Promise<{ fh: FileHandle; appender: BodyAppender }> {
    if (this.#directIo) {
      try {
        const fh = await open(tmpPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_DIRECT);
        return { fh, appender: new DirectAppender(fh) };
      } catch (err) {
        // EINVAL: this filesystem refuses O_DIRECT; from now on every write here is buffered.
        if (!isErrno(err, 'EINVAL')) throw err;
        this.#directIo = false;
        await unlink(tmpPath).catch(() => {});
      }
    }
    const fh = await open(tmpPath, 'wx');
    return { fh, appender: new Appender(fh) };
  }

  async copy(source: BlobKey, options: { signal?: AbortSignal } = {}): Promise<BlobWriteResult> {
    options.signal?.throwIfAborted();
    const key = newBlobKey();
    return this.#throughTemporary(key, (tmpPath) => this.#copyTo(tmpPath, key, source));
  }

  async #copyTo(tmpPath: string, key: BlobKey, source: BlobKey): Promise<BlobWriteResult> {
    try {
      await this.#atPath(source, (path) => copyFile(path, tmpPath));
      const fh = await open(tmpPath, 'r+');
      let size: number;
      try {
        await fh.sync();
        size = (await fh.stat()).size;
      } finally {
        await fh.close();
      }
      await this.#commit(tmpPath, key);
      return { key, size };
    } catch (err) {
      await unlink(tmpPath).catch(() => {});
      if (isErrno(err, 'ENOENT')) throw new BlobNotFoundError(`blob ${source} does not exist`);
      throw err;
    }
  }

  async read(key: BlobKey, options: BlobReadOptions = {}): Promise<Readable> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await this.#atPath(key, (path) => open(path, 'r'));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new BlobNotFoundError(`blob ${key} does not exist`);
      throw err;
    }
    return fh.createReadStream({
      start: options.start ?? 0,
      ...(options.end === undefined ? {} : { end: options.end }),
      highWaterMark: 256 * 1024,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  localPath(key: BlobKey): string {
    const path = this.#pathOf(key);
    if (existsSync(path)) return path;
    const legacy = this.#legacyPathOf(key);
    return existsSync(legacy) ? legacy : path;
  }

  async size(key: BlobKey): Promise<number | undefined> {
    try {
      return (await this.#atPath(key, (path) => stat(path))).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async delete(keys: readonly BlobKey[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.#atPath(key, (path) => unlink(path));
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
  }

  async *list(options: { signal?: AbortSignal } = {}): AsyncIterable<BlobInfo> {
    const names = async (dir: string, pattern: RegExp): Promise<string[]> => {
      try {
        return (await readdir(dir)).filter((name) => pattern.test(name)).sort();
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return [];
        throw err;
      }
    };
    const blobsIn = async function* (dir: string): AsyncIterable<BlobInfo> {
      options.signal?.throwIfAborted();
      for (const name of await names(dir, KEY)) {
        try {
          const st = await stat(join(dir, name));
          yield { key: name as BlobKey, modifiedAt: st.mtimeMs };
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err;
        }
      }
    };
    for (const top of await names(this.#root, /^[a-z0-9]{1,2}$/)) {
      const dir = join(this.#root, top);
      if (top.length === 1) {
        yield* blobsIn(dir);
        continue;
      }
      for (const second of await names(dir, /^[a-z0-9]{2}$/)) yield* blobsIn(join(dir, second));
    }
  }

  async sweepTemporary(olderThanMs: number): Promise<number> {
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.#tmp);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 0;
      throw err;
    }
    for (const name of names) {
      if (this.#inFlight.has(name)) continue;
      const path = join(this.#tmp, name);
      try {
        const st = await stat(path);
        if (st.mtimeMs < olderThanMs) {
          await unlink(path);
          removed++;
        }
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return removed;
  }
}
