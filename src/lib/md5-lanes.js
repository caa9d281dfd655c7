// Runs the md5-wasm.ts kernels for up to four streams at once (plain JavaScript, so hash-worker.js
// can load it without Node's TypeScript stripper). Each stream owns one lane: its state lives in the
// module's memory and its bytes pass through the lane's window there. pump() hashes what the lanes
// hold: with two or more lanes holding whole blocks it advances them together (md5x4), a lone stream
// goes through the one-lane kernel. Lanes that sit out a md5x4 call have their state saved and put
// back, since the kernel advances all four.

const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

export class Md5Lanes {
  /**
   * @param {WebAssembly.Module} module compiled by md5-wasm.ts
   * @param {Uint8Array} tables CRC-64 slicing tables (crc64-wasm.ts layout)
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
    this.md5x4 = instance.exports.md5x4;
    this.md5 = instance.exports.md5;
    this.layout = layout;
    this.crcTail = crcTail;
    this.pressure = pressure;
    this.bytes.set(tables, layout.tables);
    /** @type {(Stream | undefined)[]} */
    this.lanes = [undefined, undefined, undefined, undefined];
  }

  /** A stream on a free lane, or undefined when all four are taken. */
  open() {
    const lane = this.lanes.indexOf(undefined);
    if (lane < 0) return undefined;
    const stream = new Stream(lane, this.layout.windows + lane * this.layout.windowSize);
    this.lanes[lane] = stream;
    for (let r = 0; r < 4; r++) this.#setWord(lane, r, IV[r]);
    this.#setCrc(lane, 0n);
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
   * step of one lane takes more than half the time of a step of four (525 against 1,220 MiB/s).
   * With `drain`, it runs until that stream's bytes are hashed (but for a partial block), whatever
   * the other lanes hold; they ride along in the four-lane steps and are not drained themselves, so
   * a finishing body does not wait for the others' backlogs.
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
      if (ready.length === 1) {
        const s = ready[0];
        const blocks = (s.end - s.start) >>> 6;
        this.#runSingle(s, s.window + s.start, blocks);
        s.start += blocks * 64;
        continue;
      }
      let blocks = Number.POSITIVE_INFINITY;
      for (const s of ready) blocks = Math.min(blocks, (s.end - s.start) >>> 6);
      const saved = [];
      const pointers = [];
      for (let lane = 0; lane < 4; lane++) {
        const s = this.lanes[lane];
        if (s && ready.includes(s)) {
          pointers.push(s.window + s.start);
        } else {
          saved.push([lane, this.#getState(lane)]);
          // Any readable memory will do: the lane's result is thrown away.
          pointers.push(this.layout.windows + lane * windowSize);
        }
      }
      this.md5x4(pointers[0], pointers[1], pointers[2], pointers[3], blocks);
      for (const [lane, state] of saved) this.#putState(lane, state);
      for (const s of ready) s.start += blocks * 64;
    }
  }

  /** The stream's MD5 (16 bytes) and CRC-64 once all its bytes are hashed; frees the lane. */
  finish(stream) {
    this.pump(stream);
    if (stream.queue.length > 0) throw new Error('md5 lane finished with bytes still queued');
    const { lane, window } = stream;
    const tail = this.bytes.slice(window + stream.start, window + stream.end);
    const crc = this.crcTail(this.#getCrc(lane), tail);
    // MD5 padding: 0x80, zeros, then the length in bits (little-endian) ending a block.
    const padded = tail.length + 9 <= 64 ? 64 : 128;
    const block = window;
    this.bytes.fill(0, block, block + padded);
    this.bytes.set(tail, block);
    this.bytes[block + tail.length] = 0x80;
    this.view.setBigUint64(block + padded - 8, BigInt(stream.length) * 8n, true);
    this.#runSingle(stream, block, padded / 64, false);
    const md5 = Buffer.alloc(16);
    for (let r = 0; r < 4; r++) md5.writeUInt32LE(this.#getWord(lane, r), 4 * r);
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

  /** The one-lane kernel on the lane's state; `withCrc` false for MD5 padding, which is no data. */
  #runSingle(s, pointer, blocks, withCrc = true) {
    const single = this.layout.single;
    for (let r = 0; r < 4; r++) this.view.setUint32(single + 4 * r, this.#getWord(s.lane, r), true);
    const crc = this.md5(pointer, blocks, BigInt.asIntN(64, this.#getCrc(s.lane)));
    for (let r = 0; r < 4; r++) this.#setWord(s.lane, r, this.view.getUint32(single + 4 * r, true));
    if (withCrc) this.#setCrc(s.lane, BigInt.asUintN(64, crc));
  }

  #getWord(lane, r) {
    return this.view.getUint32(this.layout.lanes + 16 * r + 4 * lane, true);
  }

  #setWord(lane, r, value) {
    this.view.setUint32(this.layout.lanes + 16 * r + 4 * lane, value >>> 0, true);
  }

  #getCrc(lane) {
    return this.view.getBigUint64(this.layout.lanes + 64 + 8 * lane, true);
  }

  #setCrc(lane, value) {
    this.view.setBigUint64(this.layout.lanes + 64 + 8 * lane, value, true);
  }

  #getState(lane) {
    return [0, 1, 2, 3].map((r) => this.#getWord(lane, r)).concat([this.#getCrc(lane)]);
  }

  #putState(lane, state) {
    for (let r = 0; r < 4; r++) this.#setWord(lane, r, state[r]);
    this.#setCrc(lane, state[4]);
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
