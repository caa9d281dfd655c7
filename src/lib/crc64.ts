// CRC-64/XZ (the "ECMA-182" flavour COS reports in x-cos-hash-crc64ecma): reflected polynomial
// 0xC96C5795D7870F42, init and xorout all ones. Two 32-bit lanes keep it in small integers, and a
// slicing-by-8 table makes it run at memory speed; `crc64Combine` joins part CRCs without re-reading bytes.

import { type Crc64Kernel, type Crc64WasmParts, crc64WasmParts, createWasmKernel } from './crc64-wasm.ts';

const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;

const TABLE_LO = new Uint32Array(8 * 256);
const TABLE_HI = new Uint32Array(8 * 256);

for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = (lo >>> 1) | ((hi & 1) << 31);
    hi >>>= 1;
    if (carry) {
      lo ^= POLY_LO;
      hi ^= POLY_HI;
    }
  }
  TABLE_LO[i] = lo >>> 0;
  TABLE_HI[i] = hi >>> 0;
}
for (let s = 1; s < 8; s++) {
  for (let i = 0; i < 256; i++) {
    const prevLo = TABLE_LO[(s - 1) * 256 + i]!;
    const prevHi = TABLE_HI[(s - 1) * 256 + i]!;
    const idx = prevLo & 0xff;
    TABLE_LO[s * 256 + i] = (TABLE_LO[idx]! ^ ((prevLo >>> 8) | (prevHi << 24))) >>> 0;
    TABLE_HI[s * 256 + i] = (TABLE_HI[idx]! ^ (prevHi >>> 8)) >>> 0;
  }
}

/** Advances the pre-inverted register (two lanes) over `buf`: the slicing-by-8 loop. */
function updateLanes(register: Lanes, buf: Uint8Array): Lanes {
  let lo = register.lo;
  let hi = register.hi;
  const n = buf.length;
  const n8 = n - (n & 7);
  const T = TABLE_LO;
  const H = TABLE_HI;
  let i = 0;
  for (; i < n8; i += 8) {
    const a = lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    const b = hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
    lo =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + (b & 0xff)]! ^
      T[512 + ((b >>> 8) & 0xff)]! ^
      T[256 + ((b >>> 16) & 0xff)]! ^
      T[b >>> 24]!;
    hi =
      H[1792 + (a & 0xff)]! ^
      H[1536 + ((a >>> 8) & 0xff)]! ^
      H[1280 + ((a >>> 16) & 0xff)]! ^
      H[1024 + (a >>> 24)]! ^
      H[768 + (b & 0xff)]! ^
      H[512 + ((b >>> 8) & 0xff)]! ^
      H[256 + ((b >>> 16) & 0xff)]! ^
      H[b >>> 24]!;
  }
  for (; i < n; i++) {
    const idx = (lo ^ buf[i]!) & 0xff;
    lo = T[idx]! ^ ((lo >>> 8) | (hi << 24));
    hi = H[idx]! ^ (hi >>> 8);
  }
  return { lo, hi };
}

/** Below this size the JavaScript loop is used: not worth copying into WebAssembly memory. */
const WASM_THRESHOLD = 4096;
let kernel: Crc64Kernel | null | undefined;
let parts: Crc64WasmParts | undefined;

/** The compiled CRC-64 module and its tables, for worker threads (see adapters/hashing/hash-worker.js). */
export function crc64Wasm(): Crc64WasmParts {
  parts ??= crc64WasmParts(TABLE_LO, TABLE_HI);
  return parts;
}

function wasmKernel(): Crc64Kernel | null {
  if (kernel === undefined) {
    try {
      kernel = createWasmKernel(crc64Wasm());
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

/** Incremental CRC-64/XZ. */
export class Crc64 {
  #value = 0n;

  update(buf: Uint8Array): this {
    const fast = buf.length >= WASM_THRESHOLD ? wasmKernel() : null;
    if (fast) {
      this.#value = fast.update(this.#value, buf);
    } else {
      const r = updateLanes(toLanes(~this.#value & 0xffffffffffffffffn), buf);
      this.#value = (BigInt(~r.hi >>> 0) << 32n) | BigInt(~r.lo >>> 0);
    }
    return this;
  }

  /** The CRC as an unsigned 64-bit integer. */
  value(): bigint {
    return this.#value;
  }

  /** The CRC as COS prints it: unsigned decimal. */
  toDecimal(): string {
    return this.#value.toString(10);
  }
}

/** The JavaScript loop alone, for tests that compare it with the WebAssembly kernel. */
export function crc64Js(buf: Uint8Array): bigint {
  const r = updateLanes({ lo: 0xffffffff, hi: 0xffffffff }, buf);
  return (BigInt(~r.hi >>> 0) << 32n) | BigInt(~r.lo >>> 0);
}

export function crc64(buf: Uint8Array): bigint {
  return new Crc64().update(buf).value();
}

// --- combine: CRC(A || B) from CRC(A), CRC(B) and len(B), by multiplication modulo the polynomial
// (the method zlib uses for crc32_combine, widened to 64 bits). Values are reflected: the top bit is x^0.

interface Lanes {
  hi: number;
  lo: number;
}

function multModP(a: Lanes, b: Lanes): Lanes {
  let phi = 0;
  let plo = 0;
  let bhi = b.hi;
  let blo = b.lo;
  for (let i = 0; i < 64; i++) {
    const bit = i < 32 ? (a.hi >>> (31 - i)) & 1 : (a.lo >>> (63 - i)) & 1;
    if (bit) {
      phi ^= bhi;
      plo ^= blo;
    }
    const carry = blo & 1;
    blo = (blo >>> 1) | ((bhi & 1) << 31);
    bhi >>>= 1;
    if (carry) {
      bhi ^= POLY_HI;
      blo ^= POLY_LO;
    }
  }
  return { hi: phi >>> 0, lo: plo >>> 0 };
}

// X2N[k] = x^(2^k) mod P
const X2N: Lanes[] = [{ hi: 1 << 30, lo: 0 }];
for (let k = 1; k < 64; k++) X2N.push(multModP(X2N[k - 1]!, X2N[k - 1]!));

const shiftCache = new Map<number, Lanes>();

/** x^(8 * bytes) mod P, cached because most parts of an upload share one length. */
function shiftFor(bytes: number): Lanes {
  const cached = shiftCache.get(bytes);
  if (cached) return cached;
  let p: Lanes = { hi: 0x80000000, lo: 0 };
  let n = bytes;
  let k = 3;
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k % 64]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  if (shiftCache.size > 1024) shiftCache.clear();
  shiftCache.set(bytes, p);
  return p;
}

function toLanes(v: bigint): Lanes {
  return { hi: Number((v >> 32n) & 0xffffffffn), lo: Number(v & 0xffffffffn) };
}

/** CRC-64 of the concatenation A||B, given crc(A), crc(B) and the byte length of B. */
export function crc64Combine(crcA: bigint, crcB: bigint, lengthB: number): bigint {
  if (lengthB === 0) return crcA;
  const r = multModP(shiftFor(lengthB), toLanes(crcA));
  const b = toLanes(crcB);
  return (BigInt((r.hi ^ b.hi) >>> 0) << 32n) | BigInt((r.lo ^ b.lo) >>> 0);
}
