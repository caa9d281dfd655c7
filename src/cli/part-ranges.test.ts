import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partRanges, partSizeFor } from './part-ranges.ts';

const MiB = 1024 * 1024;

describe('part ranges', () => {
  it('writes part numbers as the shortest partNumberRange', () => {
    assert.equal(partRanges([1, 2, 3, 4]), '1-4');
    assert.equal(partRanges([1, 3, 4, 5, 9, 11, 12]), '1,3-5,9,11-12');
    assert.equal(partRanges([7]), '7');
    assert.equal(partRanges([]), '');
  });

  it('grows the part size to whole MiB when a file would need more than 10000 parts', () => {
    assert.equal(partSizeFor(50 * MiB, 8 * MiB), 8 * MiB);
    assert.equal(partSizeFor(10_000 * MiB, MiB), MiB);
    assert.equal(partSizeFor(10_000 * MiB + 1, MiB), 2 * MiB);
    assert.ok(Math.ceil((200 * 1024 * MiB) / partSizeFor(200 * 1024 * MiB, 8 * MiB)) <= 10_000);
  });
});
