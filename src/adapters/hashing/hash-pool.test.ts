// The worker-thread digests must equal the in-thread ones, whatever the chunking, and a digester
// that outruns its worker must be made to wait rather than queue without bound.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Digester, type DigestName } from '../../lib/checksums.ts';
import { inlineDigester } from '../../lib/stream-digester.ts';
import { HashPool } from './hash-pool.ts';

describe('HashPool', () => {
  const pool = new HashPool(2);
  after(() => pool.close());
  const names: DigestName[] = ['md5', 'crc64', 'crc32', 'sha1', 'sha256'];

  it('produces the same digests as the in-thread Digester, across batch boundaries', async () => {
    for (const size of [0, 1, 4095, 1024 * 1024 - 1, 1024 * 1024, 3 * 1024 * 1024 + 17]) {
      const data = randomBytes(size);
      const expected = new Digester(names);
      expected.update(data);
      const want = expected.digest();
      const pooled = pool.digester(names);
      for (let off = 0; off < size; off += 65_000) await pooled.update(data.subarray(off, off + 65_000));
      const got = await pooled.digest();
      assert.deepEqual(got, want, `size ${size}`);
    }
  });

  it('hashes concurrent streams independently', async () => {
    const inputs = Array.from({ length: 6 }, () => randomBytes(2 * 1024 * 1024 + 5));
    const results = await Promise.all(
      inputs.map(async (data) => {
        const d = pool.digester(['md5', 'crc64']);
        for (let off = 0; off < data.length; off += 100_000)
          await d.update(data.subarray(off, off + 100_000));
        return d.digest();
      }),
    );
    results.forEach((r, i) => {
      const expected = new Digester(['md5', 'crc64']);
      expected.update(inputs[i]!);
      assert.deepEqual(r, expected.digest());
    });
  });

  it('applies backpressure instead of queueing without bound', async () => {
    const d = pool.digester(['md5']);
    const chunk = randomBytes(1024 * 1024);
    let waits = 0;
    for (let i = 0; i < 64; i++) {
      const wait = d.update(chunk);
      if (wait) {
        waits++;
        await wait;
      }
    }
    await d.digest();
    assert.ok(waits > 0, 'a fast producer had to wait for the worker');
  });

  it('supports tells which digests the workers compute', () => {
    assert.equal(HashPool.supports(['md5', 'crc64', 'crc32']), true);
    assert.equal(HashPool.supports(['md5', 'crc32c']), false);
  });

  it('the inline digester matches too', async () => {
    const data = randomBytes(100_000);
    const d = inlineDigester(['md5', 'crc32c']);
    d.update(data);
    const expected = new Digester(['md5', 'crc32c']);
    expected.update(data);
    assert.deepEqual(await d.digest(), expected.digest());
  });
});
