// `mediahost upload <local...> <remote-dir>`: files and directory trees into a remote directory,
// several files and parts at once, resumable after Ctrl-C or a crash (ADR 0008 §5-8).
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT_FAILED, EXIT_INTERRUPTED, errorJson, SmhError, usageError } from './cli-error.ts';
import { resolveConnection } from './connection-options.ts';
import { onInterrupt } from './interrupt.ts';
import { formatBytes, Progress, progressMode } from './progress.ts';
import { parseRemotePath, showPath } from './remote-path.ts';
import { Slots } from './slots.ts';
import { SmhHttpClient } from './smh-http-client.ts';
import { type ConflictStrategy, type UploadJob, UploadSession } from './upload-session.ts';
import { UploadState } from './upload-state.ts';

export interface UploadOptions {
  parallel: number;
  partSize: number;
  conflict: ConflictStrategy;
  json?: boolean;
}

interface Plan {
  /** Remote directories to have, parents first. */
  directories: string[][];
  files: (UploadJob & { label: string })[];
}

/** What to upload: the files given, and every file and directory below the directories given. */
export function planUpload(locals: string[], remoteDir: string[], note: (text: string) => void): Plan {
  const plan: Plan = { directories: remoteDir.length > 0 ? [remoteDir] : [], files: [] };
  const targets = new Map<string, string>();
  const addFile = (local: string, label: string, remote: string[]) => {
    const stat = statSync(local);
    const key = showPath(remote);
    const other = targets.get(key);
    if (other) throw usageError(`${other} and ${label} would both be uploaded to ${key}`);
    targets.set(key, label);
    plan.files.push({ localPath: resolve(local), label, remote, size: stat.size, mtimeMs: stat.mtimeMs });
  };
  const walk = (dir: string, label: string, remote: string[]) => {
    plan.directories.push(remote);
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const childLabel = join(label, entry.name);
      const kind = entry.isSymbolicLink() ? statSync(path, { throwIfNoEntry: false }) : entry;
      if (kind?.isFile()) addFile(path, childLabel, [...remote, entry.name]);
      else if (kind?.isDirectory() && !entry.isSymbolicLink())
        walk(path, childLabel, [...remote, entry.name]);
      // A linked directory could lead back up the tree; a socket or device has no bytes to send.
      else
        note(
          `skipping ${childLabel}: ${entry.isSymbolicLink() ? 'a symbolic link to a directory or nothing' : 'not a regular file'}`,
        );
    }
  };
  for (const local of locals) {
    const stat = statSync(local, { throwIfNoEntry: false });
    if (!stat) throw usageError(`${local}: no such file or directory`);
    const name = basename(resolve(local));
    if (stat.isFile()) addFile(local, local, [...remoteDir, name]);
    else if (stat.isDirectory()) walk(local, local, [...remoteDir, name]);
    else throw usageError(`${local} is neither a file nor a directory`);
  }
  return plan;
}

/** Creates a remote directory with its parents; one that exists is fine, a file in its place is not. */
async function ensureDirectory(
  client: SmhHttpClient,
  segments: string[],
  signal: AbortSignal,
): Promise<void> {
  try {
    await client.request('PUT', client.path('directory', segments), {
      query: { conflict_resolution_strategy: 'ask' },
      signal,
    });
  } catch (err) {
    if (!(err instanceof SmhError) || err.code !== 'SameNameDirectoryOrFileExists') throw err;
    const { body } = await client.request<{ type: string }>('GET', client.path('directory', segments), {
      query: { info: true },
      signal,
    });
    if (body.type !== 'dir') throw new CliError(`${showPath(segments)} is a file, not a directory`);
  }
}

export async function runUpload(
  locals: string[],
  remoteDirText: string,
  options: UploadOptions,
  command: Command,
): Promise<number> {
  const progress = new Progress(progressMode(options.json === true), 'uploading');
  const remoteDir = parseRemotePath(remoteDirText).segments;
  const plan = planUpload(locals, remoteDir, (text) => progress.note(text));
  const client = new SmhHttpClient(resolveConnection(command, (text) => progress.note(text)));
  const interrupt = onInterrupt(() =>
    progress.note(
      'stopping: the parts in flight are dropped, the upload tasks kept (Ctrl-C again quits at once)',
    ),
  );
  const counts = { uploaded: 0, skipped: 0, failed: 0 };
  try {
    for (const dir of plan.directories) await ensureDirectory(client, dir, interrupt.signal);
    const total = plan.files.reduce((sum, f) => sum + f.size, 0);
    progress.start(plan.files.length, total);
    const context = {
      client,
      state: new UploadState(),
      slots: new Slots(options.parallel),
      progress,
      partSize: options.partSize,
      strategy: options.conflict,
      signal: interrupt.signal,
    };
    const queue = [...plan.files];
    const worker = async () => {
      for (let job = queue.shift(); job && !interrupt.signal.aborted; job = queue.shift()) {
        const bar = progress.file(job.label, job.size);
        try {
          const result = await new UploadSession(job, context, bar).run();
          counts[result.status]++;
          progress.fileFinished();
          progress.event({ event: 'file', local: job.localPath, size: job.size, ...result });
          progress.say(
            result.status === 'skipped'
              ? `skipped  ${job.label}: ${result.remote} has the same content`
              : `uploaded ${job.label} -> ${result.remote} (${formatBytes(job.size)})`,
          );
        } catch (err) {
          if (interrupt.signal.aborted) break;
          counts.failed++;
          progress.fileFinished();
          progress.event({
            event: 'error',
            local: job.localPath,
            remote: showPath(job.remote),
            error: errorJson(err),
          });
          progress.note(
            `mediahost upload: ${job.label}: ${err instanceof Error ? err.message : String(err)}`,
          );
        } finally {
          bar.close();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.parallel, plan.files.length) }, worker));
  } catch (err) {
    if (!interrupt.signal.aborted) throw err;
  } finally {
    progress.stop();
    interrupt.dispose();
    await client.close();
  }
  const left = plan.files.length - counts.uploaded - counts.skipped - counts.failed;
  if (interrupt.signal.aborted) {
    progress.note(`stopped with ${left} file(s) left: run the same command again to resume`);
    progress.event({ event: 'stopped', ...counts, left });
    return EXIT_INTERRUPTED;
  }
  progress.event({ event: 'done', ...counts });
  progress.say(`${counts.uploaded} uploaded, ${counts.skipped} skipped, ${counts.failed} failed`);
  return counts.failed > 0 ? EXIT_FAILED : 0;
}
