// MediaRunner: probing and transcoding media with the system's ffmpeg/ffprobe. The contract:
// - status() says whether the tools can run (and why not), without throwing;
// - probe() describes a source (a local path, a `concat:` list of paths, or an http(s) URL);
// - run() executes one ffmpeg invocation, reports progress as a fraction of the expected output
//   duration, and on abort kills the whole process group before it rejects.

export interface MediaProbe {
  durationSeconds: number;
  hasVideo: boolean;
  hasAudio: boolean;
  width?: number;
  height?: number;
  /** Bits per second of the whole file, when known. */
  bitRate?: number;
  videoCodec?: string;
  audioCodec?: string;
  formatName?: string;
}

export interface MediaToolsStatus {
  available: boolean;
  ffmpeg?: string;
  ffprobe?: string;
  /** Why the tools cannot run, when they cannot. */
  reason?: string;
}

export interface RunOptions {
  signal: AbortSignal;
  /** Seconds of output expected, to turn ffmpeg's out_time into a fraction. */
  expectedSeconds: number;
  onProgress(fraction: number): void;
  /** Working directory for relative output names (HLS segments). */
  cwd: string;
}

export class MediaToolError extends Error {
  override name = 'MediaToolError';
}

export interface MediaRunner {
  status(): Promise<MediaToolsStatus>;
  probe(source: string, signal?: AbortSignal): Promise<MediaProbe>;
  run(args: readonly string[], options: RunOptions): Promise<void>;
}
