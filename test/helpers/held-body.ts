// A request body that sends bytes up to a point, then holds until the test releases it: an upload
// the test knows to be in flight, without guessing how long that takes on a loaded machine.

export interface HeldBody {
  stream: ReadableStream<Uint8Array>;
  /** Bytes handed to the HTTP client so far. */
  sent(): number;
  /** Resolves once `holdAt` bytes went out and the body waits for release(). */
  held: Promise<void>;
  release(): void;
}

export function heldBody(total: number, holdAt: number, chunkSize: number): HeldBody {
  let sent = 0;
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let hold!: () => void;
  const held = new Promise<void>((r) => {
    hold = r;
  });
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= holdAt) {
        hold();
        await released;
      }
      if (sent >= total) {
        controller.close();
        return;
      }
      const n = Math.min(chunkSize, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(5));
    },
  });
  return { stream, sent: () => sent, held, release };
}

const MiB = 1024 * 1024;

/**
 * A body the server is surely reading once `held` resolves: more bytes than loopback socket buffers
 * hold have gone out by then (24 of 48 MiB), and the rest waits for release().
 */
export function bodyInFlight(): HeldBody & { total: number } {
  const total = 48 * MiB;
  return { ...heldBody(total, 24 * MiB, MiB), total };
}
