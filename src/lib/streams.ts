// Stream helpers: a byte-rate throttle for traffic limits, iteration of Node readables as buffers, and
// iteration that ends as soon as a signal aborts.

/** Yields the source's chunks no faster than `bytesPerSecond` (token bucket, one second of burst). */
export async function* throttle(
  source: AsyncIterable<Uint8Array>,
  bytesPerSecond: number,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const started = performance.now();
  let sent = 0;
  for await (const chunk of source) {
    for (let offset = 0; offset < chunk.length; ) {
      // Cut large chunks so the pace stays smooth even with MiB-sized reads.
      const piece = chunk.subarray(offset, offset + Math.max(1024, Math.floor(bytesPerSecond / 10)));
      offset += piece.length;
      sent += piece.length;
      const due = started + ((sent - bytesPerSecond) / bytesPerSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, wait);
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              reject(signal.reason);
            },
            { once: true },
          );
        });
      }
      yield piece;
    }
  }
}

/**
 * The source's chunks, ending with signal.reason as soon as the signal aborts. pipeline() alone does
 * not do this: on abort it still waits for a pending next() of an async-iterable source, so a client
 * that stops sending would keep the write (and its temporary file) open until it sends again.
 *
 * Each read gets its own promise, and the one abort listener rejects whichever read is pending. A
 * `Promise.race([iterator.next(), aborted])` per read would be simpler but keeps every chunk alive:
 * each race leaves a reaction on the long-lived `aborted` promise that holds the race's settled
 * result, so all the chunks of a body stay reachable until it ends, get promoted to the old
 * generation and count as external memory there. With 4 bodies of 8 MiB streaming in, that forced
 * a full mark-compact every 50-100 ms (bench/README.md).
 */
export async function* untilAborted(
  source: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  let rejectPending: ((reason: unknown) => void) | undefined;
  const onAbort = (): void => rejectPending?.(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      signal.throwIfAborted();
      const next = await new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
        rejectPending = reject;
        iterator.next().then(resolve, reject);
      });
      rejectPending = undefined;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    rejectPending = undefined;
    signal.removeEventListener('abort', onAbort);
    // Lets the source release what it holds once its pending read settles; never waits for it.
    iterator.return?.().catch(() => {});
  }
}

/**
 * The source's chunks, failing with `onIdle()` when a read waits more than `ms` for its chunk. Only
 * time spent waiting on the source counts: a consumer that takes long over a chunk is not idle time.
 * Reads are shaped like untilAborted's (one promise each, no race against a long-lived promise).
 */
export async function* idleTimeout<T>(
  source: AsyncIterable<T>,
  ms: number,
  onIdle: () => Error,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let rejectPending: ((reason: unknown) => void) | undefined;
  const timer = setTimeout(() => rejectPending?.(onIdle()), ms);
  // A pending read keeps its own handle (a socket) alive; the timer alone must not hold the process.
  timer.unref();
  try {
    for (;;) {
      const next = await new Promise<IteratorResult<T>>((resolve, reject) => {
        rejectPending = reject;
        timer.refresh();
        iterator.next().then(resolve, reject);
      });
      rejectPending = undefined;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    clearTimeout(timer);
    rejectPending = undefined;
    // Lets the source release what it holds once its pending read settles; never waits for it.
    iterator.return?.().catch(() => {});
  }
}
