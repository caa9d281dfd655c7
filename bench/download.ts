// Download benchmark (npm run bench:download). On loopback, servers as child processes, one run:
//   bare         a bare Node server streaming the single-blob object's own blob file (no sendfile:
//                mediahost streams through user space too)
//   object       mediahost GET of a 1 GiB single-blob object (a presigned URL, as a download link)
//   multipart    mediahost GET of a 1 GiB object of 128 x 8 MiB parts (segments)
//   smh          SMH download of a 1 GiB file (uploaded as an SMH multipart task) through its 302
// each read (a) whole by READERS readers at once, (b) as RANGES random 1 MiB ranges (at any offset,
// so some cross part boundaries) by RANGED readers at once, with each range's time to first byte,
// and (c) one 1 MiB range at a time (TTFB on a quiet server). Targets alternate in rounds; ratios
// are to the same round's bare server. Then an HLS output of a media task played through the SMH
// download URLs (playlist, then each segment through its redirect) by 4 players, beside the bare
// server serving the same segment files. mediahost is restarted after the fixtures so its RSS
// figures are the downloads' own; the page cache is warmed by one pass over every object first.
// Options: --size-mib=1024 --readers=4 --ranged=64 --ranges=1024 --quiet-ranges=200 --rounds=3
// --hls-seconds=60 --plays=8 --server-env=NAME=VALUE
import { execFileSync } from 'node:child_process';
import {
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hlsSegments } from '../src/core/media/edit-plan.ts';
import { cpuSeconds, machineLine } from './lib.ts';
import {
  agent,
  createLibrary,
  curveLine,
  loadAverage,
  MiB,
  median,
  options,
  peakRssMiB,
  percentile,
  presignedGet,
  resetPeakRss,
  rssMiB,
  sampleRss,
  send,
  signer,
  startListening,
  startMediahost,
  type Target,
} from './targets.ts';
import { s3Client, sdkUpload, smhToken, smhUpload, type UploadShape, writeSource } from './upload-clients.ts';

const args = options();
const SIZE = Number(args.get('size-mib') ?? 1024) * MiB;
const READERS = Number(args.get('readers') ?? 4);
const RANGED = Number(args.get('ranged') ?? 64);
const RANGES = Number(args.get('ranges') ?? 1024);
const QUIET = Number(args.get('quiet-ranges') ?? 200);
const ROUNDS = Number(args.get('rounds') ?? 3);
const HLS_SECONDS = Number(args.get('hls-seconds') ?? 60);
const PLAYS = Number(args.get('plays') ?? 8);
const RANGE = MiB;

interface Got {
  status: number;
  /** Milliseconds from the first request to the first body byte (through a redirect if any). */
  ttfb: number;
  bytes: number;
  location?: string;
}

/** A GET whose body is counted, not kept; `follow` takes one 302 as a client would. */
function get(url: string, headers: Record<string, string> = {}, follow = false): Promise<Got> {
  const started = performance.now();
  const once = (target: string): Promise<Got> =>
    new Promise((resolve, reject) => {
      const req = request(target, { agent, headers }, (res) => {
        let bytes = 0;
        let ttfb = 0;
        res.on('data', (c: Buffer) => {
          if (bytes === 0) ttfb = performance.now() - started;
          bytes += c.length;
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ttfb,
            bytes,
            ...(res.headers.location ? { location: res.headers.location } : {}),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  return once(url).then((r) => (follow && r.status === 302 && r.location ? once(r.location) : r));
}

/** Deterministic offsets (the same for every target): uniform over the object, any alignment. */
function rangeOffsets(count: number, size: number): number[] {
  let x = 0x2545f491;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % (size - RANGE);
  });
}

interface Reader {
  name: string;
  pid: number;
  url: string;
  follow: boolean;
}

interface CaseResult {
  mbps: number;
  serverCpu: number;
  clientCpu: number;
  ttfb: number[];
}

async function timed(pid: number, work: () => Promise<number>, ttfb: number[] = []): Promise<CaseResult> {
  const server = cpuSeconds(pid, false);
  const client = process.cpuUsage();
  const started = performance.now();
  const bytes = await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(client);
  const gib = bytes / 2 ** 30;
  return {
    mbps: bytes / MiB / seconds,
    serverCpu: (cpuSeconds(pid, false) - server) / gib,
    clientCpu: (used.user + used.system) / 1e6 / gib,
    ttfb,
  };
}

function checked(r: Got, status: number, bytes: number, what: string): number {
  if (r.status !== status || r.bytes !== bytes)
    throw new Error(`${what}: HTTP ${r.status}, ${r.bytes} bytes`);
  return r.bytes;
}

const whole = (t: Reader) =>
  timed(t.pid, async () => {
    const all = await Promise.all(Array.from({ length: READERS }, () => get(t.url, {}, t.follow)));
    return all.reduce((sum, r) => sum + checked(r, 200, SIZE, `${t.name} whole`), 0);
  });

async function ranged(t: Reader, offsets: number[], concurrency: number): Promise<CaseResult> {
  const ttfb: number[] = [];
  return timed(
    t.pid,
    async () => {
      let next = 0;
      let bytes = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < offsets.length) {
            const at = offsets[next++]!;
            const r = await get(t.url, { range: `bytes=${at}-${at + RANGE - 1}` }, t.follow);
            bytes += checked(r, 206, RANGE, `${t.name} range`);
            ttfb.push(r.ttfb);
          }
        }),
      );
      return bytes;
    },
    ttfb,
  );
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const cpu = (r: CaseResult) => `CPU-s/GiB server ${r.serverCpu.toFixed(2)}, client ${r.clientCpu.toFixed(2)}`;

/** The media-task fixture: a clip uploaded over SMH, an HLS editing task, its playlist's SMH URL. */
/** Returns the playlist's path on the server. */
async function hlsOutput(mh: Target, libraryId: string, token: string, dir: string): Promise<string> {
  const clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `testsrc2=size=1280x720:rate=25:duration=${HLS_SECONDS}`, '-f', 'lavfi'],
    ...['-i', `sine=frequency=440:sample_rate=48000:duration=${HLS_SECONDS}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip],
  ]);
  const api = (path: string, query = '') => `/api/v1/${path}?${query}access_token=${token}`;
  const begun = await send(mh.url, 'PUT', api(`file/${libraryId}/-/clip.mp4`));
  const grant = JSON.parse(begun.text) as {
    url: string;
    headers: Record<string, string>;
    confirmKey: string;
  };
  const size = statSync(clip).size;
  const put = await send(
    new URL(grant.url).origin,
    'PUT',
    new URL(grant.url).pathname,
    createReadStream(clip),
    {
      ...grant.headers,
      'content-length': String(size),
    },
  );
  if (put.status !== 200) throw new Error(`clip PUT: ${put.status} ${put.text}`);
  const confirmed = await send(
    mh.url,
    'POST',
    api(`file/${libraryId}/-/${grant.confirmKey}`, 'confirm&with_inode=1&'),
  );
  const inode = (JSON.parse(confirmed.text) as { inode: string }).inode;
  const vod = { 'x-auth-token': token, 'content-type': 'application/json' };
  const created = await send(
    mh.url,
    'POST',
    `/v1/${libraryId}/asset/editing/tasks`,
    JSON.stringify({
      inputs: [{ asset_id: inode, timeline_start: '0', timeline_end: String(HLS_SECONDS) }],
      editing_settings: { format: 'HLS' },
    }),
    vod,
  );
  const task = JSON.parse(created.text) as { task_id: string; asset_id: string };
  if (!task.task_id) throw new Error(`editing task: ${created.status} ${created.text}`);
  for (let i = 0; ; i++) {
    const polled = await send(
      mh.url,
      'GET',
      `/v1/${libraryId}/asset/editing/tasks?task_id=${task.task_id}`,
      undefined,
      vod,
    );
    const status = (JSON.parse(polled.text) as { tasks: { status: string; error_msg?: string }[] }).tasks[0]!;
    if (status.status === 'SUCCEED') break;
    if (status.status === 'FAILED' || i > 1200) throw new Error(`editing task: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const inodeInfo = await send(mh.url, 'GET', api(`inode/${libraryId}/-/${task.asset_id}`));
  const path = (JSON.parse(inodeInfo.text) as { path: string[] }).path.map(encodeURIComponent).join('/');
  return api(`file/${libraryId}/-/${path}`);
}

/** PLAYS plays by 4 players at once: the playlist, then every segment (through the SMH redirect). */
async function play(pid: number, segmentUrls: string[], playlistUrl?: string): Promise<CaseResult> {
  const ttfb: number[] = [];
  let plays = 0;
  const result = await timed(
    pid,
    async () => {
      let bytes = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (plays++ < PLAYS) {
            if (playlistUrl) {
              const listed = await get(playlistUrl);
              if (listed.status !== 200) throw new Error(`playlist: HTTP ${listed.status}`);
              bytes += listed.bytes;
            }
            for (const url of segmentUrls) {
              const r = await get(url, {}, true);
              if (r.status !== 200) throw new Error(`segment: HTTP ${r.status}`);
              bytes += r.bytes;
              ttfb.push(r.ttfb);
            }
          }
        }),
      );
      return bytes;
    },
    ttfb,
  );
  return result;
}

async function main(): Promise<void> {
  process.stdout.write(machineLine());
  process.stdout.write(`load ${loadAverage()}\n`);
  const work = mkdtempSync(join(tmpdir(), 'mediahost-bench-download-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const dataDir = join(work, 'data');
    mkdirSync(dataDir);
    const library = createLibrary(dataDir);
    const shape: UploadShape = {
      source: join(work, 'source.bin'),
      sourceBytes: SIZE,
      pieceBytes: 8 * MiB,
      inFlight: 4,
    };
    writeSource(shape.source, SIZE);

    // Fixtures, on a first mediahost process.
    let mh = await startMediahost(dataDir, library);
    const token = await smhToken(mh.url, library);
    const sign = signer(mh.url, library);
    const put = sign('PUT', 'single.bin', {}, { 'content-length': String(SIZE) });
    const single = await send(mh.url, 'PUT', put.path, createReadStream(shape.source), put.headers);
    if (single.status !== 200) throw new Error(`PutObject: ${single.status} ${single.text}`);
    const blobs = join(dataDir, 'blobs');
    const blob = readdirSync(blobs, { recursive: true, encoding: 'utf8' })
      .map((f) => join(blobs, f))
      .find((f) => statSync(f).isFile() && statSync(f).size === SIZE);
    if (!blob) throw new Error('the single-blob object has no blob of its size');
    const sdk = s3Client(mh.url, library.accessKeyId, library.secretAccessKey, 'WHEN_REQUIRED');
    await sdkUpload(sdk, library.bucket, shape)(SIZE, 'multipart.bin');
    await smhUpload(mh.url, library, token, shape)(SIZE, 'big');
    const playlistPath = await hlsOutput(mh, library.libraryId, token, work);
    await mh.stop();

    // The measured processes; --server-env=NAME=VALUE (repeatable) goes to mediahost's environment,
    // e.g. MEDIAHOST_NO_V8_FLAGS=1 (V8's and glibc's defaults) or MALLOC_MMAP_THRESHOLD_=131072.
    const serverEnv = Object.fromEntries(
      process.argv
        .filter((a) => a.startsWith('--server-env='))
        .map((a) => {
          const [name, ...value] = a.slice('--server-env='.length).split('=');
          return [name!, value.join('=')];
        }),
    );
    mh = await startMediahost(dataDir, library, [], [], serverEnv);
    stops.push(mh.stop);
    const playlistUrl = mh.url + playlistPath;
    const playlistText = await (await fetch(playlistUrl)).text();
    const segmentUrls = hlsSegments(playlistText).map((uri) => new URL(uri, playlistUrl).href);
    const segmentDir = join(work, 'segments');
    mkdirSync(segmentDir);
    const bareFiles = [`single=${blob}`];
    for (const [i, url] of segmentUrls.entries()) {
      const segment = await fetch(url);
      if (segment.status !== 200) throw new Error(`segment ${url}: HTTP ${segment.status}`);
      writeFileSync(join(segmentDir, `s${i}.ts`), Buffer.from(await segment.arrayBuffer()));
      bareFiles.push(`s${i}=${join(segmentDir, `s${i}.ts`)}`);
    }
    const bare = await startListening(['bench/peer-servers.ts', 'files', ...bareFiles]);
    stops.push(bare.stop);
    const smhPath = `${mh.url}/api/v1/file/${library.libraryId}/-/big.bin?access_token=${token}`;
    const readers: Reader[] = [
      { name: 'bare', pid: bare.pid, url: `${bare.url}/single`, follow: false },
      { name: 'object', pid: mh.pid, url: mh.url + presignedGet(library, 'single.bin'), follow: false },
      { name: 'multipart', pid: mh.pid, url: mh.url + presignedGet(library, 'multipart.bin'), follow: false },
      { name: 'smh', pid: mh.pid, url: smhPath, follow: true },
    ];
    for (const t of readers) checked(await get(t.url, {}, t.follow), 200, SIZE, `${t.name} warm-up`);
    const atRest = rssMiB(mh.pid);
    resetPeakRss(mh.pid);
    resetPeakRss(bare.pid);
    const rss = sampleRss(mh.pid, 250);
    const offsets = rangeOffsets(RANGES, SIZE);
    const crossing = offsets.filter(
      (o) => Math.floor(o / (8 * MiB)) !== Math.floor((o + RANGE - 1) / (8 * MiB)),
    );
    process.stdout.write(
      `${SIZE / MiB} MiB objects; whole: ${READERS} readers at once; ranged: ${RANGES} x 1 MiB at random offsets, ${RANGED} at once (${crossing.length} cross a part boundary of the multipart object); quiet: ${QUIET} ranges one at a time\n`,
    );
    const results = new Map(
      readers.map((t) => [
        t.name,
        { whole: [] as CaseResult[], ranged: [] as CaseResult[], quiet: [] as CaseResult[] },
      ]),
    );
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`round ${round} (load ${loadAverage()}):\n`);
      // bare first (each ratio's base), then mediahost's targets in an order that turns each round.
      const mine = readers.slice(1);
      const order = [
        readers[0]!,
        ...mine.slice((round - 1) % mine.length),
        ...mine.slice(0, (round - 1) % mine.length),
      ];
      for (const t of order) {
        const r = results.get(t.name)!;
        r.whole.push(await whole(t));
        const afterWhole = rssMiB(t.pid);
        r.ranged.push(await ranged(t, offsets, RANGED));
        const afterRanged = rssMiB(t.pid);
        r.quiet.push(await ranged(t, offsets.slice(0, QUIET), 1));
        const base = results.get('bare')!;
        const w = r.whole.at(-1)!;
        const g = r.ranged.at(-1)!;
        const q = r.quiet.at(-1)!;
        process.stdout.write(
          `  ${t.name.padEnd(9)} whole ${w.mbps.toFixed(0)} MiB/s = ${(w.mbps / base.whole.at(-1)!.mbps).toFixed(2)} of bare, ${cpu(w)}\n` +
            `  ${''.padEnd(9)} ranged ${g.mbps.toFixed(0)} MiB/s = ${(g.mbps / base.ranged.at(-1)!.mbps).toFixed(2)} of bare, TTFB p50 ${ms(percentile(g.ttfb, 50))} p99 ${ms(percentile(g.ttfb, 99))}, ${cpu(g)}\n` +
            `  ${''.padEnd(9)} quiet TTFB p50 ${ms(percentile(q.ttfb, 50))} p99 ${ms(percentile(q.ttfb, 99))}; RSS after whole ${afterWhole.toFixed(0)} MiB, after ranged ${afterRanged.toFixed(0)} MiB\n`,
        );
      }
    }
    const curve = rss.stop();
    process.stdout.write(`\nmedians of ${ROUNDS} rounds (ratios taken within each round):\n`);
    const base = results.get('bare')!;
    const ratio = (a: CaseResult[], b: CaseResult[]) => median(a.map((r, i) => r.mbps / b[i]!.mbps));
    for (const t of readers) {
      const r = results.get(t.name)!;
      const all = (k: 'ranged' | 'quiet') => r[k].flatMap((x) => x.ttfb);
      process.stdout.write(
        `  ${t.name.padEnd(9)} whole ${median(r.whole.map((x) => x.mbps)).toFixed(0)} MiB/s (${ratio(r.whole, base.whole).toFixed(2)} of bare, server ${median(r.whole.map((x) => x.serverCpu)).toFixed(2)} CPU-s/GiB); ` +
          `ranged ${median(r.ranged.map((x) => x.mbps)).toFixed(0)} MiB/s (${ratio(r.ranged, base.ranged).toFixed(2)} of bare, server ${median(r.ranged.map((x) => x.serverCpu)).toFixed(2)} CPU-s/GiB), ` +
          `TTFB under ${RANGED} p50 ${ms(percentile(all('ranged'), 50))} p99 ${ms(percentile(all('ranged'), 99))}, quiet p50 ${ms(percentile(all('quiet'), 50))} p99 ${ms(percentile(all('quiet'), 99))}\n`,
      );
    }
    const m = results.get('multipart')!;
    const o = results.get('object')!;
    process.stdout.write(
      `multipart / single-blob: whole ${ratio(m.whole, o.whole).toFixed(2)}, ranged ${ratio(m.ranged, o.ranged).toFixed(2)} (target: the same rate)\n` +
        `mediahost RSS: ${atRest.toFixed(0)} MiB after the warm-up pass, peak ${peakRssMiB(mh.pid).toFixed(0)} MiB over the rounds (target < 150 MB = 143 MiB); bare server peak ${peakRssMiB(bare.pid).toFixed(0)} MiB\n` +
        `RSS curve (s:MiB): ${curveLine(curve)}\n`,
    );

    // An HLS output played through SMH download URLs, beside the bare server serving its segments.
    const bareSegments = segmentUrls.map((_, i) => `${bare.url}/s${i}`);
    const hls: { bare: CaseResult[]; smh: CaseResult[] } = { bare: [], smh: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      hls.bare.push(await play(bare.pid, bareSegments));
      hls.smh.push(await play(mh.pid, segmentUrls, playlistUrl));
    }
    const segBytes = hls.bare[0]!.mbps > 0 ? statSync(join(segmentDir, 's0.ts')).size : 0;
    const line = (name: string, r: CaseResult[]) => {
      const t = r.flatMap((x) => x.ttfb);
      return `  ${name.padEnd(5)} ${median(r.map((x) => x.mbps)).toFixed(0)} MiB/s, segment TTFB p50 ${ms(percentile(t, 50))} p99 ${ms(percentile(t, 99))}, server ${median(r.map((x) => x.serverCpu)).toFixed(2)} CPU-s/GiB\n`;
    };
    process.stdout.write(
      `\nHLS output of an editing task (${HLS_SECONDS} s of 720p, ${segmentUrls.length} segments, the first ${(segBytes / MiB).toFixed(2)} MiB), ${PLAYS} plays by 4 players, ${ROUNDS} rounds:\n` +
        line('bare', hls.bare) +
        line('smh', hls.smh) +
        `  smh / bare: ${ratio(hls.smh, hls.bare).toFixed(2)}\nload at the end ${loadAverage()}\n`,
    );
  } finally {
    for (const stop of stops) await stop();
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
