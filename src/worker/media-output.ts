// Stores what a media task wrote as files of the library, all or nothing: every object is written
// first, then one transaction creates the output directory (if any) and every file, so a failure
// (quota, a vanished space, a crash) leaves neither a half-made directory nor a partial set of files.
// The objects of a set that was not recorded are deleted again.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAppError } from '../core/errors.ts';
import type { LibraryRecord } from '../core/libraries/model.ts';
import { hlsSegments } from '../core/media/edit-plan.ts';
import { type NamespaceService, newObjectKey, ROOT } from '../core/namespace/namespace-service.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { ObjectStore, StoredObjectInfo } from '../ports/object-store.ts';
import { JobFailure } from './job-runner.ts';

export interface StoredFile {
  assetId: string;
  name: string;
  size: number;
}

/** One local file to store: its path, the name it gets, and the inode id it must get (the asset id). */
export interface OutputFile {
  path: string;
  name: string;
  contentType: string;
  id?: string;
}

export interface OutputTarget {
  spaceId: string;
  parentId: string;
  userId: string;
  /** A new directory (renamed if the name is taken) under parentId that receives the files. */
  directory?: string;
}

export interface OutputDeps {
  store: MetadataStore;
  objects: ObjectStore;
  namespace: NamespaceService;
}

export const HLS_CONTENT_TYPE = 'application/vnd.apple.mpegurl';
const SEGMENT_CONTENT_TYPE = 'video/mp2t';

/** Errors of placing the files that a retry cannot fix end the task with their own code. */
function asFailure(err: unknown): unknown {
  if (isAppError(err) && err.code !== 'PathConflict' && err.code !== 'ServiceUnavailable')
    return new JobFailure(err.code, err.message, false);
  return err;
}

export async function storeOutputs(
  deps: OutputDeps,
  library: LibraryRecord,
  target: OutputTarget,
  files: readonly OutputFile[],
): Promise<{ directory?: string; files: StoredFile[] }> {
  const written: { file: OutputFile; key: string; object: StoredObjectInfo }[] = [];
  const discard = () =>
    Promise.all(written.map((w) => deps.objects.deleteObject({ library, key: w.key }).catch(() => {})));
  try {
    for (const file of files) {
      const key = newObjectKey(library.id);
      const object = await deps.objects.putFile({ library, key }, file.path, {
        contentType: file.contentType,
      });
      written.push({ file, key, object });
    }
    return await deps.store.transaction(async (tx) => {
      const space = await tx.spaces.get(library.id, target.spaceId);
      if (!space) throw new JobFailure('VOD.10062', `Space ${target.spaceId} no longer exists.`, false);
      // The output directory may have been deleted while the task ran: the root receives the output.
      const parentExists =
        target.parentId === ROOT || (await tx.inodes.get(library.id, target.spaceId, target.parentId));
      let parentId = parentExists ? target.parentId : ROOT;
      let directory: string | undefined;
      if (target.directory !== undefined) {
        const dir = await deps.namespace.placeDirectory(tx, {
          space,
          parentId,
          name: target.directory,
          strategy: 'rename',
          userId: target.userId,
        });
        parentId = directory = dir.id;
      }
      const stored: StoredFile[] = [];
      for (const { file, key, object } of written) {
        const placed = await deps.namespace.placeFile(tx, {
          space,
          parentId,
          name: file.name,
          strategy: 'rename',
          userId: target.userId,
          content: {
            size: object.size,
            contentType: file.contentType,
            etag: object.etag,
            crc64: object.crc64,
            objectKey: key,
            meta: {},
            attributes: {},
            beginningHash: null,
            fullHash: null,
          },
          ...(file.id ? { id: file.id } : {}),
        });
        stored.push({ assetId: placed.inode.id, name: placed.inode.name, size: placed.inode.size });
      }
      return { ...(directory ? { directory } : {}), files: stored };
    });
  } catch (err) {
    await discard();
    throw asFailure(err);
  }
}

/**
 * An HLS run's files: the playlist (named `name`, keeping `id`) and, beside it, every segment it
 * lists under the name it lists it by, so the stored playlist's relative URIs resolve to them.
 */
export async function hlsOutputFiles(
  dir: string,
  playlist: string,
  output: { name: string; id?: string },
): Promise<OutputFile[]> {
  const segments = hlsSegments(await readFile(join(dir, playlist), 'utf8'));
  for (const segment of segments) {
    // ffmpeg names them from a plain base (edit-plan checks it): anything else is not ours to store.
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(segment))
      throw new JobFailure('TASK_FAILED', `The playlist lists an unexpected segment '${segment}'.`, false);
  }
  if (segments.length === 0) throw new JobFailure('TASK_FAILED', 'The playlist lists no segment.', false);
  return [
    {
      path: join(dir, playlist),
      name: output.name,
      contentType: HLS_CONTENT_TYPE,
      ...(output.id ? { id: output.id } : {}),
    },
    ...segments.map((segment) => ({
      path: join(dir, segment),
      name: segment,
      contentType: SEGMENT_CONTENT_TYPE,
    })),
  ];
}
