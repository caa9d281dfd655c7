// Editing tasks (spec vod-tasks §1.1–§1.3): create (the body's inputs and settings are parsed by the
// media service), list, and cancel (extension: force=true stops a running one, ADR 0003 §8).
import { Type } from '@sinclair/typebox';
import { intIn, refuse } from '../../schema-types.ts';
import { vodOperation } from '../operation.ts';
import { editTaskView } from '../views.ts';

const EDITING = '/v1/{project_id}/asset/editing/tasks';

export const createAssetEditTask = vodOperation({
  name: 'CreateAssetEditTask',
  method: 'POST',
  path: EDITING,
  body: {
    inputs: Type.Optional(
      Type.Unknown({ description: 'EditInput[]: asset_id, timeline_start, timeline_end' }),
    ),
    editing_settings: Type.Optional(Type.Unknown({ description: 'VodEditingSetting' })),
    priority: Type.Optional(Type.Unknown({ description: 'extension: an integer from -10 to 10' })),
    callback_url: Type.Optional(Type.Unknown({ description: 'extension: called once when the task ends' })),
  },
  summary:
    'clip one input, or clip and join up to 20; `editing_settings`, `format` HLS included; extensions `priority`, `callback_url` (public destinations unless `--outbound-allow` lists them)',
  async handle({ deps, access, body }) {
    const created = await deps.media.createEdit(access, body);
    return { task_id: created.taskId, asset_id: created.assetId };
  },
});

export const listAssetEditTask = vodOperation({
  name: 'ListAssetEditTask',
  method: 'GET',
  path: EDITING,
  query: {
    task_id: Type.Optional(Type.String()),
    offset: Type.Optional(intIn(0, Number.MAX_SAFE_INTEGER)),
    limit: Type.Optional(intIn(1, 100)),
  },
  summary: '`task_id`, `offset`, `limit` ≤ 100',
  async handle({ deps, access, query }) {
    const { total, jobs } = await deps.media.list(access, {
      kinds: ['edit'],
      offset: query.offset ?? 0,
      limit: query.limit ?? 10,
      ...(query.task_id ? { taskId: query.task_id } : {}),
    });
    return { total, tasks: jobs.map(editTaskView) };
  },
});

/** true or false (also 1 or 0); empty is absent. */
const Force = Type.Transform(Type.String({ expects: 'true or false' }))
  .Decode((raw): boolean | undefined => {
    if (raw === '') return undefined;
    if (raw === 'true' || raw === '1') return true;
    return raw === 'false' || raw === '0' ? false : refuse();
  })
  .Encode(String);

export const deleteAssetEditTask = vodOperation({
  name: 'DeleteAssetEditTask',
  method: 'DELETE',
  path: EDITING,
  query: {
    task_id: Type.String({ minLength: 1, expects: 'required' }),
    force: Type.Optional(Force),
  },
  summary: '`task_id`; WAITING only; extension `force=true`',
  async handle({ deps, access, query, reply }) {
    await deps.media.cancel(access, query.task_id, { force: query.force ?? false, kinds: ['edit'] });
    reply.code(204).send();
  },
});
