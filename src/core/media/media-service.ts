// Media tasks of the VOD API (spec vod-tasks §1–§2): editing tasks (clip, and clip-then-join of several
// inputs), transcodes and snapshots. A task is a row of the job queue, inserted fully formed in one
// statement after every check passed, so a refused request leaves nothing. Cancel is VOD's one rule:
// only a WAITING task can be cancelled (one conditional update, so it races a worker's claim fairly);
// `force` is our extension that stops a running one.
import { parseAddress } from '../../lib/ip-address.ts';
import type { OutboundPolicy } from '../../lib/outbound-policy.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DiskSpace } from '../../ports/disk-space.ts';
import type { Logger } from '../../ports/logger.ts';
import type { MediaProbe, MediaRunner } from '../../ports/media-runner.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { AppError } from '../errors.ts';
import { requireFreeSpace } from '../free-space.ts';
import { newJobRecord } from '../jobs/job-record.ts';
import type { JobRecord, JobState } from '../jobs/model.ts';
import type { InodeRecord } from '../namespace/model.ts';
import { splitExtension } from '../namespace/names.ts';
import { newInodeId } from '../namespace/namespace-service.ts';
import { type AccessContext, requireAnyGrant } from '../tokens/access.ts';
import {
  checkEdit,
  type EditSettings,
  parseEditSettings,
  parseThumbnail,
  parseTimeline,
  TEMPLATE_GROUPS,
  type ThumbnailSettings,
} from './edit-plan.ts';

/** VOD: at most 20 inputs per editing task. */
export const MAX_INPUTS = 20;
const MAX_LIST = 100;
const FORCE_WAIT_MS = 15_000;

export interface MediaSourceRef {
  assetId: string;
  spaceId: string;
}

export interface EditPayload {
  inputs: (MediaSourceRef & { start: number; end: number })[];
  settings: EditSettings;
  /** Where the output goes: the inode id handed out as asset_id, in the first input's directory. */
  output: { assetId: string; spaceId: string; parentId: string; name: string };
  callbackUrl?: string;
  userId: string;
}

export interface TranscodePayload {
  source: MediaSourceRef;
  template: string;
  parentId: string;
  baseName: string;
  callbackUrl?: string;
  userId: string;
}

export interface SnapshotPayload {
  source: MediaSourceRef;
  thumbnail: ThumbnailSettings;
  parentId: string;
  baseName: string;
  callbackUrl?: string;
  userId: string;
}

export const MEDIA_KINDS = ['edit', 'transcode', 'snapshot'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export interface MediaServiceDeps {
  store: MetadataStore;
  objects: ObjectStore;
  runner: MediaRunner;
  clock: Clock;
  logger: Logger;
  maxAttempts: number;
  /** Where callbacks may go (--outbound-allow). */
  outbound: OutboundPolicy;
  /** The data dir's disk (scratch files and outputs): new tasks are refused while it is below its reserve. */
  disk: DiskSpace;
  /** Stops a task running in this process at once (the worker's heartbeat catches the others). */
  stopLocal?: (taskId: string) => void;
}

const illegal = (field: string, why: string): AppError =>
  new AppError('InvalidArgument', `The request parameter is illegal, illegal field: ${field} (${why}).`);

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw illegal(field, 'must be an object');
  return value as Record<string, unknown>;
}

function priorityOf(raw: unknown): number {
  if (raw === undefined || raw === null) return 0;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < -10 || raw > 10) {
    throw illegal('priority', 'an integer from -10 to 10');
  }
  return raw;
}

/**
 * A callback URL to POST to when the task ends: http(s), and not a literal non-public address unless
 * allow-listed. Names are checked when the callback connects (what they resolve to may change).
 */
function callbackOf(raw: unknown, outbound: OutboundPolicy): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') throw illegal('callback_url', 'must be a string');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw illegal('callback_url', 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw illegal('callback_url', 'must be http or https');
  if (url.username !== '' || url.password !== '')
    throw illegal('callback_url', 'must not carry a user name or password');
  const refused = parseAddress(url.hostname) && outbound.refusal(url.hostname.replace(/^\[|\]$/g, ''));
  if (refused) throw illegal('callback_url', `${refused}; only public addresses receive callbacks`);
  return url.toString();
}

/**
 * The spaces whose tasks a token sees (listing and cancel alike): its own; all (undefined) for an
 * unscoped token, which in a multi-tenant library must hold `admin`.
 */
function visibleSpaces(ctx: AccessContext): readonly string[] | undefined {
  if (ctx.spaceIds !== null) return ctx.spaceIds;
  return ctx.library.isMultiTenant && !ctx.grants.has('admin') ? [] : undefined;
}

export class MediaService {
  readonly #d: MediaServiceDeps;

  constructor(deps: MediaServiceDeps) {
    this.#d = deps;
  }

  /** A file the caller may read, by its VOD asset id (its SMH inode). */
  async asset(ctx: AccessContext, assetId: unknown, field: string): Promise<InodeRecord> {
    if (typeof assetId !== 'string' || assetId === '') throw illegal(field, 'must be a non-empty string');
    const inode = await this.#d.store.inodes.find(ctx.library.id, assetId);
    const spaces = visibleSpaces(ctx);
    const reachable = inode && (spaces === undefined || spaces.includes(inode.spaceId));
    if (inode?.type !== 'file' || !inode.objectKey || !reachable) {
      throw new AppError('AssetNotFound', `Media asset ${assetId} does not exist, please check (${field}).`);
    }
    return inode;
  }

  /** Probes the inputs when the tools are here; without them a task is still accepted and fails clearly. */
  async #probe(ctx: AccessContext, inode: InodeRecord, field: string): Promise<MediaProbe | undefined> {
    if (!(await this.#d.runner.status()).available) return undefined;
    const source = await this.#d.objects.mediaSource({ library: ctx.library, key: inode.objectKey! });
    try {
      return await this.#d.runner.probe(source);
    } catch {
      throw illegal(field, `asset ${inode.id} is not a media file ffmpeg can read`);
    }
  }

  #job(
    ctx: AccessContext,
    kind: MediaKind,
    input: { payload: unknown; spaceId: string; assetId: string; priority: number },
  ): JobRecord {
    return newJobRecord({
      kind,
      libraryId: ctx.library.id,
      ...input,
      maxAttempts: this.#d.maxAttempts,
      now: this.#d.clock.now(),
    });
  }

  /** POST /v1/{project_id}/asset/editing/tasks */
  async createEdit(ctx: AccessContext, body: unknown): Promise<{ taskId: string; assetId: string }> {
    requireAnyGrant(ctx, ['media_process'], 'create media tasks');
    await requireFreeSpace(this.#d.disk);
    const b = asObject(body ?? {}, 'body');
    if (!Array.isArray(b.inputs) || b.inputs.length === 0)
      throw illegal('inputs', 'at least one input is required');
    if (b.inputs.length > MAX_INPUTS) throw illegal('inputs', `at most ${MAX_INPUTS} inputs`);
    const settings = parseEditSettings(b.editing_settings ?? {});
    const priority = priorityOf(b.priority);
    const callbackUrl = callbackOf(b.callback_url, this.#d.outbound);
    const clips = [];
    const inputs: EditPayload['inputs'] = [];
    for (const [i, raw] of (b.inputs as unknown[]).entries()) {
      const field = `inputs[${i}]`;
      const input = asObject(raw, field);
      const inode = await this.asset(ctx, input.asset_id, `${field}.asset_id`);
      const start = parseTimeline(input.timeline_start, `${field}.timeline_start`);
      const end = parseTimeline(input.timeline_end, `${field}.timeline_end`);
      if (start >= end) throw illegal(`${field}.timeline_end`, 'must be greater than timeline_start');
      const probe = await this.#probe(ctx, inode, `${field}.asset_id`);
      if (probe) clips.push({ source: inode.id, start, end, probe });
      inputs.push({ assetId: inode.id, spaceId: inode.spaceId, start, end });
    }
    if (clips.length === inputs.length) checkEdit(clips, settings);
    const first = (await this.#d.store.inodes.find(ctx.library.id, inputs[0]!.assetId))!;
    const assetId = newInodeId();
    const ext = { MP4: '.mp4', HLS: '.m3u8', MP3: '.mp3', MOV: '.mov', FLV: '.flv', AVI: '.avi' }[
      settings.format
    ];
    const job = this.#job(ctx, 'edit', {
      spaceId: first.spaceId,
      assetId,
      priority,
      payload: {
        inputs,
        settings,
        output: { assetId, spaceId: first.spaceId, parentId: first.parentId, name: '' },
        ...(callbackUrl ? { callbackUrl } : {}),
        userId: ctx.userId,
      } satisfies EditPayload,
    });
    (job.payload as EditPayload).output.name = `${splitExtension(first.name).base}.${job.id}${ext}`;
    await this.#d.store.jobs.insert(job);
    return { taskId: job.id, assetId };
  }

  /** GET /v1/{project_id}/asset/editing/tasks (newest first) and GET /v1/{project_id}/asset/tasks. */
  async list(
    ctx: AccessContext,
    query: { kinds: readonly MediaKind[]; taskId?: string; offset: number; limit: number },
  ): Promise<{ total: number; jobs: JobRecord[] }> {
    const limit = Math.min(query.limit, MAX_LIST);
    const scoped = visibleSpaces(ctx);
    return this.#d.store.jobs.list({
      libraryId: ctx.library.id,
      kinds: query.kinds,
      offset: query.offset,
      limit,
      ...(scoped ? { spaceIds: scoped } : {}),
      ...(query.taskId ? { id: query.taskId } : {}),
    });
  }

  async #visibleTask(ctx: AccessContext, taskId: string, kinds: readonly string[]): Promise<JobRecord> {
    const job = await this.#d.store.jobs.get(taskId);
    const spaces = visibleSpaces(ctx);
    const visible =
      job &&
      job.libraryId === ctx.library.id &&
      kinds.includes(job.kind) &&
      (spaces === undefined || (job.spaceId !== null && spaces.includes(job.spaceId)));
    if (!visible) throw new AppError('TaskNotFound', `Task ${taskId} does not exist, please check.`);
    return job;
  }

  /**
   * DELETE …/editing/tasks?task_id=: WAITING → CANCEL, else 400 (VOD). With `force` (extension) a
   * PROCESSING task is stopped: its ffmpeg is killed, partial output removed, and it ends as CANCEL.
   */
  async cancel(
    ctx: AccessContext,
    taskId: string,
    options: { force: boolean; kinds: readonly MediaKind[] },
  ): Promise<void> {
    requireAnyGrant(ctx, ['media_process'], 'cancel media tasks');
    const job = await this.#visibleTask(ctx, taskId, options.kinds);
    const now = this.#d.clock.now();
    if (await this.#d.store.jobs.cancelWaiting(job.id, now)) return;
    if (!options.force || !(await this.#d.store.jobs.requestCancel(job.id, now))) {
      const current = await this.#d.store.jobs.get(job.id);
      throw new AppError(
        'TaskNotCancellable',
        `The current media asset status does not support this operation: task ${taskId} is ${current?.state ?? job.state}${options.force ? '' : ' (only WAITING tasks can be cancelled)'}.`,
      );
    }
    this.#d.stopLocal?.(job.id);
    const deadline = this.#d.clock.now() + FORCE_WAIT_MS;
    for (;;) {
      const current = await this.#d.store.jobs.get(job.id);
      if (current?.state === 'CANCEL') return;
      if (current && current.state !== 'PROCESSING' && current.state !== 'WAITING') {
        throw new AppError(
          'TaskNotCancellable',
          `Task ${taskId} ended as ${current.state} before it could be stopped.`,
        );
      }
      // A worker that lost the task to a lease lapse requeues it; the flag still stops the next run.
      if (
        current?.state === 'WAITING' &&
        (await this.#d.store.jobs.cancelWaiting(job.id, this.#d.clock.now()))
      )
        return;
      if (this.#d.clock.now() > deadline) {
        throw new AppError('ServiceUnavailable', `Task ${taskId} is being stopped; query it again shortly.`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** POST /v1.0/{project_id}/asset/process: transcodes (by template group) and snapshots of one asset. */
  async createProcess(
    ctx: AccessContext,
    body: unknown,
  ): Promise<{ assetId: string; thumbnailTaskId?: string; taskIds: string[] }> {
    requireAnyGrant(ctx, ['media_process'], 'process media assets');
    await requireFreeSpace(this.#d.disk);
    const b = asObject(body ?? {}, 'body');
    const inode = await this.asset(ctx, b.asset_id, 'asset_id');
    const priority = priorityOf(b.priority);
    const callbackUrl = callbackOf(b.callback_url, this.#d.outbound);
    const group = b.template_group_name;
    if (group !== undefined && (typeof group !== 'string' || !(group in TEMPLATE_GROUPS))) {
      throw illegal('template_group_name', `one of ${Object.keys(TEMPLATE_GROUPS).join(', ')}`);
    }
    const thumbnail =
      b.thumbnail === undefined || b.thumbnail === null ? undefined : parseThumbnail(b.thumbnail);
    if (group === undefined && !thumbnail)
      throw illegal('template_group_name', 'give a template group, a thumbnail, or both');
    const probe = await this.#probe(ctx, inode, 'asset_id');
    if (
      probe &&
      group !== undefined &&
      TEMPLATE_GROUPS[group]!.some((t) => t.format !== 'MP3') &&
      !probe.hasVideo
    ) {
      throw illegal('template_group_name', 'a video template needs a video source');
    }
    if (probe && thumbnail && !probe.hasVideo) throw illegal('thumbnail', 'snapshots need a video source');
    const common = {
      source: { assetId: inode.id, spaceId: inode.spaceId },
      parentId: inode.parentId,
      baseName: splitExtension(inode.name).base,
      ...(callbackUrl ? { callbackUrl } : {}),
      userId: ctx.userId,
    };
    const jobs: JobRecord[] = [];
    if (group !== undefined) {
      jobs.push(
        this.#job(ctx, 'transcode', {
          spaceId: inode.spaceId,
          assetId: inode.id,
          priority,
          payload: { ...common, template: group } satisfies TranscodePayload,
        }),
      );
    }
    let thumbnailTaskId: string | undefined;
    if (thumbnail) {
      const job = this.#job(ctx, 'snapshot', {
        spaceId: inode.spaceId,
        assetId: inode.id,
        priority,
        payload: { ...common, thumbnail } satisfies SnapshotPayload,
      });
      thumbnailTaskId = job.id;
      jobs.push(job);
    }
    await this.#d.store.transaction(async (tx) => {
      for (const job of jobs) await tx.jobs.insert(job);
    });
    return {
      assetId: inode.id,
      taskIds: jobs.map((j) => j.id),
      ...(thumbnailTaskId ? { thumbnailTaskId } : {}),
    };
  }

  /** DELETE /v1.0/{project_id}/asset/process?asset_id=: cancels the asset's WAITING transcodes (VOD). */
  async cancelProcess(ctx: AccessContext, assetId: string): Promise<void> {
    requireAnyGrant(ctx, ['media_process'], 'cancel media tasks');
    const inode = await this.asset(ctx, assetId, 'asset_id');
    const states: JobState[] = ['WAITING', 'PROCESSING'];
    const open = await this.#d.store.jobs.forAsset(ctx.library.id, inode.id, ['transcode'], states);
    let cancelled = 0;
    for (const job of open)
      if (await this.#d.store.jobs.cancelWaiting(job.id, this.#d.clock.now())) cancelled++;
    if (cancelled === 0) {
      throw new AppError(
        'TaskNotCancellable',
        'The current media asset status does not support this operation: no waiting transcode.',
      );
    }
  }
}
