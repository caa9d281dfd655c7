// Small real filesystems for tests of a full disk: a tmpfs (which refuses O_DIRECT, so the blob store
// writes buffered there) or an ext4 image on a loop device (which takes direct I/O). Mounting needs
// root, as on CI; a failure to mount fails the test rather than skipping it.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type SmallFsKind = 'tmpfs' | 'ext4';

export interface SmallFs {
  kind: SmallFsKind;
  /** The mount point. */
  dir: string;
  /** Bytes an unprivileged writer may still use (what the server's statfs sees). */
  freeBytes(): number;
  /**
   * Writes a filler file until `leaveBytes` are free (0: until the disk refuses another byte);
   * returns its path, so the test can free the space again.
   */
  fill(leaveBytes: number): string;
  unmount(): void;
}

const run = (cmd: string, args: string[]): void => {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export function mountSmallFs(kind: SmallFsKind, sizeMiB: number): SmallFs {
  const work = mkdtempSync(join(tmpdir(), `mediahost-${kind}-`));
  const dir = join(work, 'mnt');
  const image = join(work, 'disk.img');
  mkdirSync(dir);
  try {
    if (kind === 'tmpfs') {
      run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
    } else {
      run('truncate', ['-s', `${sizeMiB}M`, image]);
      // -m 0: no blocks kept for root, so root (the test) and statfs's bavail agree on what is free.
      run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
      run('mount', ['-o', 'loop', image, dir]);
    }
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  let fillers = 0;
  const freeBytes = (): number => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    kind,
    dir,
    freeBytes,
    fill(leaveBytes) {
      const path = join(dir, `filler-${++fillers}`);
      const fd = openSync(path, 'w');
      try {
        const block = statfsSync(dir).bsize;
        const big = Buffer.alloc(1024 * 1024, 0xee);
        const small = Buffer.alloc(block, 0xee);
        for (;;) {
          const room = freeBytes() - leaveBytes;
          // Leaving nothing: write blocks until the disk itself says no.
          if (leaveBytes > 0 && room < block) break;
          const chunk = room >= big.length ? big : small;
          try {
            writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
      return path;
    },
    unmount() {
      try {
        run('umount', [dir]);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}
