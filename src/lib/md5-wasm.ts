// MD5 and CRC-64 in one pass, as WebAssembly built here from its opcodes (like crc64-wasm.ts: no
// toolchain, no binary in the repository). md5xN (N = 1..3) advances N independent streams together:
//
//   md5xN(p1, s1, ..., pN, sN, blocks)
//
// hashes `blocks` 64-byte blocks at each pointer p, on the state at s (MD5's A, B, C, D, then the
// stream's CRC-64; see MD5_LAYOUT.lanes). MD5 is one long chain of dependent 32-bit steps: each step
// is arranged so that little of it waits for the previous one, and the kernels interleave the
// streams' steps, and each stream's CRC-64 (crcWord) every eighth step, so the out-of-order core
// fills its execution units from several chains. On the benchmark CPU (bench/README.md), best of 7:
// one stream ~840 MiB/s, two ~1,450, three ~1,370, against ~550 MiB/s for OpenSSL's MD5 followed by
// the CRC on one stream, and ~1,220 for the SIMD kernel this replaced (four streams in the lanes of
// one vector, no faster per stream with fewer: a vector has no rotate and its lanes cannot run apart).
//
// The kernels take whole 64-byte blocks; the caller keeps partial blocks and pads the last one.

import { section, sleb64, uleb } from './crc64-wasm.ts';

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
};

/** Streams hashed at once by one thread (md5-lanes.js). */
const MD5_LANES = 4;
/**
 * The most streams one kernel call advances: three go as fast as four did, and two calls of two
 * advance four streams faster than one call of four (bench/README.md).
 */
const MD5_KERNEL_STREAMS = 3;

/** Bits of the CRC state each table lookup takes (CRC_CHUNKS lookups per 8 bytes). */
const CRC_BITS = 11;
const CRC_CHUNKS = Math.ceil(64 / CRC_BITS);
const CRC_TABLE_BYTES = (1 << CRC_BITS) * 8;

/** Memory layout shared with md5-lanes.js. */
export const MD5_LAYOUT = {
  /** Lanes: streams hashed at once, each with a state and a window below. */
  count: MD5_LANES,
  /** The CRC-64 tables of md5CrcTables(), CRC_CHUNKS of 16 KiB. */
  tables: 0,
  /** Per-lane state, `stateSize` bytes each: A, B, C, D (u32 LE), then the CRC-64 (u64 LE). */
  lanes: 98304,
  stateSize: 32,
  /** Scratch words for the kernels. */
  spill: 98304 + MD5_LANES * 32,
  /** One input window of `windowSize` bytes per lane. */
  windows: 131072,
  windowSize: 1024 * 1024 + 64,
} as const;

const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
const SHIFT = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb64(BigInt(n))],
  i64: (n: bigint) => [0x42, ...sleb64(n)],
  i32Load: (offset: number) => [0x28, 0x02, ...uleb(offset)],
  i32Store: (offset: number) => [0x36, 0x02, ...uleb(offset)],
  i64Load: (offset: number) => [0x29, 0x03, ...uleb(offset)],
  i64Store: (offset: number) => [0x37, 0x03, ...uleb(offset)],
  i32Eqz: [0x45],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Or: [0x72],
  i32Xor: [0x73],
  i32Rotl: [0x77],
  i64And: [0x83],
  i64Xor: [0x85],
  i64Shl: [0x86],
  i64ShrU: [0x88],
  i32WrapI64: [0xa7],
  loopStart: [0x02, 0x40, 0x03, 0x40],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  end: [0x0b],
};

/**
 * One CRC-64 step over the 8 bytes at ptr + offset: crc = lookups(crc ^ word), with the 64 bits of
 * crc ^ word cut into six pieces of 11 bits, each looked up in a table of its own. Six lookups of
 * 16 KiB tables (they stay in the 1 MiB L2 cache) instead of slicing-by-8's eight: two streams hash
 * ~10 % faster and three ~3 %, since with two or three streams the CRC's operations are what the
 * core runs out of (MD5 alone: two streams ~1,660 MiB/s, three ~2,120). 13 bits (five lookups, 320 KiB
 * of tables) measured no faster, 16 bits (2 MiB) far slower.
 */
function crcWord(crc: number, ptr: number, offset: number, tmp: number): number[] {
  const code = [...op.get(crc), ...op.get(ptr), ...op.i64Load(offset), ...op.i64Xor, ...op.set(tmp)];
  for (let c = 0; c < CRC_CHUNKS; c++) {
    // The table index, already times 8: (word >> (bits * c)) & mask, << 3, in two operations.
    code.push(...op.get(tmp));
    if (c === 0) code.push(...op.i64(3n), ...op.i64Shl);
    else code.push(...op.i64(BigInt(CRC_BITS * c - 3)), ...op.i64ShrU);
    code.push(...op.i64(BigInt(CRC_TABLE_BYTES - 8)), ...op.i64And, ...op.i32WrapI64);
    code.push(...op.i64Load(MD5_LAYOUT.tables + c * CRC_TABLE_BYTES));
    if (c > 0) code.push(...op.i64Xor);
  }
  return [...code, ...op.set(crc)];
}

/**
 * The kernels' CRC-64 tables (MD5_LAYOUT.tables), from the eight slicing-by-8 tables of crc64-wasm.ts:
 * entry v of table c is the CRC step of a word whose only set bits are v << (11 * c), which is the
 * XOR of the slicing-by-8 entries of that word's bytes.
 */
export function md5CrcTables(slicing8: Uint8Array): Uint8Array {
  const t8 = new DataView(slicing8.buffer, slicing8.byteOffset, slicing8.byteLength);
  const entries = 1 << CRC_BITS;
  const out = new Uint8Array(CRC_CHUNKS * CRC_TABLE_BYTES);
  const view = new DataView(out.buffer);
  for (let c = 0; c < CRC_CHUNKS; c++) {
    const shift = CRC_BITS * c;
    for (let v = 0; v < entries; v++) {
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < 8; i++) {
        // Byte i of (v << shift), a 64-bit word.
        const d = 8 * i - shift;
        const byte = d >= 0 ? (d >= CRC_BITS ? 0 : (v >>> d) & 0xff) : -d >= 8 ? 0 : (v << -d) & 0xff;
        const at = ((7 - i) * 256 + byte) * 8;
        lo ^= t8.getUint32(at, true);
        hi ^= t8.getUint32(at + 4, true);
      }
      const at = c * CRC_TABLE_BYTES + v * 8;
      view.setUint32(at, lo, true);
      view.setUint32(at + 4, hi, true);
    }
  }
  return out;
}

function roundWord(i: number): number {
  const round = i >> 4;
  if (round === 0) return i;
  if (round === 1) return (5 * i + 1) % 16;
  if (round === 2) return (3 * i + 5) % 16;
  return (7 * i) % 16;
}

/**
 * MD5 step i of one stream: a = b + rotl(a + K[i] + X[k] + F(b, c, d), s), X at ptr. The sum is
 * ordered so that only F's last operations, the last add, the rotate and the add of b wait for b
 * (the previous step's result): a, K and X are known steps earlier.
 */
function step(i: number, ptr: number, [a, b, c, d]: readonly number[]): number[] {
  const round = i >> 4;
  const get = (...locals: number[]) => locals.flatMap((l) => op.get(l));
  const not = [...op.i32(-1), ...op.i32Xor];
  let f: number[];
  // F = (b & c) | (~b & d), G = (b & d) | (c & ~d), H = b ^ c ^ d, I = c ^ (b | ~d).
  if (round === 0)
    f = [...get(c!, d!), ...op.i32Xor, ...op.get(b!), ...op.i32And, ...op.get(d!), ...op.i32Xor];
  else if (round === 1) {
    // The two halves share no bits, so | is +: the half without b joins the early sum.
    f = [...get(c!, d!), ...not, ...op.i32And, ...op.i32Add, ...get(b!, d!), ...op.i32And];
  } else if (round === 2) f = [...get(c!, d!), ...op.i32Xor, ...op.get(b!), ...op.i32Xor];
  else f = [...op.get(c!), ...op.get(d!), ...not, ...op.get(b!), ...op.i32Or, ...op.i32Xor];
  const s = SHIFT[round * 4 + (i % 4)]!;
  return [
    ...[
      ...op.get(a!),
      ...op.i32(K[i]!),
      ...op.i32Add,
      ...op.get(ptr),
      ...op.i32Load(4 * roundWord(i)),
      ...op.i32Add,
    ],
    ...[...f, ...op.i32Add, ...op.i32(s), ...op.i32Rotl, ...op.get(b!), ...op.i32Add, ...op.set(a!)],
  ];
}

/**
 * md5xN's body. Params: (p, s) per stream, then blocks. Locals per stream: A, B, C, D and their
 * copies at the block's start (i32), the CRC and a scratch word (i64).
 */
function md5xBody(n: number): number[] {
  const streams = Array.from({ length: n }, (_, j) => j);
  const ptr = (j: number) => 2 * j;
  const st = (j: number) => 2 * j + 1;
  const blocks = 2 * n;
  const i32Base = 2 * n + 1;
  const state = streams.map((j) => [0, 1, 2, 3].map((r) => i32Base + 8 * j + r));
  const saved = streams.map((j) => [4, 5, 6, 7].map((r) => i32Base + 8 * j + r));
  const i64Base = i32Base + 8 * n;
  const crc = (j: number) => i64Base + 2 * j;
  const tmp = (j: number) => i64Base + 2 * j + 1;

  const c: number[] = [];
  for (const j of streams) {
    for (let r = 0; r < 4; r++) c.push(...op.get(st(j)), ...op.i32Load(4 * r), ...op.set(state[j]![r]!));
    c.push(...op.get(st(j)), ...op.i64Load(16), ...op.i64(-1n), ...op.i64Xor, ...op.set(crc(j)));
    // Parked in memory for the end: a register held through the loop slows it down.
    c.push(...op.i32(0), ...op.get(st(j)), ...op.i32Store(MD5_LAYOUT.spill + 4 * j));
  }
  c.push(...op.loopStart, ...op.get(blocks), ...op.i32Eqz, ...op.brIf(1));
  for (const j of streams)
    for (let r = 0; r < 4; r++) c.push(...op.get(state[j]![r]!), ...op.set(saved[j]![r]!));
  // The step's registers rotate (a, b, c, d) -> (d, a, b, c); the streams' steps alternate.
  const regs = streams.map((j) => [...state[j]!]);
  for (let i = 0; i < 64; i++) {
    for (const j of streams) {
      c.push(...step(i, ptr(j), regs[j]!));
      const [a, b, cc, d] = regs[j]!;
      regs[j] = [d!, a!, b!, cc!];
    }
    if (i % 8 === 7) for (const j of streams) c.push(...crcWord(crc(j), ptr(j), 8 * (i >> 3), tmp(j)));
  }
  for (const j of streams) {
    for (let r = 0; r < 4; r++) {
      c.push(...op.get(state[j]![r]!), ...op.get(saved[j]![r]!), ...op.i32Add, ...op.set(state[j]![r]!));
    }
    c.push(...op.get(ptr(j)), ...op.i32(64), ...op.i32Add, ...op.set(ptr(j)));
  }
  c.push(...op.get(blocks), ...op.i32(1), ...op.i32Sub, ...op.set(blocks), ...op.br(0), ...op.end, ...op.end);
  for (const j of streams) {
    c.push(...op.i32(0), ...op.i32Load(MD5_LAYOUT.spill + 4 * j), ...op.set(st(j)));
    for (let r = 0; r < 4; r++) c.push(...op.get(st(j)), ...op.get(state[j]![r]!), ...op.i32Store(4 * r));
    c.push(...op.get(st(j)), ...op.get(crc(j)), ...op.i64(-1n), ...op.i64Xor, ...op.i64Store(16));
  }
  c.push(...op.end);
  const locals = [0x02, ...uleb(8 * n), 0x7f, ...uleb(2 * n), 0x7e];
  return [...uleb(locals.length + c.length), ...locals, ...c];
}

function moduleBytes(): Uint8Array {
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s)];
  const counts = Array.from({ length: MD5_KERNEL_STREAMS }, (_, i) => i + 1);
  const pages = Math.ceil((MD5_LAYOUT.windows + MD5_LANES * MD5_LAYOUT.windowSize) / 65536);
  // Type n - 1: 2n + 1 i32 params, no results.
  const types = counts.flatMap((n) => [0x60, ...uleb(2 * n + 1), ...new Array(2 * n + 1).fill(0x7f), 0x00]);
  const exports = counts.flatMap((n) => [...name(`md5x${n}`), 0x00, n - 1]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [...uleb(counts.length), ...types]),
    ...section(3, [...uleb(counts.length), ...counts.map((n) => n - 1)]),
    ...section(5, [0x01, 0x00, ...uleb(pages)]),
    ...section(7, [...uleb(counts.length + 1), ...name('mem'), 0x02, 0x00, ...exports]),
    ...section(10, [...uleb(counts.length), ...counts.flatMap((n) => md5xBody(n))]),
  ]);
}

let compiled: object | undefined;

/** The compiled module (shareable with worker threads); null where WebAssembly cannot compile it. */
export function md5WasmModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes());
    } catch {
      return null;
    }
  }
  return compiled;
}
