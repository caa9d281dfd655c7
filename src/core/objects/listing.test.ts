import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterPrefix, listWithRollup } from './listing.ts';

// Keys in byte order, as the metadata store returns them: the hidden run sits between '.' and '0'.
const KEYS = ['lib.a', 'lib/1', 'lib/2', 'lib/3', 'lib/dir/4', 'lib0', 'lib0/x', 'other/y', 'z'].sort(
  (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)),
);

function list(options: { prefix?: string; delimiter?: string; limit: number; start?: string }) {
  const prefix = options.prefix ?? '';
  const fetched: number[] = [];
  const result = listWithRollup<string, string>({
    prefix,
    delimiter: options.delimiter ?? '',
    limit: options.limit,
    start: options.start ?? '',
    keyOf: (k) => k,
    cursorOf: (k) => k,
    cursorPast: (p) => afterPrefix(p),
    fetch: async (cursor, limit) => {
      fetched.push(limit);
      return KEYS.filter((k) => k.startsWith(prefix) && k > cursor).slice(0, limit);
    },
    hidden: 'lib/',
  });
  return { result, fetched };
}

/** Pages through with `limit` entries per call, as a client following markers does. */
async function all(options: { prefix?: string; delimiter?: string; limit: number }): Promise<string[]> {
  const seen: string[] = [];
  let start = '';
  for (;;) {
    const { result } = list({ ...options, start });
    const page = await result;
    seen.push(...page.items, ...page.commonPrefixes);
    if (!page.isTruncated) return seen;
    start = page.next!;
  }
}

describe('listWithRollup with a hidden prefix', () => {
  it('leaves out every key under the hidden prefix, in one page or many', async () => {
    const visible = KEYS.filter((k) => !k.startsWith('lib/'));
    for (const limit of [1, 2, 3, 1000]) assert.deepEqual(await all({ limit }), visible, `limit ${limit}`);
  });

  it('rolls up no common prefix for the hidden keys', async () => {
    assert.deepEqual(await all({ delimiter: '/', limit: 1 }), ['lib.a', 'lib0', 'lib0/', 'other/', 'z']);
  });

  it('answers nothing for a prefix inside the hidden run, and the rest for one around it', async () => {
    assert.deepEqual(await all({ prefix: 'lib/', limit: 2 }), []);
    assert.deepEqual(await all({ prefix: 'lib/dir', limit: 2 }), []);
    assert.deepEqual(await all({ prefix: 'lib', limit: 2 }), ['lib.a', 'lib0', 'lib0/x']);
  });

  it('starts after the hidden run when the marker is inside it', async () => {
    const page = await list({ start: 'lib/2', limit: 2 }).result;
    assert.deepEqual(page.items, ['lib0', 'lib0/x']);
  });

  it('skips the run with one more fetch, not one per hidden key', async () => {
    const { result, fetched } = list({ limit: 1000 });
    await result;
    assert.equal(fetched.length, 2);
  });
});
