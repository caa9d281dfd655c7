// Every operation of the media-task API family (spec vod-tasks §1): Huawei VOD's editing and asset task
// endpoints and the MPC editing/transcoding paths beside them. The plugin registers a route answering
// 501 for each row not implemented, and refuses to start when an implemented row has no route.

export type VodMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface VodOperation {
  /** Huawei's operation name where the SDKs give one. */
  readonly name: string;
  readonly method: VodMethod;
  /** Full path; `{name}` is one segment. */
  readonly path: string;
  readonly implemented: boolean;
  /** What mediahost does, for docs/api-coverage.md (implemented operations). */
  readonly summary?: string;
}

const EDITING = '/v1/{project_id}/asset/editing/tasks';

export const VOD_OPERATIONS: readonly VodOperation[] = [
  {
    name: 'CreateAssetEditTask',
    method: 'POST',
    path: EDITING,
    implemented: true,
    summary:
      'clip one input, or clip and join up to 20; `editing_settings`, `format` HLS included; extensions `priority`, `callback_url` (public destinations unless `--outbound-allow` lists them)',
  },
  {
    name: 'ListAssetEditTask',
    method: 'GET',
    path: EDITING,
    implemented: true,
    summary: '`task_id`, `offset`, `limit` ≤ 100',
  },
  {
    name: 'DeleteAssetEditTask',
    method: 'DELETE',
    path: EDITING,
    implemented: true,
    summary: '`task_id`; WAITING only; extension `force=true`',
  },
  {
    name: 'CreateAssetProcessTask',
    method: 'POST',
    path: '/v1.0/{project_id}/asset/process',
    implemented: true,
    summary: '`template_group_name`, `thumbnail`',
  },
  {
    name: 'CancelAssetTranscodeTask',
    method: 'DELETE',
    path: '/v1.0/{project_id}/asset/process',
    implemented: true,
    summary: '`asset_id`',
  },
  {
    name: 'ListAssetTaskInfo',
    method: 'GET',
    path: '/v1/{project_id}/asset/tasks',
    implemented: true,
    summary: '`type`, `task_id`, `marker`, `limit`',
  },
  {
    name: 'CreateExtractAudioTask',
    method: 'POST',
    path: '/v1.0/{project_id}/asset/extract_audio',
    implemented: false,
  },
  {
    name: 'CancelExtractAudioTask',
    method: 'DELETE',
    path: '/v1.0/{project_id}/asset/extract_audio',
    implemented: false,
  },
  {
    name: 'ListAssetThumbnails',
    method: 'GET',
    path: '/v1/{project_id}/asset/thumbnails',
    implemented: false,
  },
  {
    name: 'DeleteAssetThumbnails',
    method: 'DELETE',
    path: '/v1/{project_id}/asset/thumbnails',
    implemented: false,
  },
  {
    name: 'ShowAssetThumbnailDetails',
    method: 'GET',
    path: '/v1/{project_id}/asset/thumbnail/details',
    implemented: false,
  },
  // The object-based "customization" editing API (spec vod-tasks §1.5).
  {
    name: 'CreateEditTask',
    method: 'POST',
    path: '/v1/{project_id}/asset/customization/edit',
    implemented: false,
  },
  {
    name: 'ShowTaskDetail',
    method: 'GET',
    path: '/v1/{project_id}/asset/customization/task/detail',
    implemented: false,
  },
  // MPC paths (spec vod-tasks §1.6).
  { name: 'CreateEditingJob', method: 'POST', path: '/v1/{project_id}/editing/jobs', implemented: false },
  { name: 'ListEditingJob', method: 'GET', path: '/v1/{project_id}/editing/jobs', implemented: false },
  { name: 'DeleteEditingJob', method: 'DELETE', path: '/v1/{project_id}/editing/jobs', implemented: false },
  { name: 'CreateEditingJobV2', method: 'POST', path: '/v2/{project_id}/editing/jobs', implemented: false },
  { name: 'ListEditingJobV2', method: 'GET', path: '/v2/{project_id}/editing/jobs', implemented: false },
  {
    name: 'DeleteEditingJobV2',
    method: 'DELETE',
    path: '/v2/{project_id}/editing/jobs/{job_id}',
    implemented: false,
  },
  {
    name: 'CancelTranscodingTask',
    method: 'DELETE',
    path: '/v1/{project_id}/transcodings',
    implemented: false,
  },
  { name: 'RetryRemuxTask', method: 'PUT', path: '/v1/{project_id}/remux', implemented: false },
];

/** Fastify's spelling of a row's path (`{project_id}` becomes `:project`, as the routes name it). */
export function routePathOf(operation: VodOperation): string {
  return operation.path.replace('{project_id}', ':project').replace(/\{(\w+)\}/g, ':$1');
}
