// A small client of the VOD media-task API (spec vod-tasks §1) for acceptance tests: editing tasks, asset
// processing and the asset task list, authenticated by an SMH token in X-Auth-Token.
import assert from 'node:assert/strict';
import type { LibraryId } from '../../src/core/ids.ts';
import type { JobRecord } from '../../src/core/jobs/model.ts';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';

export interface VodTask {
  task_id: string;
  asset_id: string;
  status: string;
  progress: number;
  create_time: string;
  end_time?: string;
  error_code?: string;
  error_msg?: string;
  result?: { files?: { assetId: string; name: string; size: number }[] };
}

/** An entry of GET /v1/{project_id}/asset/tasks. */
export interface VodAssetTask extends VodTask {
  type: 'TRANSCODE' | 'THUMBNAIL' | 'EDIT';
}

const POLL_MS = 100;

export class Vod {
  readonly url: string;
  readonly project: string;
  readonly token: string;

  constructor(url: string, project: string, token: string) {
    this.url = url;
    this.project = project;
    this.token = token;
  }

  /** `path` below /v1/{project_id}/ (or /v1.0/{project_id}/ for `version` v1.0). */
  request(method: string, path: string, body?: unknown, version: 'v1' | 'v1.0' = 'v1'): Promise<Response> {
    return fetch(`${this.url}/${version}/${this.project}/${path}`, {
      method,
      headers: {
        'x-auth-token': this.token,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async create(body: unknown): Promise<{ task_id: string; asset_id: string }> {
    const res = await this.request('POST', 'asset/editing/tasks', body);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return JSON.parse(text);
  }

  async task(taskId: string): Promise<VodTask> {
    const res = await this.request('GET', `asset/editing/tasks?task_id=${taskId}`);
    const body = (await res.json()) as { total: number; tasks: VodTask[] };
    assert.equal(body.total, 1);
    return body.tasks[0]!;
  }

  async until(taskId: string, states: string[], timeoutMs = 60_000): Promise<VodTask> {
    return poll(() => this.task(taskId), states, timeoutMs, `task ${taskId}`);
  }

  cancel(taskId: string, force = false): Promise<Response> {
    return this.request('DELETE', `asset/editing/tasks?task_id=${taskId}${force ? '&force=true' : ''}`);
  }

  /** POST /v1.0/{project_id}/asset/process: 202 with the asset id and the task ids. */
  async process(
    body: unknown,
  ): Promise<{ asset_id: string; thumbnail_task_id?: string; task_ids: string[] }> {
    const res = await this.request('POST', 'asset/process', body, 'v1.0');
    const text = await res.text();
    assert.equal(res.status, 202, text);
    return JSON.parse(text);
  }

  cancelProcess(assetId: string): Promise<Response> {
    return this.request('DELETE', `asset/process?asset_id=${assetId}`, undefined, 'v1.0');
  }

  async assetTasks(
    query: Record<string, string>,
  ): Promise<{ results: VodAssetTask[]; count: number; next_marker?: string }> {
    const res = await this.request('GET', `asset/tasks?${new URLSearchParams(query)}`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return JSON.parse(text);
  }

  async assetTask(type: VodAssetTask['type'], taskId: string): Promise<VodAssetTask> {
    const { results, count } = await this.assetTasks({ type, task_id: taskId });
    assert.equal(count, 1, `${type} task ${taskId} is listed once`);
    return results[0]!;
  }

  untilAssetTask(
    type: VodAssetTask['type'],
    taskId: string,
    states: string[],
    timeoutMs = 60_000,
  ): Promise<VodAssetTask> {
    return poll(() => this.assetTask(type, taskId), states, timeoutMs, `${type} task ${taskId}`);
  }
}

async function poll<T extends { status: string }>(
  read: () => Promise<T>,
  states: string[],
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await read();
    if (states.includes(last.status)) return last;
    if (Date.now() > deadline) throw new Error(`${what} is ${last.status}, not ${states.join('/')}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export async function expectVodError(res: Response, status: number, code: string): Promise<void> {
  const body = (await res.json()) as { error_code: string; error_msg: string };
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error_code, code, JSON.stringify(body));
  assert.ok(body.error_msg.length > 0);
  assert.ok(res.headers.get('x-request-id'));
}

/** The `callback` jobs queued for a task's end, read from the store. */
export async function callbackJobsOf(
  store: MetadataStore,
  libraryId: string,
  taskId: string,
): Promise<JobRecord[]> {
  const { jobs } = await store.jobs.list({
    libraryId: libraryId as LibraryId,
    kinds: ['callback'],
    offset: 0,
    limit: 100,
  });
  return jobs.filter(
    (j) => (j.payload as { body: { edit_info: { taskId: string } } }).body.edit_info.taskId === taskId,
  );
}

/** The `callback` job a task's end queued, once it has ended (SUCCEED or FAILED), read from the store. */
export async function endedCallbackJob(
  store: MetadataStore,
  libraryId: string,
  taskId: string,
  timeoutMs = 60_000,
): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [job] = await callbackJobsOf(store, libraryId, taskId);
    if (job && (job.state === 'SUCCEED' || job.state === 'FAILED')) return job;
    if (Date.now() > deadline)
      throw new Error(`the callback of task ${taskId} is ${job?.state ?? 'missing'}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
