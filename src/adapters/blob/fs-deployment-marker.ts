// The deployment marker of the filesystem blob store: ROOT/.mediahost-deployment beside the blob
// directories (the store's listing reads only those, so the marker is never taken for a blob).
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomHex } from '../../core/ids.ts';
import { type DeploymentMarker, MARKER_NAME } from '../../ports/deployment-marker.ts';

export class FsDeploymentMarker implements DeploymentMarker {
  readonly location: string;
  readonly settings = '--data-dir';
  readonly #path: string;

  constructor(root: string) {
    this.location = root;
    this.#path = join(root, MARKER_NAME);
  }

  async read(): Promise<string | undefined> {
    try {
      return await readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async write(text: string): Promise<void> {
    await mkdir(this.location, { recursive: true });
    const tmp = `${this.#path}.${randomHex(4)}`;
    await writeFile(tmp, text, { flush: true });
    await rename(tmp, this.#path);
    const dir = await open(this.location, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async fileLibraries(_limit: number): Promise<string[]> {
    return [];
  }
}
