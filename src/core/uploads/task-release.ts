// What an unconfirmed upload task holds in the object store, and freeing it: its multipart upload or
// object, and the grants handed out for it. Used by cancel, expiry and the deletion of its space.
import type { ObjectStore } from '../../ports/object-store.ts';
import type { LibraryRecord } from '../libraries/model.ts';
import type { UploadTaskRecord } from './model.ts';

export async function releaseTask(
  objects: ObjectStore,
  library: LibraryRecord,
  task: UploadTaskRecord,
): Promise<void> {
  const loc = { library, key: task.objectKey };
  if (task.uploadId && !task.objectReady) await objects.abortMultipartUpload(loc, task.uploadId);
  // Also for a multipart task: a Complete that succeeded without being recorded left the object.
  await objects.deleteObject(loc);
  await objects.revokeGrants(loc, task.uploadId ?? undefined);
}
