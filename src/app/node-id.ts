// The id of this node: random at the first start on a data dir, then read back at every later start,
// so that a restarted node recognises the work its previous run left unfinished (confirm leases).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomString } from '../core/ids.ts';

const FILE = 'node-id';
const VALID = /^[0-9a-z]{16}$/;

export function nodeIdOf(dataDir: string): string {
  const path = join(dataDir, FILE);
  const read = (): string | undefined => {
    try {
      const id = readFileSync(path, 'utf8').trim();
      return VALID.test(id) ? id : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const existing = read();
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const id = randomString(16, '0123456789abcdefghijklmnopqrstuvwxyz');
  try {
    // wx: of two processes starting at once on one data dir, the first writer's id wins.
    writeFileSync(path, `${id}\n`, { flag: 'wx' });
    return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = read();
    if (!winner) throw new Error(`${path} is not a valid node id; delete it to get a new one`);
    return winner;
  }
}
