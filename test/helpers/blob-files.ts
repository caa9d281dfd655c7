// Looks at the embedded blob store on disk, to prove that no bytes are left behind.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Blob files under a data dir, and leftover temporary files. */
export function blobFiles(dataDir: string): { blobs: string[]; temporary: string[] } {
  const root = join(dataDir, 'blobs');
  const blobs: string[] = [];
  for (const a of readdirSync(root)) {
    // .tmp holds temporary files; .mediahost-deployment is the store's deployment marker.
    if (a.startsWith('.')) continue;
    // ROOT/a/<key>, or ROOT/ab/cd/<key> in stores written before 2026-11-22.
    if (a.length === 1) blobs.push(...readdirSync(join(root, a)));
    else for (const b of readdirSync(join(root, a))) blobs.push(...readdirSync(join(root, a, b)));
  }
  return { blobs, temporary: readdirSync(join(root, '.tmp')) };
}
