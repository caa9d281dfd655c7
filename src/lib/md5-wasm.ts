// MD5 and CRC-64 in one pass, as WebAssembly built here from its opcodes (like crc64-wasm.ts: no
// toolchain, no binary in the repository). Two kernels share one memory:
//
// - md5x4(p0, p1, p2, p3, blocks): four independent streams in the four 32-bit lanes of a SIMD
//   vector, each lane also advancing its stream's CRC-64 (slicing-by-8) between MD5 steps. MD5 is one
//   long dependency chain, so the CRC's table lookups run in execution slots MD5 leaves idle: on the
//   benchmark CPU the pair hashes ~1,250 MiB/s across four streams, against ~550 MiB/s for OpenSSL's
//   MD5 followed by the CRC on one stream (bench/README.md).
// - md5(p, blocks, crc) -> crc: the same on one stream, for a stream that is hashed alone.
//
// Both take whole 64-byte blocks; the caller keeps partial blocks and pads the last one.

import { section, sleb64, uleb } from './crc64-wasm.ts';

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
};

/** Memory layout shared with hash-worker.js. */
export const MD5_LAYOUT = {
  /** CRC-64 slicing tables T0..T7, 2 KiB each. */
  tables: 0,
  /** Lane states: A, B, C, D as four 16-byte vectors (lane l at +4l), then four 8-byte CRCs. */
  lanes: 16384,
  /** One stream's state for md5(): A, B, C, D (4 bytes each). */
  single: 16512,
  /** Four input windows of `windowSize` bytes each. */
  windows: 65536,
  windowSize: 1024 * 1024 + 64,
} as const;

const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
const SHIFT = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

const simd = (code: number) => [0xfd, ...uleb(code)];
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
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
  i32Shl: [0x74],
  i32Rotl: [0x77],
  i64Xor: [0x85],
  i64ShrU: [0x88],
  i32WrapI64: [0xa7],
  vLoad: (offset: number) => [...simd(0x00), 0x04, ...uleb(offset)],
  vStore: (offset: number) => [...simd(0x0b), 0x04, ...uleb(offset)],
  vSplatLoad32: (offset: number) => [...simd(0x09), 0x02, ...uleb(offset)],
  vLoadLane32: (offset: number, lane: number) => [...simd(0x56), 0x02, ...uleb(offset), lane],
  vConst32: (v: number) => {
    const bytes: number[] = [];
    for (let i = 0; i < 4; i++) bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return [...simd(0x0c), ...bytes];
  },
  vNot: simd(0x4d),
  vAnd: simd(0x4e),
  vOr: simd(0x50),
  vXor: simd(0x51),
  vBitselect: simd(0x52),
  vShl32: simd(0xab),
  vShrU32: simd(0xad),
  vAdd32: simd(0xae),
  loopStart: [0x02, 0x40, 0x03, 0x40],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  end: [0x0b],
};

/** One slicing-by-8 CRC step over the 8 bytes at ptr + offset: crc = lookups(crc ^ word). */
function crcWord(crc: number, ptr: number, offset: number, tmp: number): number[] {
  const code = [...op.get(crc), ...op.get(ptr), ...op.i64Load(offset), ...op.i64Xor, ...op.set(tmp)];
  for (let k = 0; k < 8; k++) {
    code.push(...op.get(tmp), ...op.i64(BigInt(8 * k)), ...op.i64ShrU, ...op.i32WrapI64);
    code.push(...op.i32(255), ...op.i32And, ...op.i32(3), ...op.i32Shl);
    code.push(...op.i64Load(MD5_LAYOUT.tables + (7 - k) * 2048));
    if (k > 0) code.push(...op.i64Xor);
  }
  return [...code, ...op.set(crc)];
}

/** Message word k of the current block for all four lanes, as one vector. */
function laneWords(ptrs: number[], k: number, tmp: number): number[] {
  const code = [...op.get(ptrs[0]!), ...op.vSplatLoad32(4 * k)];
  for (let lane = 1; lane < 4; lane++) {
    code.push(...op.set(tmp), ...op.get(ptrs[lane]!), ...op.get(tmp), ...op.vLoadLane32(4 * k, lane));
  }
  return code;
}

function roundWord(i: number): number {
  const round = i >> 4;
  if (round === 0) return i;
  if (round === 1) return (5 * i + 1) % 16;
  if (round === 2) return (3 * i + 5) % 16;
  return (7 * i) % 16;
}

/** What differs between the four-lane and the one-lane kernel inside the block loop. */
interface BlockLoop {
  /** Local indexes: the state A, B, C, D, its copy at the block's start, and the block count. */
  state: readonly [number, number, number, number];
  saved: readonly [number, number, number, number];
  blocks: number;
  /** The add of the state's lane type (i32.add or i32x4.add). */
  add: number[];
  /** MD5 step i: a = b + rotl(a + F(b, c, d) + X[k] + K[i], s). */
  step(i: number, a: number, b: number, c: number, d: number): number[];
  /** The CRC-64 of the block's 8-byte word w, run after every eighth MD5 step. */
  crcWord(w: number): number[];
  /** Moves the input pointer(s) to the next block. */
  next: number[];
}

/** The loop over whole blocks shared by both kernels: MD5's 64 steps with the CRC-64 interleaved. */
function blockLoop(k: BlockLoop): number[] {
  const c = [...op.loopStart, ...op.get(k.blocks), ...op.i32Eqz, ...op.brIf(1)];
  for (let r = 0; r < 4; r++) c.push(...op.get(k.state[r]!), ...op.set(k.saved[r]!));
  let [a, b, cc, d] = k.state;
  for (let i = 0; i < 64; i++) {
    c.push(...k.step(i, a, b, cc, d));
    [a, b, cc, d] = [d, a, b, cc];
    if (i % 8 === 7) c.push(...k.crcWord(i >> 3));
  }
  for (let r = 0; r < 4; r++)
    c.push(...op.get(k.state[r]!), ...op.get(k.saved[r]!), ...k.add, ...op.set(k.state[r]!));
  c.push(...k.next, ...op.get(k.blocks), ...op.i32(1), ...op.i32Sub, ...op.set(k.blocks));
  return [...c, ...op.br(0), ...op.end, ...op.end];
}

/** md5x4(p0, p1, p2, p3, blocks): locals after the 5 params: 10 v128, 4 + 1 i64. */
function md5x4Body(): number[] {
  const P = [0, 1, 2, 3];
  const N = 4;
  const [A, B, C, D, AA, BB, CC, DD, T, W] = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const CRC = [15, 16, 17, 18];
  const TMP = 19;
  const L = MD5_LAYOUT.lanes;
  const c: number[] = [];
  for (const [i, r] of [A, B, C, D].entries()) c.push(...op.i32(0), ...op.vLoad(L + 16 * i), ...op.set(r));
  for (const [l, r] of CRC.entries())
    c.push(...op.i32(0), ...op.i64Load(L + 64 + 8 * l), ...op.i64(-1n), ...op.i64Xor, ...op.set(r));
  const step = (i: number, a: number, b: number, cc: number, d: number): number[] => {
    const round = i >> 4;
    let f: number[];
    if (round === 0) f = [...op.get(cc), ...op.get(d), ...op.get(b), ...op.vBitselect];
    else if (round === 1) f = [...op.get(b), ...op.get(cc), ...op.get(d), ...op.vBitselect];
    else if (round === 2) f = [...op.get(cc), ...op.get(d), ...op.vXor, ...op.get(b), ...op.vXor];
    else f = [...op.get(cc), ...op.get(b), ...op.get(d), ...op.vNot, ...op.vOr, ...op.vXor];
    const s = SHIFT[round * 4 + (i % 4)]!;
    return [
      ...laneWords(P, roundWord(i), W),
      ...[...op.vConst32(K[i]!), ...op.vAdd32, ...op.get(a), ...op.vAdd32, ...f, ...op.vAdd32],
      ...[
        ...op.tee(T),
        ...op.i32(s),
        ...op.vShl32,
        ...op.get(T),
        ...op.i32(32 - s),
        ...op.vShrU32,
        ...op.vOr,
      ],
      ...[...op.get(b), ...op.vAdd32, ...op.set(a)],
    ];
  };
  c.push(
    ...blockLoop({
      state: [A, B, C, D],
      saved: [AA, BB, CC, DD],
      blocks: N,
      add: op.vAdd32,
      step,
      crcWord: (w) => P.flatMap((p, lane) => crcWord(CRC[lane]!, p, 8 * w, TMP)),
      next: P.flatMap((p) => [...op.get(p), ...op.i32(64), ...op.i32Add, ...op.set(p)]),
    }),
  );
  for (const [i, r] of [A, B, C, D].entries()) c.push(...op.i32(0), ...op.get(r), ...op.vStore(L + 16 * i));
  for (const [l, r] of CRC.entries())
    c.push(...op.i32(0), ...op.get(r), ...op.i64(-1n), ...op.i64Xor, ...op.i64Store(L + 64 + 8 * l));
  c.push(...op.end);
  const locals = [0x02, 10, 0x7b, 5, 0x7e];
  return [...uleb(locals.length + c.length), ...locals, ...c];
}

/** md5(p, blocks, crc) -> crc: locals after the 3 params: 8 i32, 1 i64. */
function md5Body(): number[] {
  const [PTR, N, CRC] = [0, 1, 2];
  const [A, B, C, D, AA, BB, CC, DD] = [3, 4, 5, 6, 7, 8, 9, 10];
  const TMP = 11;
  const S = MD5_LAYOUT.single;
  const c: number[] = [...op.get(CRC), ...op.i64(-1n), ...op.i64Xor, ...op.set(CRC)];
  for (const [i, r] of [A, B, C, D].entries()) c.push(...op.i32(0), ...op.i32Load(S + 4 * i), ...op.set(r));
  const step = (i: number, a: number, b: number, cc: number, d: number): number[] => {
    const round = i >> 4;
    const get = (...locals: number[]) => locals.flatMap((l) => op.get(l));
    let f: number[];
    if (round === 0) f = [...get(d, b, cc, d), ...op.i32Xor, ...op.i32And, ...op.i32Xor];
    else if (round === 1) f = [...get(cc, d, b, cc), ...op.i32Xor, ...op.i32And, ...op.i32Xor];
    else if (round === 2) f = [...get(b, cc), ...op.i32Xor, ...op.get(d), ...op.i32Xor];
    else f = [...get(cc, b, d), ...op.i32(-1), ...op.i32Xor, ...op.i32Or, ...op.i32Xor];
    const s = SHIFT[round * 4 + (i % 4)]!;
    return [
      ...[...get(b, a), ...f, ...op.i32Add, ...op.get(PTR), ...op.i32Load(4 * roundWord(i)), ...op.i32Add],
      ...[...op.i32(K[i]!), ...op.i32Add, ...op.i32(s), ...op.i32Rotl, ...op.i32Add, ...op.set(a)],
    ];
  };
  c.push(
    ...blockLoop({
      state: [A, B, C, D],
      saved: [AA, BB, CC, DD],
      blocks: N,
      add: op.i32Add,
      step,
      crcWord: (w) => crcWord(CRC, PTR, 8 * w, TMP),
      next: [...op.get(PTR), ...op.i32(64), ...op.i32Add, ...op.set(PTR)],
    }),
  );
  for (const [i, r] of [A, B, C, D].entries()) c.push(...op.i32(0), ...op.get(r), ...op.i32Store(S + 4 * i));
  c.push(...op.get(CRC), ...op.i64(-1n), ...op.i64Xor, ...op.end);
  const locals = [0x02, 8, 0x7f, 1, 0x7e];
  return [...uleb(locals.length + c.length), ...locals, ...c];
}

function moduleBytes(): Uint8Array {
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s)];
  const pages = Math.ceil((MD5_LAYOUT.windows + 4 * MD5_LAYOUT.windowSize) / 65536);
  const x4 = md5x4Body();
  const one = md5Body();
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // types: 0 = (i32 x5) -> (), 1 = (i32, i32, i64) -> i64
    ...section(
      1,
      [0x02, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x03, 0x7f, 0x7f, 0x7e, 0x01, 0x7e],
    ),
    ...section(3, [0x02, 0x00, 0x01]),
    ...section(5, [0x01, 0x00, ...uleb(pages)]),
    ...section(7, [
      0x03,
      ...name('mem'),
      0x02,
      0x00,
      ...name('md5x4'),
      0x00,
      0x00,
      ...name('md5'),
      0x00,
      0x01,
    ]),
    ...section(10, [0x02, ...x4, ...one]),
  ]);
}

let compiled: object | undefined;

/** The compiled module (shareable with worker threads); null where WebAssembly SIMD is unavailable. */
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
