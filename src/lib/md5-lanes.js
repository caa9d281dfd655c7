// Runs the md5-wasm.ts kernels for up to four streams at once (plain JavaScript, so the hashing
// thread, adapters/hashing/hash-worker.js, can load it without Node's TypeScript stripper). Each
// stream owns one lane: its state lives in the module's memory and its bytes pass through the lane's
// window there. pump() hashes what the lanes hold, advancing the lanes that hold whole blocks
// together: up to three in one kernel call (md5x1 .. md5x3), four as two pairs.

const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

export class Md5Lanes {
  /**
   * @param {WebAssembly.Module} module compiled by md5-wasm.ts
   * @param {Uint8Array} tables the kernels' CRC-64 tables (md5CrcTables in md5-wasm.ts)
   * @param {typeof import('./md5-wasm.ts').MD5_LAYOUT} layout
   * @param {(crc: bigint, bytes: Uint8Array) => bigint} crcTail CRC-64 of a few trailing bytes
   * @param {number} pressure queued bytes (beyond what the lane's window holds) that let a lane go on
   *   without the lanes that have no bytes: by default one of HashPool's 1 MiB batches, so a body is
   *   never held up long enough to make its writer wait (that happens past 2 MiB in flight).
   */
  constructor(module, tables, layout, crcTail, pressure = 1024 * 1024) {
    const instance = new WebAssembly.Instance(module);
    this.memory = instance.exports.mem.buffer;
    this.bytes = new Uint8Array(this.memory);
    this.view = new DataView(this.memory);
    /** kernels[n] advances n streams. */
    this.kernels = [undefined, instance.exports.md5x1, instance.exports.md5x2, instance.exports.md5x3];
    this.layout = layout;
    this.crcTail = crcTail;
    this.pressure = pressure;
    this.bytes.set(tables, layout.tables);
    /** @type {(Stream | undefined)[]} */
    this.lanes = new Array(layout.count).fill(undefined);
  }

  /** A stream on a free lane, or undefined when all four are taken. */
  open() {
    const lane = this.lanes.indexOf(undefined);
    if (lane < 0) return undefined;
    const stream = new Stream(lane, this.layout.windows + lane * this.layout.windowSize);
    this.lanes[lane] = stream;
    const state = this.#state(lane);
    for (let r = 0; r < 4; r++) this.view.setUint32(state + 4 * r, IV[r], true);
    this.view.setBigUint64(state + 16, 0n, true);
    return stream;
  }

  /** Queues bytes; `consumed` runs once they have been copied into the lane (the buffer is free). */
  push(stream, data, consumed) {
    stream.queue.push({ data, offset: 0, consumed });
    stream.queued += data.length;
  }

  /** Forgets a stream (the body was abandoned); its queued buffers are not handed back. */
  drop(stream) {
    if (this.lanes[stream.lane] === stream) this.lanes[stream.lane] = undefined;
  }

  /**
   * Hashes what the lanes hold. It waits while an open lane has no whole block and no lane has
   * `pressure` bytes queued: the lanes that have bytes would otherwise run without it, and a block
   * step of one stream runs at about 60 % of the speed of two or three (~840 against ~1,400 MiB/s).
   * With `drain`, it runs until that stream's bytes are hashed (but for a partial block), whatever
   * the other lanes hold; they ride along in its steps and are not drained themselves, so a finishing
   * body does not wait for the others' backlogs.
   */
  pump(drain = undefined) {
    const { windowSize } = this.layout;
    for (;;) {
      const ready = [];
      let open = 0;
      let pressed = false;
      for (const s of this.lanes) {
        if (!s) continue;
        open++;
        this.#refill(s, windowSize);
        if (s.end - s.start >= 64) ready.push(s);
        if (s.queued >= this.pressure) pressed = true;
      }
      if (drain ? !ready.includes(drain) : ready.length === 0 || (ready.length < open && !pressed)) return;
      if (ready.length < 4) {
        this.#advance(ready);
        continue;
      }
      // Paired by how much they hold, so each pair runs about as far as its lanes allow.
      ready.sort((x, y) => x.end - x.start - (y.end - y.start));
      this.#advance(ready.slice(0, 2));
      this.#advance(ready.slice(2));
    }
  }

  /** One kernel call over the whole blocks that all of `streams` hold. */
  #advance(streams) {
    let blocks = Number.POSITIVE_INFINITY;
    const args = [];
    for (const s of streams) {
      blocks = Math.min(blocks, (s.end - s.start) >>> 6);
      args.push(s.window + s.start, this.#state(s.lane));
    }
    this.kernels[streams.length](...args, blocks);
    for (const s of streams) s.start += blocks * 64;
  }

  /** The stream's MD5 (16 bytes) and CRC-64 once all its bytes are hashed; frees the lane. */
  finish(stream) {
    this.pump(stream);
    if (stream.queue.length > 0) throw new Error('md5 lane finished with bytes still queued');
    const { lane, window } = stream;
    const tail = this.bytes.slice(window + stream.start, window + stream.end);
    const crc = this.crcTail(this.view.getBigUint64(this.#state(lane) + 16, true), tail);
    // MD5 padding: 0x80, zeros, then the length in bits (little-endian) ending a block.
    const padded = tail.length + 9 <= 64 ? 64 : 128;
    const block = window;
    this.bytes.fill(0, block, block + padded);
    this.bytes.set(tail, block);
    this.bytes[block + tail.length] = 0x80;
    this.view.setBigUint64(block + padded - 8, BigInt(stream.length) * 8n, true);
    // The padding is not data: the kernel's CRC of it is thrown away.
    this.kernels[1](block, this.#state(lane), padded / 64);
    // Its own 16 bytes, not a slice of Buffer's pool: the digest is posted to the main thread, and a
    // pooled slice would take its whole 8 KiB pool with it.
    const md5 = Buffer.alloc(16);
    md5.set(this.bytes.subarray(this.#state(lane), this.#state(lane) + 16));
    this.drop(stream);
    return { md5, crc64: crc };
  }

  /** Moves the unhashed tail to the window's start and fills the rest from the queue. */
  #refill(s, windowSize) {
    if (s.queue.length === 0 || s.end - s.start >= 64) return;
    const carry = s.end - s.start;
    if (carry > 0 && s.start > 0) this.bytes.copyWithin(s.window, s.window + s.start, s.window + s.end);
    s.start = 0;
    s.end = carry;
    while (s.queue.length > 0 && s.end < windowSize) {
      const head = s.queue[0];
      const n = Math.min(head.data.length - head.offset, windowSize - s.end);
      this.bytes.set(head.data.subarray(head.offset, head.offset + n), s.window + s.end);
      s.end += n;
      s.length += n;
      s.queued -= n;
      head.offset += n;
      if (head.offset === head.data.length) {
        s.queue.shift();
        head.consumed();
      }
    }
  }

  /** Where the lane's state lives: A, B, C, D (u32 LE), then the CRC-64 (u64 LE). */
  #state(lane) {
    return this.layout.lanes + lane * this.layout.stateSize;
  }
}

class Stream {
  constructor(lane, window) {
    this.lane = lane;
    this.window = window;
    this.queue = [];
    this.start = 0;
    this.end = 0;
    this.length = 0;
    /** Bytes pushed and not yet copied into the window. */
    this.queued = 0;
  }
}
