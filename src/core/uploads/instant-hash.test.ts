// The chained hashes of spec smh §3.2, checked against a direct computation of the definition.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { instantHashes } from './instant-hash.ts';

const MiB = 1024 * 1024;

function reference(data: Buffer): { beginningHash: string; fullHash: string } {
  const beginningHash = createHash('sha256').update(data.subarray(0, MiB)).digest('hex');
  let h: Buffer | undefined;
  for (let off = 0; off < Math.max(data.length, 1); off += MiB) {
    const hash = createHash('sha256');
    if (h) hash.update(h);
    hash.update(data.subarray(off, off + MiB));
    h = hash.digest();
  }
  return { beginningHash, fullHash: h!.toString('hex') };
}

async function* chunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

describe('instant-upload hashes', () => {
  it('match the definition for sizes around block boundaries, however the bytes are split', async () => {
    for (const size of [0, 10, MiB - 1, MiB, MiB + 1, 3 * MiB, 3 * MiB + 77]) {
      const data = randomBytes(size);
      assert.deepEqual(await instantHashes(chunks(data, 65_537)), reference(data), `size ${size}`);
    }
  });

  it('fullHash equals beginningHash for a file of at most one MiB', async () => {
    const h = await instantHashes(chunks(randomBytes(MiB), MiB));
    assert.equal(h.fullHash, h.beginningHash);
  });
});
