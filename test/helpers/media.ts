// Media fixtures made at test time with ffmpeg's lavfi sources (no binaries in the repository), and
// ffprobe to check what a task produced.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClipOptions {
  seconds: number;
  width?: number;
  height?: number;
  audio?: boolean;
  /** Audio only (an mp3). */
  audioOnly?: boolean;
}

/** Writes a test clip (testsrc video + sine audio) and returns its path. */
export async function makeClip(dir: string, name: string, options: ClipOptions): Promise<string> {
  const path = join(dir, name);
  const size = `${options.width ?? 320}x${options.height ?? 180}`;
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  if (!options.audioOnly)
    args.push('-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25:duration=${options.seconds}`);
  if (options.audio !== false || options.audioOnly) {
    args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${options.seconds}`);
  }
  if (options.audioOnly) args.push('-c:a', 'libmp3lame');
  else
    args.push(
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      ...(options.audio === false ? [] : ['-c:a', 'aac']),
    );
  args.push('-shortest', path);
  await run('ffmpeg', args);
  return path;
}

export interface Probed {
  duration: number;
  format: string;
  video?: { codec: string; width: number; height: number };
  audio?: { codec: string };
}

export async function probeFile(path: string): Promise<Probed> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_format',
    '-show_streams',
    '-of',
    'json',
    path,
  ]);
  const data = JSON.parse(stdout) as {
    format: { duration?: string; format_name: string };
    streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
  };
  const video = data.streams.find((s) => s.codec_type === 'video');
  const audio = data.streams.find((s) => s.codec_type === 'audio');
  return {
    duration: Number(data.format.duration ?? 0),
    format: data.format.format_name,
    ...(video
      ? { video: { codec: video.codec_name, width: video.width ?? 0, height: video.height ?? 0 } }
      : {}),
    ...(audio ? { audio: { codec: audio.codec_name } } : {}),
  };
}

export async function hasEncoder(name: string): Promise<boolean> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-encoders']);
  return stdout.split('\n').some((line) => line.trim().split(/\s+/)[1] === name);
}
