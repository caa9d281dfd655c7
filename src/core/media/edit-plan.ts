// ffmpeg argument lists for media tasks (spec vod-tasks §1.1, §1.4, §5.2): validation of VOD editing
// settings, timelines and thumbnail parameters, and the plans for clip/join edits, template transcodes
// and snapshots. Pure: it builds arguments; running them is the MediaRunner's job.
import type { MediaProbe } from '../../ports/media-runner.ts';
import { AppError } from '../errors.ts';

export type OutputFormat = 'MP4' | 'HLS' | 'MP3' | 'MOV' | 'FLV' | 'AVI';
export type Reference = 'NONE' | 'MAX_BITRATE' | 'MAX_RESOLUTION';

export interface EditSettings {
  format: OutputFormat;
  /** 0 = follow the reference input. */
  width: number;
  /** 0 = follow the reference input. */
  height: number;
  /** true: `width` is the long edge and `height` the short one; false: literal width × height. */
  adaptation: boolean;
  /** false: never scale above the reference input's resolution. */
  upsample: boolean;
  reference: Reference;
  /** 1 = H.264, 2 = H.265. */
  videoCodec: 1 | 2;
}

export interface ClipInput {
  /** What ffmpeg reads: a local path, a `concat:` list of paths, or an http(s) URL. */
  source: string;
  start: number;
  end: number;
  probe: MediaProbe;
}

export interface PlannedRun {
  args: string[];
  expectedSeconds: number;
  /**
   * Files the run writes in its working directory; the first is the main output. For HLS this is the
   * playlist only: the segments (`<base>_000.ts`, …) are the names the playlist lists, see hlsSegments().
   */
  files: string[];
  contentType: string;
}

export interface TranscodeTemplate {
  name: string;
  format: OutputFormat;
  /** Short edge of the rendition in pixels (0 = the source's); a source is never upscaled. */
  height: number;
  videoBitrate?: string;
  audioBitrate?: string;
}

export interface ThumbnailSettings {
  type: 'time' | 'dots';
  /** Seconds between snapshots (type=time). */
  time?: number;
  /** Seconds at which to take snapshots (type=dots). */
  dots?: number[];
  /** 1-based index of the snapshot that becomes the cover. */
  coverPosition: number;
  /** Longest edge in pixels; never enlarges. */
  maxLength?: number;
  /** 0 = keep the source's ratio, 1 = 16:9 (letterboxed / pillarboxed). */
  aspectRatio: 0 | 1;
}

const FORMATS: readonly OutputFormat[] = ['MP4', 'HLS', 'MP3', 'MOV', 'FLV', 'AVI'];
const REFERENCES: readonly Reference[] = ['NONE', 'MAX_BITRATE', 'MAX_RESOLUTION'];
/** VOD: timeline_start / timeline_end are strings of at most 32 characters. */
const TIMELINE_MAX_LENGTH = 32;
/** A clip may end this far past the probed duration (container and stream durations differ slightly). */
const DURATION_TOLERANCE = 0.05;
/** VOD customization API: with reference=NONE the output frame rate is fixed at 25 fps; joins use it always. */
const JOIN_FPS = 25;
const HLS_SEGMENT_SECONDS = 4;
const AUDIO_BITRATE = '128k';
/** Snapshots are planned only where the video surely has frames (streams may end before the container). */
const SNAPSHOT_END_MARGIN = 0.5;
const MAX_DOTS = 100;
const MAX_THUMBNAIL_EDGE = 4096;

/** VOD §1.1: width/height limits per codec. */
const CODEC_LIMITS = {
  1: { name: 'H.264', minWidth: 32, maxWidth: 4096, minHeight: 32, maxHeight: 2880 },
  2: { name: 'H.265', minWidth: 160, maxWidth: 4096, minHeight: 160, maxHeight: 2880 },
} as const;

const CONTAINERS: Record<OutputFormat, { extension: string; contentType: string }> = {
  MP4: { extension: 'mp4', contentType: 'video/mp4' },
  MOV: { extension: 'mov', contentType: 'video/quicktime' },
  FLV: { extension: 'flv', contentType: 'video/x-flv' },
  AVI: { extension: 'avi', contentType: 'video/x-msvideo' },
  MP3: { extension: 'mp3', contentType: 'audio/mpeg' },
  HLS: { extension: 'm3u8', contentType: 'application/vnd.apple.mpegurl' },
};

/**
 * Transcode template groups (`template_group_name` of /asset/process). Heights are short edges; video
 * is H.264 at CRF 23 capped at `videoBitrate`. A group with several entries gives one output each.
 */
export const TEMPLATE_GROUPS: Readonly<Record<string, readonly TranscodeTemplate[]>> = {
  'mp4-360p': [{ name: '360p', format: 'MP4', height: 360, videoBitrate: '800k', audioBitrate: '96k' }],
  'mp4-720p': [{ name: '720p', format: 'MP4', height: 720, videoBitrate: '2500k', audioBitrate: '128k' }],
  'mp4-1080p': [{ name: '1080p', format: 'MP4', height: 1080, videoBitrate: '5000k', audioBitrate: '192k' }],
  'mp4-multi': [
    { name: '360p', format: 'MP4', height: 360, videoBitrate: '800k', audioBitrate: '96k' },
    { name: '720p', format: 'MP4', height: 720, videoBitrate: '2500k', audioBitrate: '128k' },
  ],
  'hls-720p': [{ name: 'hls-720p', format: 'HLS', height: 720, videoBitrate: '2500k', audioBitrate: '128k' }],
  mp3: [{ name: 'mp3', format: 'MP3', height: 0, audioBitrate: '192k' }],
};

/** VOD.10053 wording: "The request parameter is illegal, illegal field: {xx}." */
function illegal(field: string, why: string): AppError {
  return new AppError(
    'InvalidArgument',
    `The request parameter is illegal, illegal field: ${field} (${why}).`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneOf<T extends string>(raw: unknown, allowed: readonly T[], fallback: T, field: string): T {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    throw illegal(field, `must be one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function boolean(raw: unknown, fallback: boolean, field: string): boolean {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'boolean') throw illegal(field, 'must be true or false');
  return raw;
}

/** VOD §1.1: width/height are integers, 0 = follow the source, fractional input is floored. */
function dimension(raw: unknown, field: string): number {
  if (raw === undefined || raw === null) return 0;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
    throw illegal(field, 'must be a non-negative integer');
  }
  return Math.floor(raw);
}

function integer(raw: unknown, field: string, min: number, max: number): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw illegal(field, `must be an integer from ${min} to ${max}`);
  }
  return raw;
}

/** Parses a VOD `VodEditingSetting` object (spec §1.1); absent fields take VOD's defaults. */
export function parseEditSettings(raw: unknown): EditSettings {
  const field = 'editing_settings';
  if (raw === undefined || raw === null) raw = {};
  if (!isRecord(raw)) throw illegal(field, 'must be an object');
  const codec = raw.video_codec ?? 1;
  if (codec !== 1 && codec !== 2) throw illegal(`${field}.video_codec`, 'must be 1 (H.264) or 2 (H.265)');
  return {
    format: oneOf(raw.format, FORMATS, 'MP4', `${field}.format`),
    width: dimension(raw.width, `${field}.width`),
    height: dimension(raw.height, `${field}.height`),
    adaptation: boolean(raw.resolution_adaptation, true, `${field}.resolution_adaptation`),
    upsample: boolean(raw.resolution_upsample, false, `${field}.resolution_upsample`),
    reference: oneOf(raw.reference, REFERENCES, 'NONE', `${field}.reference`),
    videoCodec: codec,
  };
}

/** VOD §1.1: a cut point in seconds, sent as a string of at most 32 characters; decimals allowed. */
export function parseTimeline(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw illegal(field, 'must be a number of seconds');
    if (value < 0) throw illegal(field, 'must not be negative');
    return value;
  }
  if (typeof value !== 'string' || value === '') throw illegal(field, 'must be a number of seconds');
  if (value.length > TIMELINE_MAX_LENGTH) throw illegal(field, `at most ${TIMELINE_MAX_LENGTH} characters`);
  if (/^-\s*(\d|\.\d)/.test(value)) throw illegal(field, 'must not be negative');
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value)) throw illegal(field, 'must be a number of seconds');
  return Number(value);
}

function hasKnownDuration(probe: MediaProbe): boolean {
  return Number.isFinite(probe.durationSeconds) && probe.durationSeconds > 0;
}

/** Seconds of a clip, its end capped at the source's duration (within the tolerance checkEdit allows). */
function clipLength(clip: ClipInput): number {
  const end = hasKnownDuration(clip.probe) ? Math.min(clip.end, clip.probe.durationSeconds) : clip.end;
  return Math.max(0, end - clip.start);
}

function outputHasVideo(clips: readonly ClipInput[], settings: EditSettings): boolean {
  return settings.format !== 'MP3' && clips.some((c) => c.probe.hasVideo);
}

/**
 * Checks an edit against its probed inputs: cut ranges inside the sources, a container that can hold
 * the streams, and the codec's size limits (spec §1.1, §5.2). Throws InvalidArgument naming the field.
 */
export function checkEdit(clips: ClipInput[], settings: EditSettings): void {
  if (clips.length === 0) throw illegal('inputs', 'at least one input is required');
  clips.forEach((clip, i) => {
    const field = `inputs[${i}]`;
    if (!clip.probe.hasVideo && !clip.probe.hasAudio) {
      throw illegal(`${field}.asset_id`, 'the source has neither audio nor video');
    }
    if (clip.probe.hasVideo && !(clip.probe.width && clip.probe.height)) {
      throw illegal(`${field}.asset_id`, 'the video stream has no dimensions');
    }
    if (clip.start >= clip.end) throw illegal(`${field}.timeline_end`, 'must be greater than timeline_start');
    if (hasKnownDuration(clip.probe) && clip.end > clip.probe.durationSeconds + DURATION_TOLERANCE) {
      throw illegal(
        `${field}.timeline_end`,
        `beyond the source duration of ${seconds(clip.probe.durationSeconds)} s`,
      );
    }
  });
  // VOD §1.1: a video source may not be written to an audio-only container.
  if (settings.format === 'MP3' && clips.some((c) => c.probe.hasVideo)) {
    throw illegal('editing_settings.format', 'a video source may not be written to an audio-only container');
  }
  if (settings.videoCodec === 2 && settings.format === 'FLV' && outputHasVideo(clips, settings)) {
    throw illegal('editing_settings.video_codec', 'H.265 cannot be written to FLV');
  }
  const limits = CODEC_LIMITS[settings.videoCodec];
  if (settings.width !== 0 && (settings.width < limits.minWidth || settings.width > limits.maxWidth)) {
    throw illegal(
      'editing_settings.width',
      `must be 0 or from ${limits.minWidth} to ${limits.maxWidth} for ${limits.name}`,
    );
  }
  if (settings.height !== 0 && (settings.height < limits.minHeight || settings.height > limits.maxHeight)) {
    throw illegal(
      'editing_settings.height',
      `must be 0 or from ${limits.minHeight} to ${limits.maxHeight} for ${limits.name}`,
    );
  }
}

/** A number of seconds as ffmpeg reads it: plain decimal, at most microsecond precision. */
function seconds(value: number): string {
  return String(Number(value.toFixed(6)));
}

function even(value: number): number {
  return Math.max(2, 2 * Math.round(value / 2));
}

function evenFloor(value: number): number {
  return Math.max(2, 2 * Math.floor(value / 2));
}

/** The input whose parameters an edit follows (§1.1 `reference`), among the inputs with video. */
function referenceInput(clips: readonly ClipInput[], reference: Reference): ClipInput | undefined {
  const video = clips.filter((c) => c.probe.hasVideo && c.probe.width && c.probe.height);
  const area = (c: ClipInput) => (c.probe.width ?? 0) * (c.probe.height ?? 0);
  const rate = (c: ClipInput) => c.probe.bitRate ?? 0;
  const pick = reference === 'MAX_RESOLUTION' ? area : reference === 'MAX_BITRATE' ? rate : undefined;
  if (!pick) return video[0];
  // The first of equals wins, so the choice is stable.
  return video.reduce<ClipInput | undefined>(
    (best, c) => (best && pick(best) >= pick(c) ? best : c),
    undefined,
  );
}

/**
 * The frame size of an edit's output (spec §1.1), or undefined when it has no video. Both sizes 0 →
 * the reference input's; one 0 → proportional; both set → as given, with resolution_adaptation reading
 * width as the long edge (swapped for a portrait reference); without resolution_upsample the result is
 * scaled down to fit within the reference size. Always even, as yuv420p needs.
 */
export function outputSize(
  clips: readonly ClipInput[],
  settings: EditSettings,
): { width: number; height: number } | undefined {
  if (!outputHasVideo(clips, settings)) return undefined;
  const ref = referenceInput(clips, settings.reference);
  if (!ref) return undefined;
  const refW = ref.probe.width!;
  const refH = ref.probe.height!;
  const portrait = refH > refW;
  // With adaptation, width/height name the long/short edge; map them onto the frame's axes.
  const [wantW, wantH] =
    settings.adaptation && portrait ? [settings.height, settings.width] : [settings.width, settings.height];
  let w: number;
  let h: number;
  if (wantW === 0 && wantH === 0) {
    [w, h] = [refW, refH];
  } else if (wantH === 0) {
    [w, h] = [wantW, (wantW * refH) / refW];
  } else if (wantW === 0) {
    [w, h] = [(wantH * refW) / refH, wantH];
  } else {
    [w, h] = [wantW, wantH];
  }
  if (settings.upsample) return { width: even(w), height: even(h) };
  if (w > refW || h > refH) {
    const factor = Math.min(refW / w, refH / h);
    w *= factor;
    h *= factor;
  }
  // Rounding to even must not step over an odd reference size either.
  return { width: Math.min(even(w), evenFloor(refW)), height: Math.min(even(h), evenFloor(refH)) };
}

/** Fit inside w×h keeping the picture's aspect, centred on black, square pixels. */
function fitFilters(size: { width: number; height: number }): string[] {
  const { width: w, height: h } = size;
  return [
    `scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2`,
    `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`,
    'setsar=1',
  ];
}

function videoCodecArgs(codec: 1 | 2, format: OutputFormat): string[] {
  if (codec === 1) return ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23'];
  // hvc1 is the tag Apple players require for HEVC in MP4/MOV.
  const tag = format === 'MP4' || format === 'MOV' ? ['-tag:v', 'hvc1'] : [];
  return ['-c:v', 'libx265', '-preset', 'fast', '-x265-params', 'log-level=error', ...tag];
}

function audioCodecArgs(format: OutputFormat, bitrate: string = AUDIO_BITRATE): string[] {
  return format === 'MP3' ? ['-c:a', 'libmp3lame', '-b:a', bitrate] : ['-c:a', 'aac', '-b:a', bitrate];
}

function checkOutputBase(outputBase: string): void {
  // A plain file name in the run's cwd; anything else could be read by ffmpeg as an option or a path.
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(outputBase)) {
    throw new RangeError(`output base must be a plain file name, got '${outputBase}'`);
  }
}

/** §5.2 output format: the muxer arguments and the files written. */
function containerArgs(
  format: OutputFormat,
  outputBase: string,
  hasVideo: boolean,
): { args: string[]; files: string[]; contentType: string } {
  checkOutputBase(outputBase);
  const { extension, contentType } = CONTAINERS[format];
  const main = `${outputBase}.${extension}`;
  switch (format) {
    case 'MP4':
    case 'MOV':
      return {
        args: ['-movflags', '+faststart', '-f', format === 'MP4' ? 'mp4' : 'mov', main],
        files: [main],
        contentType,
      };
    case 'FLV':
    case 'AVI':
      return { args: ['-f', format.toLowerCase(), main], files: [main], contentType };
    case 'MP3':
      return { args: ['-vn', '-f', 'mp3', main], files: [main], contentType };
    case 'HLS':
      return {
        args: [
          // A key frame at every segment boundary, so segments are as long as hls_time asks.
          ...(hasVideo ? ['-force_key_frames', `expr:gte(t,n_forced*${HLS_SEGMENT_SECONDS})`] : []),
          '-f',
          'hls',
          '-hls_time',
          String(HLS_SEGMENT_SECONDS),
          '-hls_playlist_type',
          'vod',
          '-hls_segment_filename',
          `${outputBase}_%03d.ts`,
          main,
        ],
        files: [main],
        contentType,
      };
  }
}

/**
 * The segment names an HLS playlist lists, in order: the rest of an HLS run's files (PlannedRun.files
 * holds only the playlist, as the segment count is known only once ffmpeg has run).
 */
export function hlsSegments(playlist: string): string[] {
  return playlist
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * An edit as one ffmpeg run (spec §1.1, §5.2). One input is a clip: input-side seek and re-encode.
 * Several are each cut the same way, normalised to one size, 25 fps, yuv420p and 48 kHz stereo (silence
 * or black frames stand in for a missing stream) and joined in order with the concat filter.
 */
export function planEdit(clips: ClipInput[], settings: EditSettings, outputBase: string): PlannedRun {
  checkEdit(clips, settings);
  const video = outputHasVideo(clips, settings);
  const audio = clips.some((c) => c.probe.hasAudio);
  const size = outputSize(clips, settings);
  const lengths = clips.map(clipLength);
  const inputs = clips.flatMap((clip, i) => [
    '-ss',
    seconds(clip.start),
    '-t',
    seconds(lengths[i]!),
    '-i',
    clip.source,
  ]);
  let mapping: string[];
  const [only] = clips;
  if (clips.length === 1 && only) {
    mapping = [
      ...(video ? ['-map', '0:v:0', '-vf', [...fitFilters(size!), 'format=yuv420p'].join(',')] : []),
      ...(only.probe.hasAudio ? ['-map', '0:a:0'] : []),
    ];
  } else {
    const chains: string[] = [];
    const pads: string[] = [];
    clips.forEach((clip, i) => {
      const length = seconds(lengths[i]!);
      if (video) {
        const normalise = [...fitFilters(size!), `fps=${JOIN_FPS}`, 'format=yuv420p'].join(',');
        chains.push(
          clip.probe.hasVideo
            ? `[${i}:v:0]${normalise}[v${i}]`
            : `color=c=black:s=${size!.width}x${size!.height}:r=${JOIN_FPS}:d=${length},setsar=1,format=yuv420p[v${i}]`,
        );
        pads.push(`[v${i}]`);
      }
      if (audio) {
        const format = 'aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo';
        // §5.2: synthesise silence with anullsrc for inputs lacking audio, as long as their clip.
        chains.push(
          clip.probe.hasAudio
            ? `[${i}:a:0]aresample=48000,${format}[a${i}]`
            : `anullsrc=r=48000:cl=stereo,atrim=duration=${length},${format}[a${i}]`,
        );
        pads.push(`[a${i}]`);
      }
    });
    const outs = `${video ? '[vout]' : ''}${audio ? '[aout]' : ''}`;
    chains.push(`${pads.join('')}concat=n=${clips.length}:v=${video ? 1 : 0}:a=${audio ? 1 : 0}${outs}`);
    mapping = [
      '-filter_complex',
      chains.join(';'),
      ...(video ? ['-map', '[vout]'] : []),
      ...(audio ? ['-map', '[aout]'] : []),
    ];
  }
  const container = containerArgs(settings.format, outputBase, video);
  return {
    args: [
      ...inputs,
      ...mapping,
      ...(video ? videoCodecArgs(settings.videoCodec, settings.format) : []),
      ...(audio ? audioCodecArgs(settings.format) : []),
      ...container.args,
    ],
    expectedSeconds: lengths.reduce((a, b) => a + b, 0),
    files: container.files,
    contentType: container.contentType,
  };
}

/** Twice a bitrate like `2500k`, for the rate-control buffer. */
function doubled(bitrate: string): string {
  const m = /^(\d+)([kKmM]?)$/.exec(bitrate);
  if (!m) throw new RangeError(`bad bitrate '${bitrate}'`);
  return `${Number(m[1]) * 2}${m[2]}`;
}

/**
 * One rendition of a template group (spec §1.4, §5.2 transcode). The template height is the short
 * edge, so portrait sources keep their orientation; a source is never upscaled.
 */
export function planTranscode(
  source: string,
  probe: MediaProbe,
  template: TranscodeTemplate,
  outputBase: string,
): PlannedRun {
  const audio = probe.hasAudio;
  const video = template.format !== 'MP3' && probe.hasVideo;
  if (template.format === 'MP3' && !audio) throw illegal('template_group_name', 'the source has no audio');
  if (!video && !audio) throw illegal('asset_id', 'the source has neither audio nor video');
  const videoArgs: string[] = [];
  if (video) {
    const w = probe.width ?? 0;
    const h = probe.height ?? 0;
    if (!w || !h) throw illegal('asset_id', 'the video stream has no dimensions');
    const shortEdge = Math.min(w, h);
    const target = template.height > 0 ? Math.min(template.height, shortEdge) : shortEdge;
    const factor = target / shortEdge;
    const size = { width: evenFloor(w * factor), height: evenFloor(h * factor) };
    const cap = template.videoBitrate
      ? ['-maxrate', template.videoBitrate, '-bufsize', doubled(template.videoBitrate)]
      : [];
    videoArgs.push(
      '-map',
      '0:v:0',
      '-vf',
      `scale=${size.width}:${size.height},setsar=1,format=yuv420p`,
      ...videoCodecArgs(1, template.format),
      ...cap,
    );
  }
  const container = containerArgs(template.format, outputBase, video);
  return {
    args: [
      '-i',
      source,
      ...videoArgs,
      ...(audio ? ['-map', '0:a:0', ...audioCodecArgs(template.format, template.audioBitrate)] : []),
      ...container.args,
    ],
    expectedSeconds: hasKnownDuration(probe) ? probe.durationSeconds : 0,
    files: container.files,
    contentType: container.contentType,
  };
}

/** Parses a VOD `Thumbnail` object (spec §1.4). */
export function parseThumbnail(raw: unknown): ThumbnailSettings {
  const field = 'thumbnail';
  if (!isRecord(raw)) throw illegal(field, 'must be an object');
  const type = raw.type;
  if (type !== 'time' && type !== 'dots') throw illegal(`${field}.type`, 'must be time or dots');
  const format = raw.format ?? 1;
  if (format !== 1) throw illegal(`${field}.format`, 'must be 1 (jpg)');
  const aspectRatio = raw.aspect_ratio ?? 0;
  if (aspectRatio !== 0 && aspectRatio !== 1) throw illegal(`${field}.aspect_ratio`, 'must be 0 or 1');
  const settings: ThumbnailSettings = {
    type,
    coverPosition:
      raw.cover_position === undefined || raw.cover_position === null
        ? 1
        : integer(raw.cover_position, `${field}.cover_position`, 1, MAX_DOTS * 1000),
    aspectRatio,
  };
  if (raw.max_length !== undefined && raw.max_length !== null) {
    settings.maxLength = integer(raw.max_length, `${field}.max_length`, 2, MAX_THUMBNAIL_EDGE);
  }
  if (type === 'time') {
    // VOD: time is required with type=time, 1–12 seconds.
    settings.time = integer(raw.time, `${field}.time`, 1, 12);
  } else {
    const dots = raw.dots;
    if (!Array.isArray(dots) || dots.length === 0 || dots.length > MAX_DOTS) {
      throw illegal(`${field}.dots`, `must be a list of 1 to ${MAX_DOTS} seconds`);
    }
    settings.dots = dots.map((d, i) => integer(d, `${field}.dots[${i}]`, 0, Number.MAX_SAFE_INTEGER));
  }
  return settings;
}

/** The snapshot size: max_length caps the long edge; aspect_ratio 1 puts the picture on a 16:9 canvas. */
function snapshotFilters(probe: MediaProbe, thumb: ThumbnailSettings): string[] {
  let w = probe.width!;
  let h = probe.height!;
  if (thumb.aspectRatio === 1) {
    if (w * 9 >= h * 16) h = w * (9 / 16);
    else w = h * (16 / 9);
  }
  const long = Math.max(w, h);
  if (thumb.maxLength && long > thumb.maxLength) {
    w *= thumb.maxLength / long;
    h *= thumb.maxLength / long;
  }
  const size = { width: even(w), height: even(h) };
  return thumb.aspectRatio === 1 ? fitFilters(size) : [`scale=${size.width}:${size.height}`, 'setsar=1'];
}

/**
 * Snapshots of a video (spec §1.4 Thumbnail, §5.2 snapshot) as jpg files `<base>_001.jpg`, … in time
 * order. One decoding pass with a select filter that keeps the first frame at or after each planned
 * instant: type=time plans 0, N, 2N, … and dots the given points (sorted, without repeats). Only
 * instants at least half a second before the end are planned (a point past that but within the
 * duration is moved back to it; later points are dropped), so `files` names exactly what is written.
 * ffmpeg's fps=1/N is not used because it drops a last period shorter than N. The cover is
 * files[min(coverPosition, files.length) - 1].
 */
export function planSnapshot(
  source: string,
  probe: MediaProbe,
  thumb: ThumbnailSettings,
  outputBase: string,
): PlannedRun {
  checkOutputBase(outputBase);
  if (!probe.hasVideo || !probe.width || !probe.height) throw illegal('thumbnail', 'the source has no video');
  const duration = hasKnownDuration(probe) ? probe.durationSeconds : 0;
  const last = Math.max(0, duration - SNAPSHOT_END_MARGIN);
  let select: string;
  let count: number;
  let readUntil: number | undefined;
  if (thumb.type === 'time') {
    const n = thumb.time!;
    count = Math.floor(last / n) + 1;
    // The first frame of each N-second period: at or after 0, N, 2N, …
    select = `isnan(prev_t)+gt(floor(t/${n}),floor(prev_t/${n}))`;
  } else {
    const points = [
      ...new Set((thumb.dots ?? []).filter((d) => d <= duration).map((d) => Math.min(d, last))),
    ].sort((a, b) => a - b);
    if (points.length === 0)
      throw illegal('thumbnail.dots', `every point is past the end (${seconds(duration)} s)`);
    count = points.length;
    select = points.map((p) => `gte(t,${seconds(p)})*(isnan(prev_t)+lt(prev_t,${seconds(p)}))`).join('+');
    readUntil = points[points.length - 1]! + 1;
  }
  const files = Array.from(
    { length: count },
    (_, i) => `${outputBase}_${String(i + 1).padStart(3, '0')}.jpg`,
  );
  const filters = ['setpts=PTS-STARTPTS', `select='${select}'`, ...snapshotFilters(probe, thumb)];
  return {
    args: [
      ...(readUntil === undefined ? [] : ['-t', seconds(readUntil)]),
      '-i',
      source,
      '-map',
      '0:v:0',
      '-vf',
      filters.join(','),
      '-fps_mode',
      'vfr',
      '-frames:v',
      String(count),
      '-q:v',
      '2',
      '-f',
      'image2',
      '-start_number',
      '1',
      `${outputBase}_%03d.jpg`,
    ],
    expectedSeconds: readUntil ?? duration,
    files,
    contentType: 'image/jpeg',
  };
}
