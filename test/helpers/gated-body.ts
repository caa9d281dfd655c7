// A request body the test feeds chunk by chunk, to hold an upload open at a chosen point.

export interface GatedBody {
  stream: ReadableStream<Uint8Array>;
  /** Queues a chunk; null ends the body. */
  push(chunk: Uint8Array | null): void;
}

export function gatedBody(): GatedBody {
  const queue: (Uint8Array | null)[] = [];
  let wake: (() => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const next = queue.shift()!;
      if (next === null) controller.close();
      else controller.enqueue(next);
    },
  });
  return {
    stream,
    push(chunk) {
      queue.push(chunk);
      wake?.();
    },
  };
}
