// The instant-upload hashes of spec smh §3.2: beginningHash is the SHA-256 of the first MiB, fullHash
// chains SHA-256 over 1 MiB blocks (h1 = H(B1), hi = H(raw(h(i-1)) || Bi)).
import { createHash } from 'node:crypto';

const BLOCK = 1024 * 1024;

export interface InstantHashes {
  beginningHash: string;
  fullHash: string;
}

export async function instantHashes(source: AsyncIterable<Uint8Array>): Promise<InstantHashes> {
  let previous: Buffer | undefined;
  let beginning: string | undefined;
  let block = createHash('sha256');
  let inBlock = 0;
  const closeBlock = (): void => {
    previous = block.digest();
    beginning ??= previous.toString('hex');
    block = createHash('sha256');
    block.update(previous);
    inBlock = 0;
  };
  for await (const chunk of source) {
    for (let off = 0; off < chunk.length; ) {
      const n = Math.min(BLOCK - inBlock, chunk.length - off);
      block.update(chunk.subarray(off, off + n));
      inBlock += n;
      off += n;
      if (inBlock === BLOCK) closeBlock();
    }
  }
  if (inBlock > 0 || previous === undefined) closeBlock();
  return { beginningHash: beginning!, fullHash: previous!.toString('hex') };
}
