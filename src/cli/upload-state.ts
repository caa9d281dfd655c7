// Multipart uploads in progress, one small JSON file each under ~/.config/mediahost/uploads/, so that
// running the same command again after Ctrl-C or a crash resumes them (ADR 0008 §6). No secrets.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface UploadRecord {
  version: 1;
  url: string;
  libraryId: string;
  spaceId: string;
  /** The remote path asked for (`/photos/a.jpg`). */
  remotePath: string;
  /** Absolute local path, size and mtime: another file (or a changed one) starts over. */
  localPath: string;
  size: number;
  mtimeMs: number;
  partSize: number;
  confirmKey: string;
  createdAt: string;
}

export type UploadTarget = Pick<UploadRecord, 'url' | 'libraryId' | 'spaceId' | 'remotePath'>;

export const defaultStateDir = (): string => join(homedir(), '.config', 'mediahost', 'uploads');

export class UploadState {
  readonly #dir: string;

  constructor(dir: string = defaultStateDir()) {
    this.#dir = dir;
  }

  #file(target: UploadTarget): string {
    const key = createHash('sha256')
      .update(JSON.stringify([target.url, target.libraryId, target.spaceId, target.remotePath]))
      .digest('hex')
      .slice(0, 32);
    return join(this.#dir, `${key}.json`);
  }

  get(target: UploadTarget): UploadRecord | undefined {
    let record: UploadRecord;
    try {
      record = JSON.parse(readFileSync(this.#file(target), 'utf8')) as UploadRecord;
    } catch {
      // Missing or torn (written by a version that did not rename): nothing to resume.
      return undefined;
    }
    const same =
      record.version === 1 &&
      record.url === target.url &&
      record.libraryId === target.libraryId &&
      record.spaceId === target.spaceId &&
      record.remotePath === target.remotePath;
    return same ? record : undefined;
  }

  /** Written to a temporary file and renamed: a kill -9 leaves the old record or the new one. */
  put(record: UploadRecord): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const file = this.#file(record);
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, file);
  }

  delete(target: UploadTarget): void {
    rmSync(this.#file(target), { force: true });
  }
}
