// CRC-64/XZ: the spec's vectors, the WebAssembly kernel against the JavaScript loop, and combine.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Crc64, crc64, crc64Combine, crc64Js } from './crc64.ts';

const MiB = 1024 * 1024;

describe('crc64', () => {
  it('matches the vectors of spec cos-api §3.3', () => {
    assert.equal(crc64(Buffer.from('')).toString(), '0');
    assert.equal(crc64(Buffer.from('123456789')).toString(), '11051210869376104954');
    assert.equal(crc64(Buffer.from('[Object Content]')).toString(), '16749565679157681890');
    assert.equal(crc64(Buffer.from('hello world')).toString(), '5981764153023615706');
    assert.equal(crc64(Buffer.alloc(MiB, 0x61)).toString(), '6701094182323390671');
    const joined = Buffer.concat([Buffer.alloc(5 * MiB, 0x61), Buffer.from('hello world')]);
    assert.equal(crc64(joined).toString(), '7165309419754790064');
  });

  it('the WebAssembly kernel and the JavaScript loop agree on any length and split', () => {
    for (const n of [1, 7, 8, 9, 4095, 4096, 4097, MiB - 1, MiB, MiB + 1, 2 * MiB + 13]) {
      const data = randomBytes(n);
      const expected = crc64Js(data);
      assert.equal(crc64(data), expected, `length ${n}`);
      const split = new Crc64();
      split.update(data.subarray(0, n >> 1)).update(data.subarray(n >> 1));
      assert.equal(split.value(), expected, `length ${n} in two updates`);
    }
  });

  it('combines part CRCs without the bytes (§3.3)', () => {
    assert.equal(
      crc64Combine(crc64(Buffer.from('12345')), crc64(Buffer.from('6789')), 4).toString(),
      '11051210869376104954',
    );
    const a = Buffer.alloc(MiB, 0x61);
    const b = Buffer.from('hello world');
    assert.equal(crc64Combine(crc64(a), crc64(b), b.length).toString(), '4195052129826024505');
    const parts = [randomBytes(1000), randomBytes(MiB), randomBytes(3)];
    let c = crc64(parts[0]!);
    for (const p of parts.slice(1)) c = crc64Combine(c, crc64(p), p.length);
    assert.equal(c, crc64(Buffer.concat(parts)));
    assert.equal(crc64Combine(c, 0n, 0), c);
  });
});
