import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAppError } from '../errors.ts';
import { parsePartNumberRange } from './part-range.ts';

describe('partNumberRange', () => {
  it('reads numbers and ranges, ascending and without repeats', () => {
    assert.deepEqual(parsePartNumberRange('1,8-10,20'), [1, 8, 9, 10, 20]);
    assert.deepEqual(parsePartNumberRange(' 3 , 1-2 ,2'), [1, 2, 3]);
    assert.deepEqual(parsePartNumberRange('10000'), [10000]);
    assert.equal(parsePartNumberRange('1-1000').length, 1000);
  });

  it('refuses what it cannot sign, naming the problem', () => {
    const refused = (text: string, why: RegExp) =>
      assert.throws(
        () => parsePartNumberRange(text),
        (err) => isAppError(err) && err.code === 'InvalidArgument' && why.test(err.message),
      );
    refused('', /such as 1,8-10,20/);
    refused('1,,2', /such as/);
    refused('a-b', /such as/);
    refused('0', /from 1 to 10000/);
    refused('9999-10001', /from 1 to 10000/);
    refused('10-8', /10-8 runs backwards/);
    refused('1-1001', /at most 1000/);
    refused('1-600,601-1200', /at most 1000/);
  });
});
