// Asset processing (spec vod-tasks §1.4): transcode and snapshot an asset, cancel its queued
// transcodes, and the task list of every kind (with mediahost's EDIT).
import { Type } from '@sinclair/typebox';
import type { MediaKind } from '../../../core/media/media-service.ts';
import { intIn, refuse } from '../../schema-types.ts';
import { vodOperation } from '../operation.ts';
import { editTaskView, TASK_TYPES } from '../views.ts';

const PROCESS = '/v1.0/{project_id}/asset/process';

export const createAssetProcessTask = vodOperation({
  name: 'CreateAssetProcessTask',
  method: 'POST',
  path: PROCESS,
  body: {
    asset_id: Type.Optional(Type.Unknown({ description: 'the asset to process' })),
    template_group_name: Type.Optional(Type.Unknown({ description: "one of mediahost's template groups" })),
    thumbnail: Type.Optional(Type.Unknown({ description: 'Thumbnail: type time or dots' })),
    // Encryption is not implemented: only "no" is honoured.
    auto_encrypt: Type.Optional(Type.Literal(0, { expects: '0 (encryption is not implemented)' })),
    priority: Type.Optional(Type.Unknown({ description: 'extension: an integer from -10 to 10' })),
    callback_url: Type.Optional(Type.Unknown({ description: 'extension: called once when a task ends' })),
  },
  summary: '`template_group_name`, `thumbnail`',
  async handle({ deps, access, body, reply }) {
    const created = await deps.media.createProcess(access, body);
    reply.code(202);
    return {
      asset_id: created.assetId,
      ...(created.thumbnailTaskId ? { thumbnail_task_id: created.thumbnailTaskId } : {}),
      task_ids: created.taskIds,
    };
  },
});

export const cancelAssetTranscodeTask = vodOperation({
  name: 'CancelAssetTranscodeTask',
  method: 'DELETE',
  path: PROCESS,
  query: { asset_id: Type.String({ minLength: 1, expects: 'required' }) },
  summary: '`asset_id`',
  async handle({ deps, access, query, reply }) {
    await deps.media.cancelProcess(access, query.asset_id);
    reply.code(204).send();
  },
});

/** TRANSCODE, THUMBNAIL or EDIT in any case; empty is every kind. */
const TaskType = Type.Transform(Type.String({ expects: 'TRANSCODE, THUMBNAIL or EDIT' }))
  .Decode((raw): MediaKind | undefined =>
    raw === '' ? undefined : (TASK_TYPES[raw.toUpperCase()] ?? refuse()),
  )
  .Encode((kind) => kind ?? '');

const KIND_NAMES = Object.fromEntries(Object.entries(TASK_TYPES).map(([name, kind]) => [kind, name]));

export const listAssetTaskInfo = vodOperation({
  name: 'ListAssetTaskInfo',
  method: 'GET',
  path: '/v1/{project_id}/asset/tasks',
  query: {
    type: Type.Optional(TaskType),
    task_id: Type.Optional(Type.String()),
    marker: Type.Optional(intIn(0, Number.MAX_SAFE_INTEGER)),
    limit: Type.Optional(intIn(1, 100)),
  },
  summary: '`type`, `task_id`, `marker`, `limit`',
  async handle({ deps, access, query }) {
    const offset = query.marker ?? 0;
    const { total, jobs } = await deps.media.list(access, {
      kinds: query.type ? [query.type] : ['transcode', 'snapshot', 'edit'],
      offset,
      limit: query.limit ?? 10,
      ...(query.task_id ? { taskId: query.task_id } : {}),
    });
    return {
      results: jobs.map((job) => ({ type: KIND_NAMES[job.kind], ...editTaskView(job) })),
      count: total,
      ...(offset + jobs.length < total ? { next_marker: String(offset + jobs.length) } : {}),
    };
  },
});
