// One-pass digests over a byte stream: MD5 and CRC-64 for ETags and x-cos-hash-crc64ecma, and the
// S3 x-amz-checksum-* algorithms (CRC32, CRC32C, SHA-1, SHA-256) with their wire encoding (spec §3.4).

import { createHash, type Hash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { Crc64 } from './crc64.ts';

/** S3 `x-amz-checksum-*` algorithms the server verifies; others (crc64nvme) are ignored (§3.4). */
export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'sha1' | 'sha256';
export type DigestName = 'md5' | 'crc64' | ChecksumAlgorithm;

export interface Digests {
  md5?: Buffer;
  crc64?: bigint;
  sha1?: Buffer;
  sha256?: Buffer;
  /** 4 bytes, big-endian. */
  crc32?: Buffer;
  /** 4 bytes, big-endian. */
  crc32c?: Buffer;
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, init and xorout all ones. Slicing-by-8:
// table s maps a byte to its CRC contribution s bytes further back in the 8-byte block.
const CRC32C_POLY = 0x82f63b78;
const CRC32C_TABLE = new Uint32Array(8 * 256);

for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
  CRC32C_TABLE[i] = c >>> 0;
}
for (let s = 1; s < 8; s++) {
  for (let i = 0; i < 256; i++) {
    const prev = CRC32C_TABLE[(s - 1) * 256 + i]!;
    CRC32C_TABLE[s * 256 + i] = (CRC32C_TABLE[prev & 0xff]! ^ (prev >>> 8)) >>> 0;
  }
}

/** Advances a CRC-32C register (pre-inverted form) over `buf`. */
function crc32cUpdate(register: number, buf: Uint8Array): number {
  const T = CRC32C_TABLE;
  let crc = register;
  const n = buf.length;
  const n8 = n - (n & 7);
  let i = 0;
  for (; i < n8; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + buf[i + 4]!]! ^
      T[512 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < n; i++) crc = T[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

/** CRC-32C of a whole buffer, as an unsigned integer. */
export function crc32c(buf: Uint8Array): number {
  return ~crc32cUpdate(0xffffffff, buf) >>> 0;
}

function uint32BigEndian(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

/** Computes the requested digests over the same bytes in one pass. */
export class Digester {
  readonly #md5: Hash | undefined;
  readonly #sha1: Hash | undefined;
  readonly #sha256: Hash | undefined;
  readonly #crc64: Crc64 | undefined;
  #crc32: number | undefined;
  #crc32c: number | undefined;
  #isDone = false;

  constructor(names: Iterable<DigestName>) {
    const wanted = new Set(names);
    this.#md5 = wanted.has('md5') ? createHash('md5') : undefined;
    this.#sha1 = wanted.has('sha1') ? createHash('sha1') : undefined;
    this.#sha256 = wanted.has('sha256') ? createHash('sha256') : undefined;
    this.#crc64 = wanted.has('crc64') ? new Crc64() : undefined;
    this.#crc32 = wanted.has('crc32') ? 0 : undefined;
    this.#crc32c = wanted.has('crc32c') ? 0xffffffff : undefined;
  }

  update(chunk: Uint8Array): void {
    if (this.#isDone) throw new Error('Digester.update after digest');
    this.#md5?.update(chunk);
    this.#sha1?.update(chunk);
    this.#sha256?.update(chunk);
    this.#crc64?.update(chunk);
    if (this.#crc32 !== undefined) this.#crc32 = zlibCrc32(chunk, this.#crc32);
    if (this.#crc32c !== undefined) this.#crc32c = crc32cUpdate(this.#crc32c, chunk);
  }

  /** Finishes every digest; the Digester cannot be used afterwards. */
  digest(): Digests {
    if (this.#isDone) throw new Error('Digester.digest called twice');
    this.#isDone = true;
    const out: Digests = {};
    if (this.#md5) out.md5 = this.#md5.digest();
    if (this.#sha1) out.sha1 = this.#sha1.digest();
    if (this.#sha256) out.sha256 = this.#sha256.digest();
    if (this.#crc64) out.crc64 = this.#crc64.value();
    if (this.#crc32 !== undefined) out.crc32 = uint32BigEndian(this.#crc32);
    if (this.#crc32c !== undefined) out.crc32c = uint32BigEndian(~this.#crc32c);
    return out;
  }
}

const CHECKSUM_ALGORITHMS: ReadonlySet<string> = new Set<ChecksumAlgorithm>([
  'crc32',
  'crc32c',
  'sha1',
  'sha256',
]);
const CHECKSUM_HEADER_PREFIX = 'x-amz-checksum-';

/**
 * Maps `x-amz-checksum-crc32` (any case) or a bare algorithm name such as `CRC32` (as sent in
 * x-amz-sdk-checksum-algorithm) to the algorithm; undefined for algorithms we do not verify.
 */
export function checksumAlgorithmFromHeader(name: string): ChecksumAlgorithm | undefined {
  let lower = name.trim().toLowerCase();
  if (lower.startsWith(CHECKSUM_HEADER_PREFIX)) lower = lower.slice(CHECKSUM_HEADER_PREFIX.length);
  return CHECKSUM_ALGORITHMS.has(lower) ? (lower as ChecksumAlgorithm) : undefined;
}

/** The x-amz-checksum-<alg> value: base64 of the big-endian digest bytes (§3.4). */
export function encodeChecksum(alg: ChecksumAlgorithm, digests: Digests): string {
  const bytes = digests[alg];
  if (!bytes) throw new Error(`digest ${alg} was not computed`);
  return bytes.toString('base64');
}
