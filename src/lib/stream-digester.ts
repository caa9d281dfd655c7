// Digests of a body fed chunk by chunk, with backpressure: the in-thread digester here, the pooled one
// off the main thread in adapters/hashing/hash-pool.ts.
import { Digester, type DigestName, type Digests } from './checksums.ts';

/** A digester fed from a stream: update may ask the caller to wait (backpressure). */
export interface StreamDigester {
  update(chunk: Uint8Array): Promise<void> | undefined;
  digest(): Promise<Digests>;
  /** Forget the state (the body was abandoned). */
  discard(): void;
}

/** The in-thread digester, for small bodies where a worker round trip costs more than it saves. */
export function inlineDigester(names: Iterable<DigestName>): StreamDigester {
  const digester = new Digester(names);
  return {
    update(chunk) {
      digester.update(chunk);
      return undefined;
    },
    digest: async () => digester.digest(),
    discard() {},
  };
}
