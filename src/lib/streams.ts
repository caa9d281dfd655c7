// Stream helpers: a byte-rate throttle for traffic limits, and iteration of Node readables as buffers.

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
