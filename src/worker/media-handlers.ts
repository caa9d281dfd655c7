// The media job handlers: edit (clip and join), transcode and snapshot run ffmpeg in a private work
// directory, store what it wrote as new files of the library, and remove the work directory whatever
// happens (so a stopped task leaves no partial output). A task's end enqueues its callback, if any.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAppError } from '../core/errors.ts';
import { newJobRecord } from '../core/jobs/job-record.ts';
import type { JobEnd, JobRecord } from '../core/jobs/model.ts';
import type { LibraryRecord } from '../core/libraries/model.ts';
import {
  type ClipInput,
  checkEdit,
  type PlannedRun,
  planEdit,
  planSnapshot,
  planTranscode,
  TEMPLATE_GROUPS,
} from '../core/media/edit-plan.ts';
import type {
  EditPayload,
  MediaSourceRef,
  SnapshotPayload,
  TranscodePayload,
} from '../core/media/media-service.ts';
import type { InodeRecord } from '../core/namespace/model.ts';
import { contentTypeOf, splitExtension } from '../core/namespace/names.ts';
import type { NamespaceService } from '../core/namespace/namespace-service.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { MediaProbe, MediaRunner } from '../ports/media-runner.ts';
import type { MetadataStore, Repositories } from '../ports/metadata-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { type OutboundHttp, OutboundRefusedError, type OutboundResponse } from '../ports/outbound-http.ts';
import { type JobContext, JobFailure, type JobHandler } from './job-runner.ts';
import {
  HLS_CONTENT_TYPE,
  hlsOutputFiles,
  type OutputFile,
  type OutputTarget,
  type StoredFile,
  storeOutputs,
} from './media-output.ts';

export interface MediaHandlerDeps {
  store: MetadataStore;
  objects: ObjectStore;
  runner: MediaRunner;
  namespace: NamespaceService;
  clock: Clock;
  logger: Logger;
  /** Where work directories are made. */
  workDir: string;
  /** Sends callbacks, only where --outbound-allow lets it. */
  outbound: OutboundHttp;
}

/** Huawei's completion events, one per kind of task (spec vod-tasks §5.3). */
const EVENT_TYPES: Record<string, string> = {
  edit: 'editComplete',
  transcode: 'transcodeComplete',
  snapshot: 'thumbnailComplete',
};

const CALLBACK_ATTEMPTS = 5;
const CALLBACK_TIMEOUT_MS = 10_000;
const CALLBACK_MAX_RESPONSE_BYTES = 64 * 1024;

class MediaWork {
  readonly #d: MediaHandlerDeps;

  constructor(deps: MediaHandlerDeps) {
    this.#d = deps;
  }

  async library(job: JobRecord): Promise<LibraryRecord> {
    const library = await this.#d.store.libraries.get(job.libraryId);
    if (!library) throw new JobFailure('VOD.10062', 'The library of this task no longer exists.', false);
    return library;
  }

  async requireTools(): Promise<void> {
    const status = await this.#d.runner.status();
    if (!status.available) {
      throw new JobFailure(
        'MEDIA_TOOLS_UNAVAILABLE',
        `ffmpeg cannot run on this server: ${status.reason ?? 'unknown reason'}`,
        false,
      );
    }
  }

  async source(
    library: LibraryRecord,
    ref: MediaSourceRef,
    signal: AbortSignal,
  ): Promise<{ inode: InodeRecord; source: string; probe: MediaProbe }> {
    const inode = await this.#d.store.inodes.find(library.id, ref.assetId);
    if (!inode?.objectKey)
      throw new JobFailure('VOD.10062', `Input asset ${ref.assetId} no longer exists.`, false);
    const source = await this.#d.objects.mediaSource({ library, key: inode.objectKey });
    const probe = await this.#d.runner.probe(source, signal);
    return { inode, source, probe };
  }

  /** Runs a plan in a fresh work directory, hands the directory to `store`, removes it afterwards. */
  async inWorkDir<T>(
    job: JobRecord,
    ctx: JobContext,
    plan: () => PlannedRun,
    store: (dir: string, run: PlannedRun) => Promise<T>,
  ): Promise<T> {
    await mkdir(this.#d.workDir, { recursive: true });
    const prefix = `${job.kind}-${job.id}-`;
    // A worker killed during an earlier attempt (SIGKILL, OOM) could not remove its work directory.
    if (job.attempts > 1) {
      for (const stale of (await readdir(this.#d.workDir)).filter((name) => name.startsWith(prefix)))
        await rm(join(this.#d.workDir, stale), { recursive: true, force: true });
    }
    const dir = await mkdtemp(join(this.#d.workDir, prefix));
    try {
      // Plans name their outputs relative to the work directory, ffmpeg's cwd.
      const run = plan();
      await this.#d.runner.run(run.args, {
        signal: ctx.signal,
        expectedSeconds: run.expectedSeconds,
        onProgress: ctx.progress,
        cwd: dir,
      });
      ctx.signal.throwIfAborted();
      return await store(dir, run);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stores what a run wrote, all or nothing (see media-output.ts). */
  store(
    library: LibraryRecord,
    target: OutputTarget,
    files: readonly OutputFile[],
  ): Promise<{ directory?: string; files: StoredFile[] }> {
    return storeOutputs(this.#d, library, target, files);
  }

  /** Plan-time rule failures (AppError InvalidArgument) cannot succeed on a retry. */
  static permanent<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (isAppError(err)) throw new JobFailure('VOD.10053', err.message, false);
      throw err;
    }
  }

  async edit(ctx: JobContext): Promise<unknown> {
    const { job } = ctx;
    const p = job.payload as EditPayload;
    await this.requireTools();
    const library = await this.library(job);
    const clips: ClipInput[] = [];
    for (const input of p.inputs) {
      const { source, probe } = await this.source(library, input, ctx.signal);
      clips.push({ source, start: input.start, end: input.end, probe });
    }
    MediaWork.permanent(() => checkEdit(clips, p.settings));
    return this.inWorkDir(
      job,
      ctx,
      () => MediaWork.permanent(() => planEdit(clips, p.settings, 'output')),
      async (dir, run) => {
        const target = { spaceId: p.output.spaceId, parentId: p.output.parentId, userId: p.userId };
        const output = { name: p.output.name, id: p.output.assetId };
        if (run.contentType !== HLS_CONTENT_TYPE) {
          const main = { path: join(dir, run.files[0]!), contentType: run.contentType, ...output };
          return this.store(library, target, [main]);
        }
        // An HLS output is a directory named after it, holding the playlist (the asset) and its segments.
        const files = await hlsOutputFiles(dir, run.files[0]!, output);
        return this.store(library, { ...target, directory: splitExtension(output.name).base }, files);
      },
    );
  }

  async transcode(ctx: JobContext): Promise<unknown> {
    const { job } = ctx;
    const p = job.payload as TranscodePayload;
    await this.requireTools();
    const library = await this.library(job);
    const { source, probe } = await this.source(library, p.source, ctx.signal);
    const files: StoredFile[] = [];
    for (const template of TEMPLATE_GROUPS[p.template] ?? []) {
      const stored = await this.inWorkDir(
        job,
        ctx,
        () => MediaWork.permanent(() => planTranscode(source, probe, template, 'output')),
        async (dir, run) => {
          const file = run.files[0]!;
          const base = `${p.baseName}_${template.name}`;
          const name = `${base}${file.slice(file.lastIndexOf('.'))}`;
          const target = { spaceId: p.source.spaceId, parentId: p.parentId, userId: p.userId };
          if (run.contentType !== HLS_CONTENT_TYPE) {
            return this.store(library, target, [
              { path: join(dir, file), name, contentType: run.contentType },
            ]);
          }
          const hls = await hlsOutputFiles(dir, file, { name });
          return this.store(library, { ...target, directory: base }, hls);
        },
      );
      files.push(...stored.files);
    }
    return { files };
  }

  async snapshot(ctx: JobContext): Promise<unknown> {
    const { job } = ctx;
    const p = job.payload as SnapshotPayload;
    await this.requireTools();
    const library = await this.library(job);
    const { source, probe } = await this.source(library, p.source, ctx.signal);
    return this.inWorkDir(
      job,
      ctx,
      () => MediaWork.permanent(() => planSnapshot(source, probe, p.thumbnail, 'snapshot')),
      async (dir, run) => {
        const written = new Set(await readdir(dir));
        const images = run.files
          .filter((f) => written.has(f))
          .map((file, i) => {
            const name = `${p.baseName}_snapshot_${String(i + 1).padStart(3, '0')}.jpg`;
            return { path: join(dir, file), name, contentType: contentTypeOf(name) };
          });
        if (images.length === 0)
          throw new JobFailure('VOD.10053', 'The snapshot settings produced no image.', false);
        const target = { spaceId: p.source.spaceId, parentId: p.parentId, userId: p.userId };
        const { files } = await this.store(library, target, images);
        const cover = Math.min(Math.max(1, p.thumbnail.coverPosition), files.length);
        return { files, cover: files[cover - 1]!.assetId };
      },
    );
  }
}

/** VOD's completion message, queued as a `callback` job in the transaction that ends the task. */
async function enqueueCallback(
  tx: Repositories,
  clock: Clock,
  job: JobRecord,
  state: 'SUCCEED' | 'FAILED' | 'CANCEL',
  end: JobEnd,
): Promise<void> {
  const url = (job.payload as { callbackUrl?: string }).callbackUrl;
  if (!url) return;
  const now = clock.now();
  await tx.jobs.insert(
    newJobRecord({
      kind: 'callback',
      libraryId: job.libraryId,
      spaceId: job.spaceId,
      priority: 10,
      payload: {
        url,
        body: {
          event_type: EVENT_TYPES[job.kind] ?? `${job.kind}Complete`,
          edit_info: {
            status: state,
            projectId: job.libraryId,
            assetId: job.assetId,
            taskId: job.id,
            ...(state === 'SUCCEED'
              ? {}
              : { error_code: end.errorCode ?? state, error_msg: end.errorMsg ?? '' }),
          },
        },
      },
      maxAttempts: CALLBACK_ATTEMPTS,
      assetId: job.assetId,
      now,
    }),
  );
}

export function mediaHandlers(deps: MediaHandlerDeps): Record<string, JobHandler> {
  const work = new MediaWork(deps);
  const onEnd = (tx: Repositories, job: JobRecord, state: 'SUCCEED' | 'FAILED' | 'CANCEL', end: JobEnd) =>
    enqueueCallback(tx, deps.clock, job, state, end);
  return {
    edit: { run: (ctx) => work.edit(ctx), onEnd },
    transcode: { run: (ctx) => work.transcode(ctx), onEnd },
    snapshot: { run: (ctx) => work.snapshot(ctx), onEnd },
    callback: {
      async run({ job, signal }) {
        const { url, body } = job.payload as { url: string; body: unknown };
        let res: OutboundResponse;
        try {
          res = await deps.outbound.request(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
            timeoutMs: CALLBACK_TIMEOUT_MS,
            maxResponseBytes: CALLBACK_MAX_RESPONSE_BYTES,
            signal,
          });
        } catch (err) {
          if (!(err instanceof OutboundRefusedError)) throw err;
          // The host only: a callback URL may carry a secret in its path or query.
          const host = URL.canParse(url) ? new URL(url).host : '';
          deps.logger.warn({ jobId: job.id, host, reason: err.message }, 'callback refused');
          throw new JobFailure('CALLBACK_REFUSED', `${err.message}; see --outbound-allow.`, false);
        }
        // Only the status matters.
        res.body.destroy();
        if (res.status >= 300 && res.status < 400) {
          throw new JobFailure(
            'CALLBACK_FAILED',
            `The callback answered ${res.status}; redirects are not followed.`,
            false,
          );
        }
        if (res.status < 200 || res.status >= 300)
          throw new JobFailure('CALLBACK_FAILED', `The callback answered ${res.status}.`, true);
        return { status: res.status };
      },
    },
  };
}
