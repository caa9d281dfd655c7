// The media job handlers: edit (clip and join), transcode and snapshot run ffmpeg in a private work
// directory, store what it wrote as new files of the library, and remove the work directory whatever
// happens (so a stopped task leaves no partial output). A task's end enqueues its callback, if any.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAppError } from '../core/errors.ts';
import { newJobRecord } from '../core/jobs/job-record.ts';
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
import { contentTypeOf } from '../core/namespace/names.ts';
import { type NamespaceService, newObjectKey, ROOT } from '../core/namespace/namespace-service.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { MediaProbe, MediaRunner } from '../ports/media-runner.ts';
import type {
  InodeRecord,
  JobEnd,
  JobRecord,
  LibraryRecord,
  MetadataStore,
  Repositories,
} from '../ports/metadata-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { type JobContext, JobFailure, type JobHandler } from './job-runner.ts';

export interface MediaHandlerDeps {
  store: MetadataStore;
  objects: ObjectStore;
  runner: MediaRunner;
  namespace: NamespaceService;
  clock: Clock;
  logger: Logger;
  /** Where work directories are made. */
  workDir: string;
}

interface StoredFile {
  assetId: string;
  name: string;
  size: number;
}

/** Huawei's completion events, one per kind of task (spec vod-tasks §5.3). */
const EVENT_TYPES: Record<string, string> = {
  edit: 'editComplete',
  transcode: 'transcodeComplete',
  snapshot: 'thumbnailComplete',
};

const CALLBACK_ATTEMPTS = 5;
const CALLBACK_TIMEOUT_MS = 10_000;

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

  /** Stores a local file as a new file of the library (renamed if its name is taken meanwhile). */
  async place(
    library: LibraryRecord,
    target: { spaceId: string; parentId: string; name: string; userId: string; id?: string },
    path: string,
    contentType: string,
  ): Promise<StoredFile> {
    const objectKey = newObjectKey(library.id);
    const loc = { library, key: objectKey };
    const object = await this.#d.objects.putFile(loc, path, { contentType });
    try {
      const placed = await this.#d.store.transaction(async (tx) => {
        const space = await tx.spaces.get(library.id, target.spaceId);
        if (!space) throw new JobFailure('VOD.10062', `Space ${target.spaceId} no longer exists.`, false);
        const parentExists =
          target.parentId === ROOT || (await tx.inodes.get(library.id, target.spaceId, target.parentId));
        return this.#d.namespace.placeFile(tx, {
          space,
          // The output directory may have been deleted while the task ran: the root receives the file.
          parentId: parentExists ? target.parentId : ROOT,
          name: target.name,
          strategy: 'rename',
          userId: target.userId,
          content: {
            size: object.size,
            contentType,
            etag: object.etag,
            crc64: object.crc64,
            objectKey,
            meta: {},
            attributes: {},
            beginningHash: null,
            fullHash: null,
          },
          ...(target.id ? { id: target.id } : {}),
        });
      });
      return { assetId: placed.inode.id, name: placed.inode.name, size: placed.inode.size };
    } catch (err) {
      await this.#d.objects.deleteObject(loc).catch(() => {});
      throw err;
    }
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
        if (run.files.length > 1 || run.contentType === 'application/vnd.apple.mpegurl') {
          return this.#storeHls(library, { ...target, name: p.output.name, id: p.output.assetId }, dir, run);
        }
        const main = await this.place(
          library,
          { ...target, name: p.output.name, id: p.output.assetId },
          join(dir, run.files[0]!),
          run.contentType,
        );
        return { files: [main] };
      },
    );
  }

  /** An HLS output is a playlist and its segments: they go into a directory named after the output. */
  async #storeHls(
    library: LibraryRecord,
    target: { spaceId: string; parentId: string; name: string; userId: string; id: string },
    dir: string,
    run: PlannedRun,
  ): Promise<unknown> {
    const folder = await this.#d.store.transaction(async (tx) => {
      const space = (await tx.spaces.get(library.id, target.spaceId))!;
      return this.#d.namespace.placeDirectory(tx, {
        space,
        parentId: target.parentId,
        name: target.name.replace(/\.m3u8$/, ''),
        strategy: 'rename',
        userId: target.userId,
      });
    });
    const playlist = run.files[0]!;
    const segments = (await readdir(dir)).filter((f) => f !== playlist && f.endsWith('.ts')).sort();
    const stored: StoredFile[] = [];
    stored.push(
      await this.place(
        library,
        { ...target, parentId: folder.id, name: playlist, id: target.id },
        join(dir, playlist),
        run.contentType,
      ),
    );
    for (const segment of segments) {
      stored.push(
        await this.place(
          library,
          { ...target, parentId: folder.id, name: segment },
          join(dir, segment),
          'video/mp2t',
        ),
      );
    }
    return { directory: folder.id, files: stored };
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
          const ext = file.slice(file.lastIndexOf('.'));
          const name = `${p.baseName}_${template.name}${ext}`;
          return this.place(
            library,
            { spaceId: p.source.spaceId, parentId: p.parentId, name, userId: p.userId },
            join(dir, file),
            run.contentType,
          );
        },
      );
      files.push(stored);
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
        const files: StoredFile[] = [];
        for (const [i, file] of run.files.filter((f) => written.has(f)).entries()) {
          const name = `${p.baseName}_snapshot_${String(i + 1).padStart(3, '0')}.jpg`;
          files.push(
            await this.place(
              library,
              { spaceId: p.source.spaceId, parentId: p.parentId, name, userId: p.userId },
              join(dir, file),
              contentTypeOf(name),
            ),
          );
        }
        if (files.length === 0)
          throw new JobFailure('VOD.10053', 'The snapshot settings produced no image.', false);
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
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(CALLBACK_TIMEOUT_MS)]),
        });
        await res.body?.cancel();
        if (!res.ok) throw new JobFailure('CALLBACK_FAILED', `The callback answered ${res.status}.`, true);
        return { status: res.status };
      },
    },
  };
}
