// What the filesystem store does when the disk itself refuses bytes. A child process runs with a
// file-size limit (`ulimit -f`), so writes past it fail with EFBIG the way a full disk fails with
// ENOSPC: the write must reject with that error and leave no blob and no temporary file, in both
// write modes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const storeModule = new URL('./fs-blob-store.ts', import.meta.url).href;

/** Runs one write of `mib` MiB in a child limited to `limitKib` KiB per file; what it printed. */
function writeUnderLimit(root: string, directIo: boolean, mib: number, limitKib: number): unknown {
  const script = `
    import { FsBlobStore } from ${JSON.stringify(storeModule)};
    const store = new FsBlobStore(process.argv[1], { directIo: process.argv[2] === 'true', fsyncDirectories: false });
    await store.init();
    async function* body() { for (let i = 0; i < ${mib} * 16; i++) yield new Uint8Array(65536).fill(i); }
    try {
      const written = await store.write(body());
      console.log(JSON.stringify({ ok: true, size: written.size }));
    } catch (err) {
      console.log(JSON.stringify({ ok: false, code: err.code }));
    }
  `;
  // ulimit -f counts 1 KiB blocks in bash.
  const out = execFileSync(
    'bash',
    [
      '-c',
      `ulimit -f ${limitKib} && exec "$0" "$@"`,
      process.execPath,
      '--input-type=module',
      '-e',
      script,
      root,
      String(directIo),
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out.trim());
}

/** Every file under the store's root that is not a directory. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('FsBlobStore on a disk that refuses bytes', () => {
  for (const directIo of [true, false]) {
    const mode = directIo ? 'direct I/O' : 'buffered';
    it(`${mode}: a write past the limit fails with the disk's error and leaves nothing`, () => {
      const root = mkdtempSync(join(tmpdir(), 'mediahost-efbig-'));
      try {
        assert.deepEqual(writeUnderLimit(root, directIo, 6, 3 * 1024), { ok: false, code: 'EFBIG' });
        assert.deepEqual(filesUnder(root), [], 'no blob and no temporary file');
        // Under the limit the same store writes normally (the limit, not the code, refused the bytes).
        assert.deepEqual(writeUnderLimit(root, directIo, 2, 3 * 1024), { ok: true, size: 2 * 1024 * 1024 });
        assert.equal(filesUnder(root).length, 1);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});
