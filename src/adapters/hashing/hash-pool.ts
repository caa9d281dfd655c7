// Digests computed off the main thread: MD5 and CRC-64 cost more CPU than receiving and writing the
// bytes, so large bodies are hashed by a small pool of worker threads while the main thread keeps
// doing I/O. Chunks are copied into 1 MiB batch buffers that travel to a worker and back (transferred,
// never cloned), so steady-state hashing allocates nothing; a digester that falls behind makes its
// writer wait, so memory stays bounded.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DigestName, Digests } from '../../lib/checksums.ts';
import { crc64Wasm } from '../../lib/crc64.ts';
import { MD5_LAYOUT, md5CrcTables, md5WasmModule } from '../../lib/md5-wasm.ts';
import type { StreamDigester } from '../../lib/stream-digester.ts';

const POOLED: ReadonlySet<DigestName> = new Set<DigestName>(['md5', 'crc64', 'crc32', 'sha1', 'sha256']);
const BATCH_BYTES = 1024 * 1024;
const MAX_IN_FLIGHT = 2 * 1024 * 1024;
/** Returned batch buffers kept for reuse. */
const MAX_FREE_BUFFERS = 8;

type FromWorker =
  | { id: number; op: 'ack'; bytes: number; data: Uint8Array }
  | { id: number; op: 'digest'; digests: Record<string, Uint8Array | bigint> }
  | { id: number; op: 'error'; message: string };

interface Slot {
  worker: Worker;
  active: number;
}

class PooledDigester implements StreamDigester {
  readonly #id: number;
  readonly #slot: Slot;
  readonly #pool: HashPool;
  #batch: Uint8Array | undefined;
  #batchBytes = 0;
  #inFlight = 0;
  #waiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #result: { resolve: (d: Digests) => void; reject: (err: Error) => void } | undefined;
  #failed: Error | undefined;
  #done = false;

  constructor(pool: HashPool, slot: Slot, id: number, names: readonly DigestName[]) {
    this.#pool = pool;
    this.#slot = slot;
    this.#id = id;
    slot.worker.postMessage({ id, op: 'start', names });
  }

  #flush(): void {
    const batch = this.#batch;
    if (!batch || this.#batchBytes === 0) return;
    const data = batch.subarray(0, this.#batchBytes);
    this.#slot.worker.postMessage({ id: this.#id, op: 'update', data }, [batch.buffer as ArrayBuffer]);
    this.#inFlight += this.#batchBytes;
    this.#batch = undefined;
    this.#batchBytes = 0;
  }

  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#failed) return Promise.reject(this.#failed);
    for (let off = 0; off < chunk.length; ) {
      this.#batch ??= this.#pool.takeBuffer();
      const n = Math.min(chunk.length - off, BATCH_BYTES - this.#batchBytes);
      this.#batch.set(chunk.subarray(off, off + n), this.#batchBytes);
      this.#batchBytes += n;
      off += n;
      if (this.#batchBytes === BATCH_BYTES) this.#flush();
    }
    if (this.#inFlight <= MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  digest(): Promise<Digests> {
    if (this.#failed) return Promise.reject(this.#failed);
    this.#flush();
    return new Promise((resolve, reject) => {
      this.#result = { resolve, reject };
      this.#slot.worker.postMessage({ id: this.#id, op: 'digest' });
    });
  }

  discard(): void {
    if (this.#done) return;
    if (this.#batch) this.#pool.returnBuffer(this.#batch);
    this.#batch = undefined;
    this.#slot.worker.postMessage({ id: this.#id, op: 'drop' });
    this.#finish();
  }

  #finish(): void {
    this.#done = true;
    this.#slot.active--;
    this.#pool.forget(this.#id);
  }

  onMessage(message: FromWorker): void {
    if (message.op === 'ack') {
      this.#inFlight -= message.bytes;
      this.#pool.returnBuffer(message.data);
      if (this.#waiter && this.#inFlight <= MAX_IN_FLIGHT) {
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter.resolve();
      }
    } else if (message.op === 'digest') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(message.digests)) {
        out[k] = typeof v === 'bigint' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
      this.#finish();
      this.#result?.resolve(out as Digests);
    } else {
      this.fail(new Error(message.message));
    }
  }

  fail(err: Error): void {
    this.#failed = err;
    this.#waiter?.reject(err);
    this.#result?.reject(err);
    if (!this.#done) this.#finish();
  }
}

export class HashPool {
  readonly #slots: Slot[];
  readonly #digesters = new Map<number, PooledDigester>();
  readonly #free: Uint8Array[] = [];
  #nextId = 1;

  /**
   * One thread fewer than the cores: the main thread receives and writes the bytes. On the 2-core
   * benchmark machine one hashing thread (564 MiB/s of MD5 + CRC-64) kept up with 4 uploads and used
   * less CPU and ~10 MiB less memory than two (bench/README.md).
   */
  constructor(size = Math.max(1, availableParallelism() - 1)) {
    const md5Module = md5WasmModule();
    const crc64 = crc64Wasm();
    const md5 = md5Module
      ? { module: md5Module, layout: MD5_LAYOUT, tables: md5CrcTables(crc64.tables) }
      : undefined;
    this.#slots = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url), {
        workerData: { crc64, md5 },
      });
      worker.unref();
      const slot: Slot = { worker, active: 0 };
      worker.on('message', (message: FromWorker) => this.#digesters.get(message.id)?.onMessage(message));
      worker.on('error', (err) => {
        for (const d of [...this.#digesters.values()]) d.fail(err);
      });
      return slot;
    });
  }

  /** Digests the workers compute; others (CRC-32C) are computed inline by the caller. */
  static supports(names: readonly DigestName[]): boolean {
    return names.every((n) => POOLED.has(n));
  }

  digester(names: readonly DigestName[]): StreamDigester {
    const slot = this.#slots.reduce((best, s) => (s.active < best.active ? s : best));
    slot.active++;
    const id = this.#nextId++;
    const digester = new PooledDigester(this, slot, id, names);
    this.#digesters.set(id, digester);
    return digester;
  }

  takeBuffer(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(BATCH_BYTES);
  }

  returnBuffer(buffer: Uint8Array): void {
    if (buffer.buffer.byteLength === BATCH_BYTES && this.#free.length < MAX_FREE_BUFFERS) {
      this.#free.push(new Uint8Array(buffer.buffer as ArrayBuffer));
    }
  }

  forget(id: number): void {
    this.#digesters.delete(id);
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
