// JSON shapes of the VOD task API (spec vod-tasks §1.2, §1.4): a task as the editing and asset-task
// lists report it, times in RFC 3339 without milliseconds.

import type { JobRecord } from '../../core/jobs/model.ts';
import type { MediaKind } from '../../core/media/media-service.ts';

/** RFC 3339 UTC without milliseconds, as VOD's editing APIs write times. */
const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function editTaskView(job: JobRecord): Record<string, unknown> {
  return {
    task_id: job.id,
    asset_id: job.assetId,
    status: job.state,
    progress:
      job.state === 'SUCCEED' ? 100 : job.state === 'WAITING' || job.state === 'CANCEL' ? 0 : job.progress,
    create_time: rfc3339(job.createdAt),
    ...(job.endedAt !== null ? { end_time: rfc3339(job.endedAt) } : {}),
    ...(job.state === 'FAILED' ? { error_code: job.errorCode, error_msg: job.errorMsg } : {}),
    ...(job.state === 'SUCCEED' && job.result ? { result: job.result } : {}),
  };
}

/** The `type` of ListAssetTaskInfo (EDIT is mediahost's, ADR 0003 §7). */
export const TASK_TYPES: Readonly<Record<string, MediaKind>> = {
  TRANSCODE: 'transcode',
  THUMBNAIL: 'snapshot',
  EDIT: 'edit',
};
