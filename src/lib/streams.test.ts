// Tests for untilAborted and idleTimeout. untilAborted: it ends a stalled read as soon as the signal aborts, and it does not keep
// the chunks it has already handed on alive (a Promise.race against one long-lived abort promise
// would, and that turned every uploaded chunk into old-generation garbage).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { idleTimeout, untilAborted } from './streams.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A source whose reads wait until `release` is called, one chunk per release. */
function gatedSource(): { source: AsyncIterable<Uint8Array>; release: () => void; returned: () => boolean } {
  let wake: (() => void) | undefined;
  let returned = false;
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      return {
        next: () =>
          new Promise<IteratorResult<Uint8Array>>((resolve) => {
            wake = () => resolve({ value: new Uint8Array(1024), done: false });
          }),
        return: async () => {
          returned = true;
          return { value: undefined, done: true };
        },
      };
    },
  };
  return { source, release: () => wake?.(), returned: () => returned };
}

describe('untilAborted', () => {
  it('passes every chunk through and ends with the source', async () => {
    async function* source() {
      for (let i = 0; i < 5; i++) yield new Uint8Array([i]);
    }
    const seen: number[] = [];
    for await (const chunk of untilAborted(source(), new AbortController().signal)) seen.push(chunk[0]!);
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  });

  it('rejects a read that is waiting on the source as soon as the signal aborts', async () => {
    const { source, release, returned } = gatedSource();
    const controller = new AbortController();
    const iterator = untilAborted(source, controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    release();
    assert.equal((await first).done, false);
    const stalled = iterator.next();
    const reason = new Error('client went away');
    controller.abort(reason);
    await assert.rejects(stalled, (err) => err === reason);
    assert.equal(returned(), true, 'the source is told to stop');
  });

  it('refuses to start reading once the signal has aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('already gone'));
    async function* source() {
      yield new Uint8Array(1);
    }
    await assert.rejects(untilAborted(source(), controller.signal).next(), /already gone/);
  });

  it('does not keep chunks it has handed on reachable while the body continues', async () => {
    const controller = new AbortController();
    const refs: WeakRef<Uint8Array>[] = [];
    async function* source() {
      for (let i = 0; i < 64; i++) {
        const chunk = new Uint8Array(64 * 1024);
        refs.push(new WeakRef(chunk));
        yield chunk;
      }
    }
    let count = 0;
    for await (const chunk of untilAborted(source(), controller.signal)) {
      count += chunk.length > 0 ? 1 : 0;
      if (count === 48) {
        // Let the current iteration's locals go before collecting.
        await new Promise((resolve) => setImmediate(resolve));
        gc();
        const alive = refs.slice(0, 40).filter((ref) => ref.deref() !== undefined).length;
        assert.equal(alive, 0, `${alive} of the first 40 chunks are still reachable`);
      }
    }
    assert.equal(count, 64);
  });
});

describe('idleTimeout', () => {
  it('passes every chunk through and ends with the source', async () => {
    async function* source() {
      for (let i = 0; i < 5; i++) yield new Uint8Array([i]);
    }
    const seen: number[] = [];
    for await (const chunk of idleTimeout(source(), 10_000, () => new Error('idle'))) seen.push(chunk[0]!);
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  });

  it('fails a read the source leaves waiting longer than the limit, after earlier chunks passed', async () => {
    const { source, release } = gatedSource();
    const iterator = idleTimeout(source, 50, () => new Error('no byte for 50 ms'))[Symbol.asyncIterator]();
    const first = iterator.next();
    release();
    assert.equal((await first).done, false);
    await assert.rejects(iterator.next(), /no byte for 50 ms/);
  });

  it('does not count the time the consumer spends on a chunk', async () => {
    // The source answers at once, so no read ever waits, however long the consumer takes.
    async function* source() {
      for (let i = 0; i < 3; i++) yield new Uint8Array([i]);
    }
    let count = 0;
    for await (const _chunk of idleTimeout(source(), 20, () => new Error('idle'))) {
      count++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(count, 3);
  });

  it('does not keep chunks it has handed on reachable while the body continues', async () => {
    const refs: WeakRef<Uint8Array>[] = [];
    async function* source() {
      for (let i = 0; i < 64; i++) {
        const chunk = new Uint8Array(64 * 1024);
        refs.push(new WeakRef(chunk));
        yield chunk;
      }
    }
    let count = 0;
    for await (const chunk of idleTimeout(source(), 10_000, () => new Error('idle'))) {
      count += chunk.length > 0 ? 1 : 0;
      if (count === 48) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
        const alive = refs.slice(0, 40).filter((ref) => ref.deref() !== undefined).length;
        assert.equal(alive, 0, `${alive} of the first 40 chunks are still reachable`);
      }
    }
    assert.equal(count, 64);
  });
});
