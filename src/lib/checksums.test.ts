// Tests for the one-pass Digester and the S3 checksum header helpers (spec §3.1, §3.3, §3.4).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  checksumAlgorithmFromHeader,
  crc32c,
  Digester,
  type DigestName,
  encodeChecksum,
} from './checksums.ts';

const ALL: DigestName[] = ['md5', 'crc64', 'sha1', 'sha256', 'crc32', 'crc32c'];

function digestOf(data: Uint8Array, names: DigestName[] = ALL) {
  const d = new Digester(names);
  d.update(data);
  return d.digest();
}

/** Bit-at-a-time CRC-32C, the definition the table version must agree with. */
function crc32cReference(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('Digester', () => {
  it('matches the hello world vectors', () => {
    const d = digestOf(Buffer.from('hello world'));
    assert.equal(d.md5?.toString('hex'), '5eb63bbbe01eeed093cb22bb8f5acdc3');
    assert.equal(d.md5?.toString('base64'), 'XrY7u+Ae7tCTyyK7j1rNww==');
    assert.equal(d.sha1?.toString('hex'), '2aae6c35c94fcfb415dbe95f408b9ce91ee846ed');
    assert.equal(
      d.sha256?.toString('hex'),
      'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
    );
    assert.equal(d.crc64, 5981764153023615706n);
    assert.equal(d.crc32?.toString('hex'), '0d4a1185');
    assert.equal(encodeChecksum('crc32', d), 'DUoRhQ==');
  });

  it('matches the 123456789 check values', () => {
    const d = digestOf(Buffer.from('123456789'));
    assert.equal(encodeChecksum('crc32', d), 'y/Q5Jg==');
    assert.equal(d.crc32c?.toString('hex'), 'e3069283');
    assert.equal(encodeChecksum('crc32c', d), '4waSgw==');
    assert.equal(d.crc64, 11051210869376104954n);
  });

  it('handles the empty input', () => {
    const d = digestOf(Buffer.alloc(0));
    assert.equal(d.md5?.toString('hex'), 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(d.crc32?.toString('hex'), '00000000');
    assert.equal(d.crc32c?.toString('hex'), '00000000');
    assert.equal(d.crc64, 0n);
  });

  it('matches the spec MD5 vectors for large inputs', () => {
    assert.equal(
      digestOf(Buffer.alloc(5 * 1024 * 1024, 'a'), ['md5']).md5?.toString('hex'),
      '79b281060d337b9b2b84ccf390adcf74',
    );
    assert.equal(
      digestOf(Buffer.from('ObjectContent'), ['md5']).md5?.toString('base64'),
      'mQ/fVh815F3k6TAUm8m0eg==',
    );
  });

  it('computes only the requested digests', () => {
    const d = digestOf(Buffer.from('x'), ['crc32c', 'sha256']);
    assert.deepEqual(Object.keys(d).sort(), ['crc32c', 'sha256']);
    assert.throws(() => encodeChecksum('sha1', d), /sha1/);
  });

  it('gives the same result however the input is split', () => {
    const data = randomBytes(100_003);
    const whole = digestOf(data);
    const split = new Digester(ALL);
    let pos = 0;
    for (const size of [1, 7, 8, 9, 4096, 3, 65_536]) {
      split.update(data.subarray(pos, pos + size));
      pos += size;
    }
    split.update(data.subarray(pos));
    assert.deepEqual(split.digest(), whole);
  });

  it('agrees with a bitwise CRC-32C at every length and alignment', () => {
    const data = randomBytes(300);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 13) {
        const slice = data.subarray(start, end);
        assert.equal(crc32c(slice), crc32cReference(slice));
      }
    }
  });

  it('refuses to be used after digest', () => {
    const d = new Digester(['md5']);
    d.digest();
    assert.throws(() => d.update(Buffer.from('a')));
    assert.throws(() => d.digest());
  });
});

describe('checksumAlgorithmFromHeader', () => {
  it('accepts header names and bare algorithm names in any case', () => {
    assert.equal(checksumAlgorithmFromHeader('x-amz-checksum-crc32'), 'crc32');
    assert.equal(checksumAlgorithmFromHeader('X-Amz-Checksum-CRC32C'), 'crc32c');
    assert.equal(checksumAlgorithmFromHeader('CRC32'), 'crc32');
    assert.equal(checksumAlgorithmFromHeader('SHA256'), 'sha256');
    assert.equal(checksumAlgorithmFromHeader('x-amz-checksum-sha1'), 'sha1');
  });

  it('returns undefined for unsupported algorithms and unrelated headers', () => {
    assert.equal(checksumAlgorithmFromHeader('x-amz-checksum-crc64nvme'), undefined);
    assert.equal(checksumAlgorithmFromHeader('x-amz-checksum-mode'), undefined);
    assert.equal(checksumAlgorithmFromHeader('x-amz-checksum-algorithm'), undefined);
    assert.equal(checksumAlgorithmFromHeader('content-md5'), undefined);
  });
});
