// Every operation of the media-task API family (spec vod-tasks §1): Huawei VOD's editing and asset task
// endpoints and the MPC editing/transcoding paths beside them. Each row is one route; implemented rows
// are defined with their schemas and handler in handlers/*.ts, the others answer 501.
import * as assetTasks from './handlers/asset-tasks.ts';
import * as editTasks from './handlers/edit-tasks.ts';
import { missing, type VodOperation } from './operation.ts';

export const VOD_OPERATIONS: readonly VodOperation[] = [
  editTasks.createAssetEditTask,
  editTasks.listAssetEditTask,
  editTasks.deleteAssetEditTask,
  assetTasks.createAssetProcessTask,
  assetTasks.cancelAssetTranscodeTask,
  assetTasks.listAssetTaskInfo,
  missing({ name: 'CreateExtractAudioTask', method: 'POST', path: '/v1.0/{project_id}/asset/extract_audio' }),
  missing({
    name: 'CancelExtractAudioTask',
    method: 'DELETE',
    path: '/v1.0/{project_id}/asset/extract_audio',
  }),
  missing({ name: 'ListAssetThumbnails', method: 'GET', path: '/v1/{project_id}/asset/thumbnails' }),
  missing({ name: 'DeleteAssetThumbnails', method: 'DELETE', path: '/v1/{project_id}/asset/thumbnails' }),
  missing({
    name: 'ShowAssetThumbnailDetails',
    method: 'GET',
    path: '/v1/{project_id}/asset/thumbnail/details',
  }),
  // The object-based "customization" editing API (spec vod-tasks §1.5).
  missing({ name: 'CreateEditTask', method: 'POST', path: '/v1/{project_id}/asset/customization/edit' }),
  missing({
    name: 'ShowTaskDetail',
    method: 'GET',
    path: '/v1/{project_id}/asset/customization/task/detail',
  }),
  // MPC paths (spec vod-tasks §1.6).
  missing({ name: 'CreateEditingJob', method: 'POST', path: '/v1/{project_id}/editing/jobs' }),
  missing({ name: 'ListEditingJob', method: 'GET', path: '/v1/{project_id}/editing/jobs' }),
  missing({ name: 'DeleteEditingJob', method: 'DELETE', path: '/v1/{project_id}/editing/jobs' }),
  missing({ name: 'CreateEditingJobV2', method: 'POST', path: '/v2/{project_id}/editing/jobs' }),
  missing({ name: 'ListEditingJobV2', method: 'GET', path: '/v2/{project_id}/editing/jobs' }),
  missing({ name: 'DeleteEditingJobV2', method: 'DELETE', path: '/v2/{project_id}/editing/jobs/{job_id}' }),
  missing({ name: 'CancelTranscodingTask', method: 'DELETE', path: '/v1/{project_id}/transcodings' }),
  missing({ name: 'RetryRemuxTask', method: 'PUT', path: '/v1/{project_id}/remux' }),
];

/** Fastify's spelling of a row's path: `{name}` becomes `:name`. */
export function routePathOf(operation: VodOperation): string {
  return operation.path.replace(/\{(\w+)\}/g, ':$1');
}
