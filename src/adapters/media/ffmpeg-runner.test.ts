// FfmpegRunner against the real ffmpeg/ffprobe: clips generated with lavfi at test time are cut, joined,
// re-muxed, resized, transcoded and snapshotted through the edit plans, and every output is probed;
// progress, failures, and abort (the whole process group dies before the promise settles) are checked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WAIT_MS, waitFor } from '../../../test/helpers/wait.ts';
import {
  type ClipInput,
  type EditSettings,
  hlsSegments,
  type PlannedRun,
  parseEditSettings,
  parseThumbnail,
  planEdit,
  planSnapshot,
  planTranscode,
  TEMPLATE_GROUPS,
} from '../../core/media/edit-plan.ts';
import { type MediaProbe, MediaToolError } from '../../ports/media-runner.ts';
import { FfmpegRunner, parseProbe } from './ffmpeg-runner.ts';

const FFMPEG = '/usr/bin/ffmpeg';
const FFPROBE = '/usr/bin/ffprobe';
const runner = new FfmpegRunner({ ffmpegPath: FFMPEG, ffprobePath: FFPROBE });
const hasX265 = spawnSync(FFMPEG, ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout.includes(
  ' libx265 ',
);

let root: string;
const src = { a: '', portrait: '', silent: '', tone: '', hd: '' };
const probes: Record<keyof typeof src, MediaProbe> = {} as Record<keyof typeof src, MediaProbe>;

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

/** Pids of this process's children (running or not yet reaped). */
async function childPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const statLine = await readFile(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces, so parse after the last ')'.
      const ppid = Number(statLine.slice(statLine.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function isZombie(pid: number): Promise<boolean> {
  const statLine = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return statLine.slice(statLine.lastIndexOf(')') + 2).startsWith('Z');
}

let outputs = 0;

/** Runs a plan in a fresh directory; checks every planned file was written and progress rose to 1. */
async function render(plan: PlannedRun): Promise<{ dir: string; main: string; progress: number[] }> {
  const dir = join(root, `out${++outputs}`);
  await mkdir(dir);
  const progress: number[] = [];
  await runner.run(plan.args, {
    cwd: dir,
    signal: AbortSignal.timeout(30_000),
    expectedSeconds: plan.expectedSeconds,
    onProgress: (f) => progress.push(f),
  });
  for (const file of plan.files) assert.ok((await stat(join(dir, file))).size > 0, `${file} written`);
  assert.ok(progress.length > 0, 'progress reported');
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! > progress[i - 1]!, 'progress rises');
  assert.equal(progress.at(-1), 1);
  assert.ok(progress.every((f) => f > 0 && f <= 1));
  return { dir, main: join(dir, plan.files[0]!), progress };
}

function clip(name: keyof typeof src, start: number, end: number): ClipInput {
  return { source: src[name], start, end, probe: probes[name] };
}

function edit(clips: ClipInput[], raw: Record<string, unknown> = {}): PlannedRun {
  const settings: EditSettings = parseEditSettings(raw);
  return planEdit(clips, settings, 'out');
}

async function generate(name: string, args: string[], seconds: number): Promise<string> {
  const path = join(root, name);
  await runner.run([...args, path], {
    cwd: root,
    signal: AbortSignal.timeout(30_000),
    expectedSeconds: seconds,
    onProgress: () => {},
  });
  return path;
}

const testsrc = (size: string) => ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`];
const sine = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mediahost-ffmpeg-'));
  [src.a, src.portrait, src.silent, src.tone, src.hd] = await Promise.all([
    generate('a.mp4', [...testsrc('640x360'), ...sine, '-t', '4', ...h264, '-c:a', 'aac'], 4),
    generate('portrait.mp4', [...testsrc('360x640'), ...sine, '-t', '4', ...h264, '-c:a', 'aac'], 4),
    generate('silent.mp4', [...testsrc('480x360'), '-t', '3', ...h264], 3),
    generate('tone.mp3', [...sine, '-t', '4', '-c:a', 'libmp3lame'], 4),
    generate('hd.mp4', [...testsrc('1280x720'), ...sine, '-t', '2', ...h264, '-c:a', 'aac'], 2),
  ]);
  for (const name of Object.keys(src) as (keyof typeof src)[]) probes[name] = await runner.probe(src[name]);
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('FfmpegRunner.status', () => {
  it('reports both tools and caches the answer', async () => {
    const status = await runner.status();
    assert.equal(status.available, true, status.reason);
    assert.match(status.ffmpeg ?? '', /^ffmpeg version /);
    assert.match(status.ffprobe ?? '', /^ffprobe version /);
    assert.equal(status.reason, undefined);
    assert.equal(runner.status(), runner.status());
  });

  it('says why when a tool is missing, without throwing', async () => {
    const bogus = new FfmpegRunner({ ffmpegPath: '/nonexistent/ffmpeg', ffprobePath: FFPROBE });
    const status = await bogus.status();
    assert.equal(status.available, false);
    assert.equal(
      status.reason,
      "ffmpeg not found at '/nonexistent/ffmpeg' (install it or set --ffmpeg-path)",
    );
    assert.equal(status.ffmpeg, undefined);
    assert.match(status.ffprobe ?? '', /^ffprobe version /);
    await assert.rejects(
      bogus.run(['-version'], {
        cwd: root,
        signal: new AbortController().signal,
        expectedSeconds: 0,
        onProgress: () => {},
      }),
      (err: unknown) =>
        err instanceof MediaToolError && err.message.includes("ffmpeg not found at '/nonexistent"),
    );
    const noProbe = new FfmpegRunner({ ffmpegPath: FFMPEG, ffprobePath: 'no-such-ffprobe' });
    assert.match(
      (await noProbe.status()).reason ?? '',
      /ffprobe not found at 'no-such-ffprobe'.*--ffprobe-path/,
    );
  });
});

describe('FfmpegRunner.probe', () => {
  it('describes video, audio-only and silent sources', () => {
    const a = probes.a;
    near(a.durationSeconds, 4, 0.1, 'duration');
    assert.equal(a.hasVideo, true);
    assert.equal(a.hasAudio, true);
    assert.equal(a.width, 640);
    assert.equal(a.height, 360);
    assert.equal(a.videoCodec, 'h264');
    assert.equal(a.audioCodec, 'aac');
    assert.match(a.formatName ?? '', /mp4/);
    assert.ok((a.bitRate ?? 0) > 0);
    assert.deepEqual([probes.portrait.width, probes.portrait.height], [360, 640]);
    assert.equal(probes.silent.hasAudio, false);
    assert.equal(probes.tone.hasVideo, false);
    assert.equal(probes.tone.audioCodec, 'mp3');
    assert.equal(probes.tone.formatName, 'mp3');
  });

  it('reads a concat: list of the pieces of a file', async () => {
    const bytes = await readFile(src.a);
    const [p1, p2] = [join(root, 'part1'), join(root, 'part2')];
    await writeFile(p1, bytes.subarray(0, 10_000));
    await writeFile(p2, bytes.subarray(10_000));
    assert.deepEqual(await runner.probe(`concat:${p1}|${p2}`), probes.a);
  });

  it('reads a signed http URL as it is, and keeps its query out of errors', async () => {
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (!req.url?.startsWith('/a.mp4?')) {
        res.writeHead(403).end();
        return;
      }
      void stat(src.a).then(({ size }) => {
        const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
        const start = range ? Number(range[1]) : 0;
        const end = range?.[2] ? Number(range[2]) : size - 1;
        res.writeHead(range ? 206 : 200, {
          'content-length': end - start + 1,
          'accept-ranges': 'bytes',
          ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
        });
        createReadStream(src.a, { start, end }).pipe(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const probe = await runner.probe(`${base}/a.mp4?X-Signature=s3cr3t&expires=1`);
      assert.equal(probe.width, 640);
      near(probe.durationSeconds, 4, 0.1, 'duration');
      assert.ok(seen.includes('/a.mp4?X-Signature=s3cr3t&expires=1'), seen.join(' '));
      await assert.rejects(runner.probe(`${base}/gone.mp4?X-Signature=s3cr3t`), (err: unknown) => {
        assert.ok(err instanceof MediaToolError);
        assert.match(err.message, /gone\.mp4/);
        assert.match(err.message, /403/);
        assert.ok(!err.message.includes('s3cr3t'), err.message);
        return true;
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('throws MediaToolError with ffprobe stderr for a garbage or missing file', async () => {
    const garbage = join(root, 'garbage.mp4');
    await writeFile(garbage, randomBytes(4096));
    await assert.rejects(runner.probe(garbage), (err: unknown) => {
      assert.ok(err instanceof MediaToolError);
      assert.match(err.message, /garbage\.mp4/);
      assert.match(err.message, /Invalid data/);
      return true;
    });
    await assert.rejects(runner.probe(join(root, 'missing.mp4')), /No such file/);
  });

  it('treats cover art as no video and reports rotated video as displayed', () => {
    const cover = parseProbe({
      streams: [
        { codec_type: 'audio', codec_name: 'mp3', duration: '3.5' },
        {
          codec_type: 'video',
          codec_name: 'mjpeg',
          width: 500,
          height: 500,
          disposition: { attached_pic: 1 },
        },
      ],
      format: { format_name: 'mp3' },
    });
    assert.deepEqual(cover, {
      durationSeconds: 3.5,
      hasVideo: false,
      hasAudio: true,
      audioCodec: 'mp3',
      formatName: 'mp3',
    });
    const phone = parseProbe({
      streams: [{ codec_type: 'video', width: 1920, height: 1080, side_data_list: [{ rotation: -90 }] }],
      format: { duration: '2.0', bit_rate: '1000' },
    });
    assert.deepEqual([phone.width, phone.height, phone.bitRate], [1080, 1920, 1000]);
  });
});

describe('FfmpegRunner.run with edit plans', () => {
  it('cuts one clip (1.0–3.0 s) to a 2 s H.264/AAC MP4', async () => {
    const out = await render(edit([clip('a', 1, 3)]));
    const p = await runner.probe(out.main);
    near(p.durationSeconds, 2, 0.1, 'duration');
    assert.deepEqual([p.videoCodec, p.audioCodec, p.width, p.height], ['h264', 'aac', 640, 360]);
    assert.ok(out.progress.length >= 2, `several progress reports: ${out.progress.join(', ')}`);
  });

  it('joins three clips, one without audio, into their summed duration', async () => {
    const out = await render(edit([clip('a', 0, 2), clip('silent', 0.5, 2.5), clip('portrait', 1, 2.5)]));
    const p = await runner.probe(out.main);
    near(p.durationSeconds, 5.5, 0.1, 'duration');
    assert.deepEqual([p.videoCodec, p.audioCodec, p.width, p.height], ['h264', 'aac', 640, 360]);
  });

  for (const [format, container] of [
    ['MOV', /mov/],
    ['FLV', /^flv$/],
    ['AVI', /^avi$/],
  ] as const) {
    it(`writes ${format} with H.264/AAC`, async () => {
      const out = await render(edit([clip('a', 0, 1)], { format }));
      const p = await runner.probe(out.main);
      assert.match(p.formatName ?? '', container);
      assert.deepEqual([p.videoCodec, p.audioCodec], ['h264', 'aac']);
      near(p.durationSeconds, 1, 0.1, 'duration');
    });
  }

  it('writes HLS: a VOD playlist and the segments it lists', async () => {
    const plan = edit([clip('a', 0, 4), clip('portrait', 0, 2)], { format: 'HLS' });
    const out = await render(plan);
    const playlist = await readFile(out.main, 'utf8');
    assert.match(playlist, /#EXT-X-PLAYLIST-TYPE:VOD/);
    const segments = hlsSegments(playlist);
    assert.deepEqual(segments, ['out_000.ts', 'out_001.ts']);
    const written = (await readdir(out.dir)).sort();
    assert.deepEqual(written, ['out.m3u8', ...segments]);
    const p = await runner.probe(out.main);
    assert.equal(p.formatName, 'hls');
    assert.deepEqual([p.videoCodec, p.audioCodec], ['h264', 'aac']);
    near(p.durationSeconds, 6, 0.1, 'duration');
  });

  it('writes MP3 from audio-only inputs', async () => {
    const out = await render(edit([clip('tone', 0, 1.5), clip('tone', 2, 3)], { format: 'MP3' }));
    const p = await runner.probe(out.main);
    assert.equal(p.formatName, 'mp3');
    assert.equal(p.audioCodec, 'mp3');
    assert.equal(p.hasVideo, false);
    near(p.durationSeconds, 2.5, 0.1, 'duration');
  });

  for (const [what, input, raw, size] of [
    ['width only', 'a', { width: 320 }, [320, 180]],
    ['height only', 'a', { height: 240 }, [426, 240]],
    ['both, adapted to a portrait source', 'portrait', { width: 320, height: 180 }, [180, 320]],
    ['above the source without upsample', 'a', { width: 1280, height: 720 }, [640, 360]],
  ] as const) {
    it(`resizes: ${what}`, async () => {
      const out = await render(edit([clip(input, 0, 1)], raw));
      const p = await runner.probe(out.main);
      assert.deepEqual([p.width, p.height], size);
    });
  }

  it('encodes H.265 when this ffmpeg has libx265', async (t) => {
    if (!hasX265) {
      t.skip('libx265 is not in this ffmpeg build: H.265 output is untested here');
      return;
    }
    const out = await render(edit([clip('a', 0, 1)], { video_codec: 2 }));
    const p = await runner.probe(out.main);
    assert.equal(p.videoCodec, 'hevc');
    assert.equal(p.audioCodec, 'aac');
  });
});

describe('FfmpegRunner.run with transcode and snapshot plans', () => {
  it('transcodes each template of mp4-multi, never upscaling', async () => {
    const sizes: number[][] = [];
    for (const template of TEMPLATE_GROUPS['mp4-multi']!) {
      const out = await render(planTranscode(src.hd, probes.hd, template, `hd-${template.name}`));
      const p = await runner.probe(out.main);
      assert.deepEqual([p.videoCodec, p.audioCodec], ['h264', 'aac']);
      near(p.durationSeconds, 2, 0.1, 'duration');
      sizes.push([p.width!, p.height!]);
    }
    assert.deepEqual(sizes, [
      [640, 360],
      [1280, 720],
    ]);
  });

  it('takes one snapshot per second (type=time), exactly the planned files', async () => {
    const plan = planSnapshot(src.a, probes.a, parseThumbnail({ type: 'time', time: 1 }), 'snap');
    assert.equal(plan.files.length, 4);
    const out = await render(plan);
    assert.deepEqual((await readdir(out.dir)).sort(), plan.files);
    const p = await runner.probe(out.main);
    assert.deepEqual([p.videoCodec, p.width, p.height], ['mjpeg', 640, 360]);
  });

  it('takes snapshots at points (type=dots), sized by max_length and aspect_ratio', async () => {
    const thumb = parseThumbnail({ type: 'dots', dots: [3, 0, 2, 10], max_length: 320 });
    const plan = planSnapshot(src.a, probes.a, thumb, 'dot');
    assert.equal(plan.files.length, 3);
    const out = await render(plan);
    assert.deepEqual((await readdir(out.dir)).sort(), plan.files);
    for (const file of plan.files) {
      const p = await runner.probe(join(out.dir, file));
      assert.deepEqual([p.width, p.height], [320, 180], file);
    }
    const boxed = planSnapshot(
      src.portrait,
      probes.portrait,
      parseThumbnail({ type: 'dots', dots: [1], max_length: 320, aspect_ratio: 1 }),
      'box',
    );
    const p = await runner.probe((await render(boxed)).main);
    assert.deepEqual([p.width, p.height], [320, 180]);
  });
});

describe('FfmpegRunner.run failures and abort', () => {
  const realtime = ['-re', ...testsrc('320x240'), '-t', '60', ...h264, '-f', 'mp4', 'long.mp4'];

  it('rejects with the stderr tail when ffmpeg fails', async () => {
    await assert.rejects(
      runner.run(['-i', join(root, 'missing.mp4'), 'x.mp4'], {
        cwd: root,
        signal: AbortSignal.timeout(WAIT_MS),
        expectedSeconds: 1,
        onProgress: () => {},
      }),
      (err: unknown) => {
        assert.ok(err instanceof MediaToolError);
        assert.match(err.message, /^ffmpeg exited with code \d+: .*missing\.mp4: No such file or directory/s);
        return true;
      },
    );
  });

  it('does not start when the signal is already aborted', async () => {
    const before = await childPids();
    const reason = new Error('too late');
    await assert.rejects(
      runner.run(realtime, {
        cwd: root,
        signal: AbortSignal.abort(reason),
        expectedSeconds: 60,
        onProgress() {},
      }),
      (err) => err === reason,
    );
    assert.deepEqual(await childPids(), before);
  });

  it('kills a long run on abort and rejects promptly with the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by test');
    const known = new Set(await childPids());
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const done = runner.run(realtime, {
      cwd: root,
      signal: controller.signal,
      expectedSeconds: 60,
      onProgress: () => started(),
    });
    await running;
    const pids = (await childPids()).filter((pid) => !known.has(pid));
    assert.equal(pids.length, 1, 'one ffmpeg running');
    const t0 = performance.now();
    controller.abort(reason);
    await assert.rejects(done, (err) => err === reason);
    // Well before the 60 s run would have ended by itself.
    assert.ok(performance.now() - t0 < 30_000, 'rejected promptly');
    assert.ok(isGone(pids[0]!), 'ffmpeg is gone');
  });

  it('stops the run when onProgress throws', async () => {
    const failure = new Error('progress sink broke');
    const known = new Set(await childPids());
    await assert.rejects(
      runner.run(realtime, {
        cwd: root,
        signal: AbortSignal.timeout(WAIT_MS),
        expectedSeconds: 60,
        onProgress: () => {
          throw failure;
        },
      }),
      (err) => err === failure,
    );
    assert.deepEqual(
      (await childPids()).filter((pid) => !known.has(pid)),
      [],
    );
  });

  it('SIGKILLs the whole process group when SIGTERM is ignored', async () => {
    // A stand-in for a wedged ffmpeg: it and its child ignore SIGTERM.
    const fake = join(root, 'stubborn-ffmpeg');
    const pidFile = join(root, 'stubborn.pid');
    await writeFile(fake, `#!/bin/sh\ntrap '' TERM\nsleep 30 &\necho "$$ $!" > '${pidFile}'\nwait\n`);
    await chmod(fake, 0o755);
    const stubborn = new FfmpegRunner({ ffmpegPath: fake, ffprobePath: FFPROBE });
    const controller = new AbortController();
    const done = stubborn.run([], {
      cwd: root,
      signal: controller.signal,
      expectedSeconds: 1,
      onProgress() {},
    });
    let pids: number[] = [];
    await waitFor(
      async () => {
        pids = (await readFile(pidFile, 'utf8').catch(() => ''))
          .trim()
          .split(' ')
          .filter(Boolean)
          .map(Number);
        return pids.length === 2;
      },
      WAIT_MS,
      'the stand-in starting its child',
    );
    const t0 = performance.now();
    controller.abort(new Error('stop'));
    await assert.rejects(done, /stop/);
    const waited = performance.now() - t0;
    // Not before the grace period, and well before the stand-in's child (30 s) would let it end.
    assert.ok(waited >= 1500 && waited < 20_000, `SIGKILL after the grace period (${waited} ms)`);
    assert.ok(isGone(pids[0]!), 'the stand-in is gone');
    // The grandchild is reparented, so its reaping is up to init: a zombie is dead enough.
    assert.ok(isGone(pids[1]!) || (await isZombie(pids[1]!)), 'its child is dead too');
  });
});
