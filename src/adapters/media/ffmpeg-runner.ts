// MediaRunner on the system ffmpeg/ffprobe (spec vod-tasks §5.2): tool detection, ffprobe JSON parsed to
// a MediaProbe, and ffmpeg runs with `-progress pipe:1` progress and abort that kills the whole process
// group before it rejects.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  type MediaProbe,
  type MediaRunner,
  MediaToolError,
  type MediaToolsStatus,
  type RunOptions,
} from '../../ports/media-runner.ts';

export interface FfmpegRunnerOptions {
  ffmpegPath: string;
  ffprobePath: string;
}

const STDERR_TAIL = 4096;
const KILL_GRACE_MS = 2000;
const VERSION_TIMEOUT_MS = 10_000;
const MAX_PROBE_OUTPUT = 16 * 1024 * 1024;
/** ffmpeg runs whatever the caller's args say; these make it quiet, non-interactive and report progress. */
const RUN_PREFIX = ['-hide_banner', '-nostdin', '-y', '-progress', 'pipe:1', '-nostats'];

/** setpriv's exit code when it cannot execute the program it was given. */
const SETPRIV_EXEC_FAILED = 127;

/**
 * On Linux, ffmpeg is started through util-linux's setpriv with a parent-death signal: if this process
 * is killed outright (SIGKILL, OOM), the kernel kills ffmpeg too, instead of leaving it to encode on
 * for nobody. Elsewhere, or without setpriv, only the exit hook below stops it.
 */
function findSetpriv(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
}

/** Process groups of the ffmpeg runs still alive, killed if this process exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // detached children outlive us unless told; 'exit' handlers must be synchronous, and kill() is.
    process.on('exit', () => {
      for (const group of liveGroups) killGroup(group, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

/** Keeps the last `limit` bytes written to it. */
class Tail {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    while (this.#chunks.length > 1 && this.#length - this.#chunks[0]!.length >= this.#limit) {
      this.#length -= this.#chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.#chunks);
    return all
      .subarray(Math.max(0, all.length - this.#limit))
      .toString('utf8')
      .trim();
  }
}

/** A source as it may appear in messages: signed URLs lose their query string (it holds credentials). */
function displaySource(source: string): string {
  return /^https?:\/\//i.test(source) ? source.replace(/[?#].*$/s, '?…') : source;
}

function redact(text: string, source: string): string {
  const shown = displaySource(source);
  return shown === source ? text : text.split(source).join(shown);
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

function notFound(tool: 'ffmpeg' | 'ffprobe', path: string): string {
  return `${tool} not found at '${path}' (install it or set --${tool}-path)`;
}

interface Captured {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a short-lived tool to completion, collecting its output; kills it on abort. */
function capture(
  command: string,
  args: readonly string[],
  options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    let outLength = 0;
    const err = new Tail(STDERR_TAIL);
    child.stdout.on('data', (chunk: Buffer) => {
      outLength += chunk.length;
      if (outLength > MAX_PROBE_OUTPUT) child.kill('SIGKILL');
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      // Spawn failures and aborts; 'close' may still follow, the first settle wins.
      reject(error.name === 'AbortError' && options.signal?.aborted ? options.signal.reason : error);
    });
    child.on('close', (code, signal) => {
      if (outLength > MAX_PROBE_OUTPUT) {
        reject(new MediaToolError(`${command} wrote more than ${MAX_PROBE_OUTPUT} bytes`));
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err.text() });
    });
  });
}

// ffprobe -of json, the parts we read.
interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  tags?: Record<string, string>;
  disposition?: Record<string, number>;
  side_data_list?: { rotation?: number }[];
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { duration?: string; bit_rate?: string; format_name?: string };
}

function positive(value: string | number | undefined): number | undefined {
  const n = typeof value === 'number' ? value : value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Turns of 90° the player applies (display matrix or the older `rotate` tag). */
function isQuarterTurned(stream: ProbeStream): boolean {
  const rotation =
    stream.side_data_list?.find((s) => typeof s.rotation === 'number')?.rotation ??
    Number(stream.tags?.rotate ?? 0);
  return Math.abs(Math.round(rotation / 90)) % 2 === 1;
}

export function parseProbe(output: ProbeOutput): MediaProbe {
  const streams = output.streams ?? [];
  // Cover art in audio files is a "video" stream with attached_pic set; it is not a picture track.
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const audio = streams.find((s) => s.codec_type === 'audio');
  const streamDurations = streams.map((s) => positive(s.duration) ?? 0);
  const probe: MediaProbe = {
    durationSeconds: positive(output.format?.duration) ?? Math.max(0, ...streamDurations),
    hasVideo: video !== undefined,
    hasAudio: audio !== undefined,
  };
  if (video) {
    const w = positive(video.width);
    const h = positive(video.height);
    // ffmpeg applies the rotation when decoding, so report the size as displayed.
    const turned = isQuarterTurned(video);
    if (w !== undefined) probe[turned ? 'height' : 'width'] = w;
    if (h !== undefined) probe[turned ? 'width' : 'height'] = h;
    if (video.codec_name) probe.videoCodec = video.codec_name;
  }
  if (audio?.codec_name) probe.audioCodec = audio.codec_name;
  const bitRate = positive(output.format?.bit_rate);
  if (bitRate !== undefined) probe.bitRate = bitRate;
  if (output.format?.format_name) probe.formatName = output.format.format_name;
  return probe;
}

export class FfmpegRunner implements MediaRunner {
  readonly #ffmpeg: string;
  readonly #ffprobe: string;
  readonly #setpriv: string | undefined;
  #status: Promise<MediaToolsStatus> | undefined;

  constructor(options: FfmpegRunnerOptions) {
    this.#ffmpeg = options.ffmpegPath;
    this.#ffprobe = options.ffprobePath;
    this.#setpriv = findSetpriv();
  }

  /** Whether both tools run, checked once; never throws. */
  status(): Promise<MediaToolsStatus> {
    this.#status ??= (async () => {
      const [ffmpeg, ffprobe] = await Promise.all([
        this.#version('ffmpeg', this.#ffmpeg),
        this.#version('ffprobe', this.#ffprobe),
      ]);
      const reasons = [ffmpeg.reason, ffprobe.reason].filter((r) => r !== undefined);
      return {
        available: reasons.length === 0,
        ...(ffmpeg.line ? { ffmpeg: ffmpeg.line } : {}),
        ...(ffprobe.line ? { ffprobe: ffprobe.line } : {}),
        ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      };
    })();
    return this.#status;
  }

  async #version(tool: 'ffmpeg' | 'ffprobe', path: string): Promise<{ line?: string; reason?: string }> {
    try {
      const result = await capture(path, ['-version'], { timeoutMs: VERSION_TIMEOUT_MS });
      const line = result.stdout.toString('utf8').split('\n', 1)[0]?.trim() ?? '';
      if (result.code !== 0 || line === '') {
        const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
        return { reason: `${tool} at '${path}' ${how}${result.stderr ? `: ${result.stderr}` : ''}` };
      }
      return { line };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return { reason: notFound(tool, path) };
      return { reason: `${tool} at '${path}' cannot run: ${(err as Error).message}` };
    }
  }

  async probe(source: string, signal?: AbortSignal): Promise<MediaProbe> {
    signal?.throwIfAborted();
    // `-i` so that a source beginning with '-' is still read as an input; URLs are passed as they are.
    const args = ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', '-i', source];
    let result: Captured;
    try {
      result = await capture(this.#ffprobe, args, signal ? { signal } : {});
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (isErrno(err, 'ENOENT'))
        throw new MediaToolError(notFound('ffprobe', this.#ffprobe), { cause: err });
      throw new MediaToolError(`ffprobe cannot run: ${(err as Error).message}`, { cause: err });
    }
    const shown = displaySource(source);
    if (result.code !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      const detail = redact(result.stderr, source) || 'no error output';
      throw new MediaToolError(`ffprobe could not read '${shown}' (${how}): ${detail}`);
    }
    let parsed: ProbeOutput;
    try {
      parsed = JSON.parse(result.stdout.toString('utf8')) as ProbeOutput;
    } catch (err) {
      throw new MediaToolError(`ffprobe gave unreadable output for '${shown}'`, { cause: err });
    }
    return parseProbe(parsed);
  }

  /**
   * One ffmpeg run in its own process group. Progress is out_time over expectedSeconds, capped at 1 and
   * never decreasing; 1 is reported when ffmpeg says `progress=end`. On abort (or a throwing onProgress)
   * the group gets SIGTERM, then SIGKILL after a grace period, and the promise rejects only once ffmpeg
   * has exited.
   */
  run(args: readonly string[], options: RunOptions): Promise<void> {
    const { signal, expectedSeconds, onProgress, cwd } = options;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      let child: ChildProcess;
      try {
        const command = [this.#ffmpeg, ...RUN_PREFIX, ...args];
        const wrapped = this.#setpriv ? [this.#setpriv, '--pdeathsig', 'KILL', '--', ...command] : command;
        child = spawn(wrapped[0]!, wrapped.slice(1), {
          cwd,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (err) {
        reject(err);
        return;
      }
      const stderr = new Tail(STDERR_TAIL);
      let stopReason: { error: unknown } | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let spawnError: Error | undefined;
      let reported = 0;
      let pending = '';
      const pid = child.pid;
      if (pid !== undefined) trackGroup(pid);

      const stop = (error: unknown): void => {
        if (stopReason) return;
        stopReason = { error };
        if (pid === undefined) return;
        killGroup(pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
      };
      const onAbort = (): void => stop(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });

      const report = (fraction: number): void => {
        if (stopReason || !(fraction > reported)) return;
        reported = fraction;
        try {
          onProgress(fraction);
        } catch (err) {
          stop(err);
        }
      };
      const readLine = (line: string): void => {
        const eq = line.indexOf('=');
        if (eq < 0) return;
        const key = line.slice(0, eq);
        const value = line.slice(eq + 1).trim();
        // out_time_ms is in microseconds as well (a long-standing ffmpeg quirk).
        if ((key === 'out_time_us' || key === 'out_time_ms') && expectedSeconds > 0) {
          const us = Number(value);
          if (Number.isFinite(us) && us > 0) report(Math.min(1, us / 1e6 / expectedSeconds));
        } else if (key === 'progress' && value === 'end') {
          report(1);
        }
      };
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) readLine(line);
      });
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (err) => {
        spawnError = err;
      });
      // 'close' comes after the process exited and its pipes were drained, so every progress line is in.
      child.on('close', (code, exitSignal) => {
        if (pid !== undefined) liveGroups.delete(pid);
        clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        if (stopReason) {
          reject(stopReason.error);
        } else if (spawnError) {
          reject(
            isErrno(spawnError, 'ENOENT')
              ? new MediaToolError(notFound('ffmpeg', this.#ffmpeg), { cause: spawnError })
              : new MediaToolError(`ffmpeg cannot run: ${spawnError.message}`, { cause: spawnError }),
          );
        } else if (code === 0) {
          resolve();
        } else if (this.#setpriv && code === SETPRIV_EXEC_FAILED && /setpriv: /.test(stderr.text())) {
          const why = stderr.text().trim();
          reject(
            new MediaToolError(
              /No such file or directory/.test(why)
                ? notFound('ffmpeg', this.#ffmpeg)
                : `ffmpeg cannot run: ${why}`,
            ),
          );
        } else {
          const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
          const detail = args.reduce((text, arg) => redact(text, arg), stderr.text());
          reject(new MediaToolError(`ffmpeg ${how}: ${detail || 'no error output'}`));
        }
      });
    });
  }
}
