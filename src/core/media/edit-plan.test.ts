// The ffmpeg plans for edits, transcodes and snapshots, and the validation of VOD editing settings,
// timelines and thumbnails (spec vod-tasks §1.1, §1.4, §5.2). Argument construction only; no ffmpeg.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MediaProbe } from '../../ports/media-runner.ts';
import { AppError } from '../errors.ts';
import {
  type ClipInput,
  checkEdit,
  type EditSettings,
  hlsSegments,
  outputSize,
  parseEditSettings,
  parseThumbnail,
  parseTimeline,
  planEdit,
  planSnapshot,
  planTranscode,
  TEMPLATE_GROUPS,
} from './edit-plan.ts';

const DEFAULTS = parseEditSettings({});

function video(width: number, height: number, extra: Partial<MediaProbe> = {}): MediaProbe {
  return { durationSeconds: 4, hasVideo: true, hasAudio: true, width, height, bitRate: 500_000, ...extra };
}

const AUDIO_ONLY: MediaProbe = { durationSeconds: 4, hasVideo: false, hasAudio: true, bitRate: 128_000 };

function clip(probe: MediaProbe, start = 0, end = 2, source = 'in.mp4'): ClipInput {
  return { source, start, end, probe };
}

function settings(overrides: Partial<EditSettings> = {}): EditSettings {
  return { ...DEFAULTS, ...overrides };
}

/** Asserts an InvalidArgument naming `field`, with `why` in the message when given. */
function rejects(fn: () => unknown, field: string, why?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, 'InvalidArgument');
    assert.ok(err.message.includes(`illegal field: ${field} (`), err.message);
    if (why) assert.match(err.message, why);
    return true;
  });
}

/** Every value given to `flag` in an argument list. */
function values(args: readonly string[], flag: string): string[] {
  return args.slice(1).filter((_, i) => args[i] === flag);
}

/** The value after `flag` in an argument list. */
function after(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

describe('parseEditSettings', () => {
  it('takes VOD defaults for absent fields', () => {
    const want: EditSettings = {
      format: 'MP4',
      width: 0,
      height: 0,
      adaptation: true,
      upsample: false,
      reference: 'NONE',
      videoCodec: 1,
    };
    assert.deepEqual(parseEditSettings({}), want);
    assert.deepEqual(parseEditSettings(undefined), want);
    assert.deepEqual(parseEditSettings(null), want);
  });

  it('reads every VodEditingSetting field and floors fractional sizes', () => {
    assert.deepEqual(
      parseEditSettings({
        format: 'HLS',
        width: 1280.9,
        height: 720.2,
        resolution_adaptation: false,
        resolution_upsample: true,
        reference: 'MAX_BITRATE',
        video_codec: 2,
        unknown_field: 'ignored',
      }),
      {
        format: 'HLS',
        width: 1280,
        height: 720,
        adaptation: false,
        upsample: true,
        reference: 'MAX_BITRATE',
        videoCodec: 2,
      },
    );
  });

  it('refuses bad values, naming the field', () => {
    rejects(() => parseEditSettings([]), 'editing_settings', /object/);
    rejects(() => parseEditSettings('MP4'), 'editing_settings');
    rejects(() => parseEditSettings({ format: 'MKV' }), 'editing_settings.format', /MP4, HLS, MP3/);
    rejects(() => parseEditSettings({ format: 'mp4' }), 'editing_settings.format');
    rejects(() => parseEditSettings({ width: -1 }), 'editing_settings.width');
    rejects(() => parseEditSettings({ width: '640' }), 'editing_settings.width');
    rejects(() => parseEditSettings({ height: Number.NaN }), 'editing_settings.height');
    rejects(() => parseEditSettings({ height: Number.POSITIVE_INFINITY }), 'editing_settings.height');
    rejects(
      () => parseEditSettings({ resolution_adaptation: 'true' }),
      'editing_settings.resolution_adaptation',
    );
    rejects(() => parseEditSettings({ resolution_upsample: 1 }), 'editing_settings.resolution_upsample');
    rejects(() => parseEditSettings({ reference: 'MIN' }), 'editing_settings.reference');
    rejects(() => parseEditSettings({ video_codec: 3 }), 'editing_settings.video_codec');
    rejects(() => parseEditSettings({ video_codec: '1' }), 'editing_settings.video_codec');
  });
});

describe('parseTimeline', () => {
  it('reads seconds sent as strings (decimals allowed) or numbers', () => {
    assert.equal(parseTimeline('0', 'f'), 0);
    assert.equal(parseTimeline('12', 'f'), 12);
    assert.equal(parseTimeline('1.5', 'f'), 1.5);
    assert.equal(parseTimeline('.25', 'f'), 0.25);
    assert.equal(parseTimeline('3.', 'f'), 3);
    assert.equal(parseTimeline(2.75, 'f'), 2.75);
    assert.equal(parseTimeline('1'.padStart(32, '0'), 'f'), 1);
  });

  it('refuses negative, non-numeric and over-long values', () => {
    const field = 'inputs[0].timeline_start';
    rejects(() => parseTimeline('-1', field), field, /negative/);
    rejects(() => parseTimeline('-0.5', field), field, /negative/);
    rejects(() => parseTimeline(-2, field), field, /negative/);
    rejects(() => parseTimeline('1'.padStart(33, '0'), field), field, /32 characters/);
    for (const bad of [
      '',
      'abc',
      'NaN',
      '1e3',
      ' 1',
      '1,5',
      '0x10',
      'Infinity',
      Number.NaN,
      Infinity,
      null,
      {},
    ]) {
      rejects(() => parseTimeline(bad, field), field);
    }
    rejects(() => parseTimeline(undefined, 'inputs[2].timeline_end'), 'inputs[2].timeline_end');
  });
});

describe('checkEdit', () => {
  it('accepts a valid edit', () => {
    checkEdit([clip(video(640, 360), 0, 4.04), clip(AUDIO_ONLY, 1, 3)], DEFAULTS);
  });

  it('needs at least one input with a stream and a size', () => {
    rejects(() => checkEdit([], DEFAULTS), 'inputs');
    rejects(
      () => checkEdit([clip({ durationSeconds: 4, hasVideo: false, hasAudio: false })], DEFAULTS),
      'inputs[0].asset_id',
    );
    rejects(
      () => checkEdit([clip({ ...video(640, 360), width: undefined })], DEFAULTS),
      'inputs[0].asset_id',
    );
  });

  it('needs start < end within the source duration (+0.05 s)', () => {
    const v = video(640, 360);
    rejects(
      () => checkEdit([clip(v), clip(v, 2, 2)], DEFAULTS),
      'inputs[1].timeline_end',
      /must be greater than timeline_start/,
    );
    rejects(() => checkEdit([clip(v, 3, 1)], DEFAULTS), 'inputs[0].timeline_end');
    rejects(
      () => checkEdit([clip(v, 1, 4.06)], DEFAULTS),
      'inputs[0].timeline_end',
      /beyond the source duration/,
    );
    checkEdit([clip(v, 1, 4.05)], DEFAULTS);
  });

  it('refuses a video source in an audio-only container', () => {
    rejects(
      () => checkEdit([clip(AUDIO_ONLY), clip(video(640, 360))], settings({ format: 'MP3' })),
      'editing_settings.format',
      /a video source may not be written to an audio-only container/,
    );
    checkEdit([clip(AUDIO_ONLY), clip(AUDIO_ONLY)], settings({ format: 'MP3' }));
  });

  it('enforces the codec size limits when a size is given', () => {
    const v = [clip(video(640, 360))];
    checkEdit(v, settings({ width: 32, height: 2880 }));
    checkEdit(v, settings({ width: 4096, height: 32 }));
    rejects(() => checkEdit(v, settings({ width: 31 })), 'editing_settings.width', /32 to 4096 for H\.264/);
    rejects(() => checkEdit(v, settings({ width: 4097 })), 'editing_settings.width');
    rejects(() => checkEdit(v, settings({ height: 2881 })), 'editing_settings.height', /32 to 2880/);
    checkEdit(v, settings({ videoCodec: 2, width: 160, height: 160 }));
    rejects(
      () => checkEdit(v, settings({ videoCodec: 2, width: 159 })),
      'editing_settings.width',
      /160 to 4096 for H\.265/,
    );
    rejects(() => checkEdit(v, settings({ videoCodec: 2, height: 100 })), 'editing_settings.height');
  });

  it('refuses H.265 in FLV, which cannot carry it', () => {
    rejects(
      () => checkEdit([clip(video(640, 360))], settings({ format: 'FLV', videoCodec: 2 })),
      'editing_settings.video_codec',
    );
  });
});

describe('outputSize', () => {
  const landscape = clip(video(640, 360));
  const portrait = clip(video(360, 640));
  const size = (clips: ClipInput[], s: Partial<EditSettings>) => outputSize(clips, settings(s));

  it('follows the reference input', () => {
    const big = clip(video(1280, 720, { bitRate: 100_000 }));
    const rich = clip(video(480, 270, { bitRate: 9_000_000 }));
    assert.deepEqual(size([landscape, big, rich], {}), { width: 640, height: 360 });
    assert.deepEqual(size([landscape, big, rich], { reference: 'MAX_RESOLUTION' }), {
      width: 1280,
      height: 720,
    });
    assert.deepEqual(size([landscape, big, rich], { reference: 'MAX_BITRATE' }), { width: 480, height: 270 });
    // NONE takes the first input that has video.
    assert.deepEqual(size([clip(AUDIO_ONLY), big], {}), { width: 1280, height: 720 });
    assert.equal(size([clip(AUDIO_ONLY)], {}), undefined);
    assert.equal(size([clip(AUDIO_ONLY)], { format: 'MP3' }), undefined);
  });

  it('scales the missing side proportionally', () => {
    assert.deepEqual(size([landscape], { width: 320 }), { width: 320, height: 180 });
    assert.deepEqual(size([landscape], { height: 180 }), { width: 320, height: 180 });
    assert.deepEqual(size([landscape], { width: 300 }), { width: 300, height: 168 });
  });

  it('reads width as the long edge with resolution_adaptation', () => {
    assert.deepEqual(size([portrait], { width: 320, height: 180 }), { width: 180, height: 320 });
    assert.deepEqual(size([portrait], { width: 320 }), { width: 180, height: 320 });
    assert.deepEqual(size([portrait], { height: 180 }), { width: 180, height: 320 });
    assert.deepEqual(size([landscape], { width: 320, height: 180 }), { width: 320, height: 180 });
    // Literal without adaptation: 320×180 on a portrait source.
    assert.deepEqual(size([portrait], { width: 320, height: 180, adaptation: false }), {
      width: 320,
      height: 180,
    });
  });

  it('never exceeds the reference size unless resolution_upsample', () => {
    assert.deepEqual(size([landscape], { width: 1280, height: 720 }), { width: 640, height: 360 });
    assert.deepEqual(size([landscape], { width: 1280 }), { width: 640, height: 360 });
    // Fitted proportionally: 640×640 does not fit 640×360, so 360×360.
    assert.deepEqual(size([landscape], { width: 640, height: 640, adaptation: false }), {
      width: 360,
      height: 360,
    });
    assert.deepEqual(size([landscape], { width: 1280, height: 720, upsample: true }), {
      width: 1280,
      height: 720,
    });
    assert.deepEqual(size([landscape], { height: 1080, upsample: true }), { width: 1920, height: 1080 });
  });

  it('always gives even sizes, never above an odd reference', () => {
    assert.deepEqual(size([clip(video(853, 479))], {}), { width: 852, height: 478 });
    assert.deepEqual(size([landscape], { width: 301, height: 171 }), { width: 302, height: 172 });
    for (const w of [33, 99, 255, 257, 641]) {
      const got = size([landscape], { width: w, upsample: true })!;
      assert.equal(got.width % 2, 0, `width ${w}`);
      assert.equal(got.height % 2, 0, `width ${w}`);
    }
  });
});

describe('planEdit', () => {
  it('plans one clip as an input-side seek and a re-encode to MP4', () => {
    const run = planEdit([clip(video(640, 360), 1, 3, 'a.mp4')], DEFAULTS, 'out');
    assert.deepEqual(run.args.slice(0, 6), ['-ss', '1', '-t', '2', '-i', 'a.mp4']);
    assert.equal(
      after(run.args, '-vf'),
      'scale=640:360:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p',
    );
    assert.deepEqual(values(run.args, '-map'), ['0:v:0', '0:a:0']);
    assert.equal(after(run.args, '-c:v'), 'libx264');
    assert.equal(after(run.args, '-preset'), 'veryfast');
    assert.equal(after(run.args, '-crf'), '23');
    assert.equal(after(run.args, '-c:a'), 'aac');
    assert.equal(after(run.args, '-b:a'), '128k');
    assert.equal(after(run.args, '-movflags'), '+faststart');
    assert.equal(after(run.args, '-f'), 'mp4');
    assert.equal(run.args.at(-1), 'out.mp4');
    assert.ok(!run.args.includes('-filter_complex'));
    assert.deepEqual(run.files, ['out.mp4']);
    assert.equal(run.contentType, 'video/mp4');
    assert.equal(run.expectedSeconds, 2);
  });

  it('caps a clip end that overshoots the duration within the tolerance', () => {
    const run = planEdit([clip(video(640, 360), 2.5, 4.04)], DEFAULTS, 'out');
    assert.equal(after(run.args, '-t'), '1.5');
    assert.equal(run.expectedSeconds, 1.5);
    assert.equal(after(run.args, '-ss'), '2.5');
  });

  it('maps only the streams a single source has', () => {
    const silent = planEdit([clip(video(640, 360, { hasAudio: false }))], DEFAULTS, 'out');
    assert.ok(!silent.args.includes('-c:a'));
    assert.ok(!silent.args.includes('0:a:0'));
    const sound = planEdit([clip(AUDIO_ONLY)], DEFAULTS, 'out');
    assert.ok(!sound.args.includes('-c:v'));
    assert.ok(!sound.args.includes('-vf'));
    assert.equal(after(sound.args, '-map'), '0:a:0');
  });

  it('joins clips with the concat filter, normalising each and filling missing audio', () => {
    const clips = [
      clip(video(640, 360), 1, 3, 'a.mp4'),
      clip(video(480, 360, { hasAudio: false }), 0.5, 2.5, 'silent.mp4'),
      clip(video(360, 640), 0, 1.5, 'portrait.mp4'),
    ];
    const run = planEdit(clips, DEFAULTS, 'joined');
    assert.deepEqual(run.args.slice(0, 18), [
      '-ss',
      '1',
      '-t',
      '2',
      '-i',
      'a.mp4',
      '-ss',
      '0.5',
      '-t',
      '2',
      '-i',
      'silent.mp4',
      '-ss',
      '0',
      '-t',
      '1.5',
      '-i',
      'portrait.mp4',
    ]);
    const graph = after(run.args, '-filter_complex')!.split(';');
    const norm =
      'scale=640:360:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25,format=yuv420p';
    const aformat = 'aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo';
    assert.deepEqual(graph, [
      `[0:v:0]${norm}[v0]`,
      `[0:a:0]aresample=48000,${aformat}[a0]`,
      `[1:v:0]${norm}[v1]`,
      `anullsrc=r=48000:cl=stereo,atrim=duration=2,${aformat}[a1]`,
      `[2:v:0]${norm}[v2]`,
      `[2:a:0]aresample=48000,${aformat}[a2]`,
      '[v0][a0][v1][a1][v2][a2]concat=n=3:v=1:a=1[vout][aout]',
    ]);
    assert.deepEqual(values(run.args, '-map'), ['[vout]', '[aout]']);
    assert.equal(run.expectedSeconds, 5.5);
    assert.deepEqual(run.files, ['joined.mp4']);
  });

  it('puts black frames under an audio-only input joined into a video', () => {
    const run = planEdit([clip(video(640, 360)), clip(AUDIO_ONLY, 0, 1.25)], DEFAULTS, 'out');
    const graph = after(run.args, '-filter_complex')!;
    assert.ok(graph.includes('color=c=black:s=640x360:r=25:d=1.25,setsar=1,format=yuv420p[v1]'), graph);
    assert.ok(graph.endsWith('concat=n=2:v=1:a=1[vout][aout]'));
  });

  it('joins audio-only inputs into MP3 without any video', () => {
    const run = planEdit(
      [clip(AUDIO_ONLY, 0, 1), clip(AUDIO_ONLY, 2, 4)],
      settings({ format: 'MP3' }),
      'song',
    );
    const graph = after(run.args, '-filter_complex')!;
    assert.ok(graph.endsWith('[a0][a1]concat=n=2:v=0:a=1[aout]'), graph);
    assert.ok(!graph.includes('[v0]'));
    assert.ok(!run.args.includes('-c:v'));
    assert.equal(after(run.args, '-c:a'), 'libmp3lame');
    assert.ok(run.args.includes('-vn'));
    assert.equal(after(run.args, '-f'), 'mp3');
    assert.deepEqual(run.files, ['song.mp3']);
    assert.equal(run.contentType, 'audio/mpeg');
    assert.equal(run.expectedSeconds, 3);
  });

  it('joins video-only inputs without inventing audio', () => {
    const silent = video(640, 360, { hasAudio: false });
    const run = planEdit([clip(silent), clip(silent)], DEFAULTS, 'out');
    assert.ok(after(run.args, '-filter_complex')!.endsWith('[v0][v1]concat=n=2:v=1:a=0[vout]'));
    assert.ok(!run.args.includes('-c:a'));
  });

  it('writes each container with its muxer, extension and content type', () => {
    const one = [clip(video(640, 360))];
    const cases = [
      ['MOV', 'mov', 'out.mov', 'video/quicktime'],
      ['FLV', 'flv', 'out.flv', 'video/x-flv'],
      ['AVI', 'avi', 'out.avi', 'video/x-msvideo'],
    ] as const;
    for (const [format, muxer, file, type] of cases) {
      const run = planEdit(one, settings({ format }), 'out');
      assert.equal(after(run.args, '-f'), muxer);
      assert.equal(run.args.at(-1), file);
      assert.deepEqual(run.files, [file]);
      assert.equal(run.contentType, type);
    }
  });

  it('writes HLS as a VOD playlist with numbered segments', () => {
    const run = planEdit([clip(video(640, 360))], settings({ format: 'HLS' }), 'out');
    const tail = run.args.slice(run.args.indexOf('-f'));
    assert.deepEqual(tail, [
      '-f',
      'hls',
      '-hls_time',
      '4',
      '-hls_playlist_type',
      'vod',
      '-hls_segment_filename',
      'out_%03d.ts',
      'out.m3u8',
    ]);
    assert.equal(after(run.args, '-force_key_frames'), 'expr:gte(t,n_forced*4)');
    assert.deepEqual(run.files, ['out.m3u8']);
    assert.equal(run.contentType, 'application/vnd.apple.mpegurl');
    assert.deepEqual(
      hlsSegments(
        '#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:4.0,\nout_000.ts\n#EXTINF:1.0,\r\nout_001.ts\n#EXT-X-ENDLIST\n',
      ),
      ['out_000.ts', 'out_001.ts'],
    );
  });

  it('encodes H.265 with libx265 (tagged hvc1 in MP4)', () => {
    const run = planEdit([clip(video(640, 360))], settings({ videoCodec: 2 }), 'out');
    assert.equal(after(run.args, '-c:v'), 'libx265');
    assert.equal(after(run.args, '-preset'), 'fast');
    assert.equal(after(run.args, '-tag:v'), 'hvc1');
    assert.ok(
      !planEdit([clip(video(640, 360))], settings({ videoCodec: 2, format: 'AVI' }), 'o').args.includes(
        '-tag:v',
      ),
    );
  });

  it('validates before planning and refuses output names ffmpeg could misread', () => {
    rejects(() => planEdit([clip(video(640, 360), 3, 2)], DEFAULTS, 'out'), 'inputs[0].timeline_end');
    for (const bad of ['-out', '../out', 'a/b', '', '.hidden']) {
      assert.throws(() => planEdit([clip(video(640, 360))], DEFAULTS, bad), RangeError, bad);
    }
  });
});

describe('planTranscode', () => {
  it('defines the template groups', () => {
    assert.deepEqual(Object.keys(TEMPLATE_GROUPS).sort(), [
      'hls-720p',
      'mp3',
      'mp4-1080p',
      'mp4-360p',
      'mp4-720p',
      'mp4-multi',
    ]);
    assert.deepEqual(
      TEMPLATE_GROUPS['mp4-multi']!.map((t) => t.height),
      [360, 720],
    );
  });

  it('scales down to the template height with a capped bitrate', () => {
    const [t360] = TEMPLATE_GROUPS['mp4-360p']!;
    const run = planTranscode('hd.mp4', video(1280, 720), t360!, 'hd-360p');
    assert.deepEqual(run.args.slice(0, 2), ['-i', 'hd.mp4']);
    assert.equal(after(run.args, '-vf'), 'scale=640:360,setsar=1,format=yuv420p');
    assert.equal(after(run.args, '-maxrate'), '800k');
    assert.equal(after(run.args, '-bufsize'), '1600k');
    assert.equal(after(run.args, '-b:a'), '96k');
    assert.deepEqual(run.files, ['hd-360p.mp4']);
    assert.equal(run.expectedSeconds, 4);
  });

  it('never upscales and keeps portrait sources upright', () => {
    const [t720] = TEMPLATE_GROUPS['mp4-720p']!;
    const [t360] = TEMPLATE_GROUPS['mp4-360p']!;
    assert.equal(
      after(planTranscode('s', video(640, 360), t720!, 'o').args, '-vf'),
      'scale=640:360,setsar=1,format=yuv420p',
    );
    assert.equal(
      after(planTranscode('s', video(720, 1280), t360!, 'o').args, '-vf'),
      'scale=360:640,setsar=1,format=yuv420p',
    );
  });

  it('writes HLS and MP3 templates', () => {
    const [hls] = TEMPLATE_GROUPS['hls-720p']!;
    const h = planTranscode('s', video(1280, 720), hls!, 'o');
    assert.equal(after(h.args, '-f'), 'hls');
    assert.deepEqual(h.files, ['o.m3u8']);
    const [mp3] = TEMPLATE_GROUPS.mp3!;
    const m = planTranscode('s', video(1280, 720), mp3!, 'o');
    assert.ok(!m.args.includes('-c:v'));
    assert.ok(m.args.includes('-vn'));
    assert.equal(after(m.args, '-c:a'), 'libmp3lame');
    assert.equal(after(m.args, '-b:a'), '192k');
    assert.deepEqual(m.files, ['o.mp3']);
    rejects(() => planTranscode('s', video(640, 360, { hasAudio: false }), mp3!, 'o'), 'template_group_name');
  });
});

describe('parseThumbnail', () => {
  it('reads the VOD Thumbnail fields with their defaults', () => {
    assert.deepEqual(parseThumbnail({ type: 'time', time: 2 }), {
      type: 'time',
      time: 2,
      coverPosition: 1,
      aspectRatio: 0,
    });
    assert.deepEqual(
      parseThumbnail({
        type: 'dots',
        dots: [5, 1],
        cover_position: 2,
        format: 1,
        aspect_ratio: 1,
        max_length: 320,
      }),
      { type: 'dots', dots: [5, 1], coverPosition: 2, aspectRatio: 1, maxLength: 320 },
    );
  });

  it('refuses bad values, naming the field', () => {
    rejects(() => parseThumbnail(null), 'thumbnail');
    rejects(() => parseThumbnail({}), 'thumbnail.type');
    rejects(() => parseThumbnail({ type: 'every' }), 'thumbnail.type');
    rejects(() => parseThumbnail({ type: 'time' }), 'thumbnail.time', /1 to 12/);
    rejects(() => parseThumbnail({ type: 'time', time: 0 }), 'thumbnail.time');
    rejects(() => parseThumbnail({ type: 'time', time: 13 }), 'thumbnail.time');
    rejects(() => parseThumbnail({ type: 'time', time: 1.5 }), 'thumbnail.time');
    rejects(() => parseThumbnail({ type: 'dots' }), 'thumbnail.dots');
    rejects(() => parseThumbnail({ type: 'dots', dots: [] }), 'thumbnail.dots');
    rejects(() => parseThumbnail({ type: 'dots', dots: [1, 'x'] }), 'thumbnail.dots[1]');
    rejects(() => parseThumbnail({ type: 'dots', dots: [-1] }), 'thumbnail.dots[0]');
    rejects(() => parseThumbnail({ type: 'time', time: 1, format: 2 }), 'thumbnail.format');
    rejects(() => parseThumbnail({ type: 'time', time: 1, aspect_ratio: 2 }), 'thumbnail.aspect_ratio');
    rejects(() => parseThumbnail({ type: 'time', time: 1, max_length: 0 }), 'thumbnail.max_length');
    rejects(() => parseThumbnail({ type: 'time', time: 1, cover_position: 0 }), 'thumbnail.cover_position');
  });
});

describe('planSnapshot', () => {
  const names = (base: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${base}_${String(i + 1).padStart(3, '0')}.jpg`);

  it('plans one jpg per period for type=time, counted from the duration', () => {
    const probe = video(640, 360);
    for (const [time, count] of [
      [1, 4],
      [2, 2],
      [3, 2],
      [5, 1],
    ] as const) {
      const run = planSnapshot('a.mp4', probe, parseThumbnail({ type: 'time', time }), 'snap');
      assert.deepEqual(run.files, names('snap', count), `time=${time}`);
      assert.equal(after(run.args, '-frames:v'), String(count));
    }
    const run = planSnapshot('a.mp4', probe, parseThumbnail({ type: 'time', time: 2 }), 'snap');
    assert.equal(
      after(run.args, '-vf'),
      "setpts=PTS-STARTPTS,select='isnan(prev_t)+gt(floor(t/2),floor(prev_t/2))',scale=640:360,setsar=1",
    );
    assert.equal(run.args.at(-1), 'snap_%03d.jpg');
    assert.equal(after(run.args, '-start_number'), '1');
    assert.equal(after(run.args, '-fps_mode'), 'vfr');
    assert.equal(run.contentType, 'image/jpeg');
    assert.equal(run.expectedSeconds, 4);
    // A period that starts in the last half second is not planned: 4.4 s at 1 s → 0, 1, 2, 3.
    const short = planSnapshot(
      'a.mp4',
      video(640, 360, { durationSeconds: 4.4 }),
      parseThumbnail({ type: 'time', time: 1 }),
      's',
    );
    assert.equal(short.files.length, 4);
  });

  it('plans one jpg per distinct point for type=dots, in time order', () => {
    const thumb = parseThumbnail({ type: 'dots', dots: [3, 0, 3, 10, 4] });
    const run = planSnapshot('a.mp4', video(640, 360), thumb, 'dot');
    // 10 is past the end and dropped; 4 (the very end) moves back to 3.5.
    assert.deepEqual(run.files, names('dot', 3));
    const vf = after(run.args, '-vf')!;
    assert.ok(
      vf.includes(
        "select='gte(t,0)*(isnan(prev_t)+lt(prev_t,0))+gte(t,3)*(isnan(prev_t)+lt(prev_t,3))+gte(t,3.5)*(isnan(prev_t)+lt(prev_t,3.5))'",
      ),
      vf,
    );
    assert.deepEqual(run.args.slice(0, 4), ['-t', '4.5', '-i', 'a.mp4']);
    assert.equal(run.expectedSeconds, 4.5);
    rejects(
      () => planSnapshot('a.mp4', video(640, 360), parseThumbnail({ type: 'dots', dots: [5, 9] }), 'dot'),
      'thumbnail.dots',
    );
  });

  it('caps the long edge with max_length and pads to 16:9 with aspect_ratio 1', () => {
    const small = planSnapshot(
      's',
      video(1280, 720),
      parseThumbnail({ type: 'time', time: 1, max_length: 320 }),
      'o',
    );
    assert.ok(after(small.args, '-vf')!.endsWith(',scale=320:180,setsar=1'));
    const tall = planSnapshot(
      's',
      video(1080, 1920),
      parseThumbnail({ type: 'time', time: 1, max_length: 320 }),
      'o',
    );
    assert.ok(after(tall.args, '-vf')!.endsWith(',scale=180:320,setsar=1'));
    const kept = planSnapshot(
      's',
      video(640, 360),
      parseThumbnail({ type: 'time', time: 1, max_length: 4096 }),
      'o',
    );
    assert.ok(after(kept.args, '-vf')!.endsWith(',scale=640:360,setsar=1'), 'never enlarges');
    const boxed = planSnapshot(
      's',
      video(360, 640),
      parseThumbnail({ type: 'time', time: 1, max_length: 320, aspect_ratio: 1 }),
      'o',
    );
    assert.ok(
      after(boxed.args, '-vf')!.endsWith(
        ',scale=320:180:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=320:180:(ow-iw)/2:(oh-ih)/2,setsar=1',
      ),
    );
  });

  it('needs a video source', () => {
    rejects(() => planSnapshot('s', AUDIO_ONLY, parseThumbnail({ type: 'time', time: 1 }), 'o'), 'thumbnail');
  });
});
