// Object upload benchmark (npm run bench:object). In one run, on loopback:
//  (a) a bare Node HTTP server that only writes request bodies to files: this machine's ceiling;
//  (b) mediahost: 1 GiB as 8 MiB UploadPart requests, 4 in flight, raw COS-signed HTTP PUTs;
//  (a) and (b) alternate for a few rounds; then mediahost's peak RSS while a 5 GiB object is
//  uploaded, and the time of a 1,000-part Complete.
// Servers run as child processes so the client does not share their event loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Digester } from '../src/lib/checksums.ts';
import { cpuSeconds } from './lib.ts';
import {
  createLibrary,
  type Library,
  peakRssMiB,
  send,
  startMediahost as serveMediahost,
  signer,
  startListening,
  type Target,
} from './targets.ts';

const MiB = 1024 * 1024;
const PART = 8 * MiB;
const IN_FLIGHT = 4;
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const TOTAL = Number(args.get('total-mib') ?? 1024) * MiB;
const BIG = Number(args.get('big-mib') ?? 5 * 1024) * MiB;
const COMPLETE_PARTS = Number(args.get('complete-parts') ?? 1000);
const ROUNDS = Number(args.get('rounds') ?? 3);
const WARM_UP = 256 * MiB;

const percent = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;

const BARE_SERVER = `
const http = require('node:http'); const fs = require('node:fs'); const { pipeline } = require('node:stream/promises');
const dir = process.argv[1]; const flush = process.argv[2] === 'fsync'; let n = 0;
http.createServer(async (req, res) => {
  try { await pipeline(req, fs.createWriteStream(dir + '/' + (n++), { flush })); res.end(); }
  catch { res.statusCode = 500; res.end(); }
}).listen(0, '127.0.0.1', function () { console.log('listening ' + this.address().port); });
`;

/** The bare server; with `fsync`, each body is flushed to the disk before its response (as mediahost does). */
function startBare(dir: string, fsync = false): Promise<Target> {
  return startListening(['-e', BARE_SERVER, dir, ...(fsync ? ['fsync'] : [])]);
}

function startMediahost(dataDir: string, extra: string[] = []): Promise<Target & { library: Library }> {
  return serveMediahost(dataDir, createLibrary(dataDir), extra);
}

interface Pushed {
  mbps: number;
  /** CPU seconds per GiB stored, of the server and of this client. */
  serverCpu: number;
  clientCpu: number;
}

/** Uploads `total` bytes as PART-sized PUTs, IN_FLIGHT at a time, to the server `pid`. */
async function pushParts(
  total: number,
  pid: number,
  put: (n: number, body: Buffer) => Promise<number>,
): Promise<Pushed> {
  const body = Buffer.alloc(PART);
  for (let i = 0; i < body.length; i += 4096) body.writeUInt32LE(i, i);
  const parts = Math.ceil(total / PART);
  let next = 1;
  const serverBefore = cpuSeconds(pid, false);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next <= parts) {
        const n = next++;
        const status = await put(n, body);
        if (status !== 200) throw new Error(`part ${n}: HTTP ${status}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const gib = (parts * PART) / 2 ** 30;
  return {
    mbps: (parts * PART) / MiB / seconds,
    serverCpu: (cpuSeconds(pid, false) - serverBefore) / gib,
    clientCpu: (client.user + client.system) / 1e6 / gib,
  };
}

function cpuLine(p: Pushed): string {
  return `CPU per GiB: server ${p.serverCpu.toFixed(2)} s, client ${p.clientCpu.toFixed(2)} s`;
}

async function uploadTo(
  target: Target & { library: Library },
  total: number,
  key: string,
): Promise<Pushed & { uploadId: string }> {
  const sign = signer(target.url, target.library);
  const init = sign('POST', key, { uploads: '' });
  const created = await send(target.url, 'POST', init.path, undefined, init.headers);
  const uploadId = /<UploadId>([^<]+)</.exec(created.text)?.[1];
  if (!uploadId) throw new Error(`initiate failed: ${created.status} ${created.text}`);
  const pushed = await pushParts(total, target.pid, async (n, body) => {
    const r = sign(
      'PUT',
      key,
      { partNumber: String(n), uploadId },
      { 'content-length': String(body.length) },
    );
    return (await send(target.url, 'PUT', r.path, body, r.headers)).status;
  });
  return { ...pushed, uploadId };
}

async function completeTiming(): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mediahost-bench-complete-'));
  const server = await startMediahost(dir, ['--min-part-size-cos', '1024']);
  try {
    const sign = signer(server.url, server.library);
    const timings: number[] = [];
    for (let round = 0; round < 3; round++) {
      const key = `complete-${round}`;
      const init = sign('POST', key, { uploads: '' });
      const uploadId = /<UploadId>([^<]+)</.exec(
        (await send(server.url, 'POST', init.path, undefined, init.headers)).text,
      )![1]!;
      const etags: string[] = [];
      let next = 1;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next <= COMPLETE_PARTS) {
            const n = next++;
            const body = Buffer.alloc(1024, n % 251);
            const r = sign('PUT', key, { partNumber: String(n), uploadId }, { 'content-length': '1024' });
            const res = await send(server.url, 'PUT', r.path, body, r.headers);
            etags[n - 1] = String(res.headers.etag);
          }
        }),
      );
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
      const c = sign('POST', key, { uploadId });
      const started = performance.now();
      const res = await send(server.url, 'POST', c.path, xml, c.headers);
      timings.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`complete failed: ${res.status} ${res.text}`);
    }
    return timings;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** MD5 + CRC-64 on one core: what every stored byte costs mediahost beyond what (a) does. */
function hashCeiling(): number {
  const data = Buffer.alloc(256 * MiB, 1);
  const started = performance.now();
  const d = new Digester(['md5', 'crc64']);
  for (let off = 0; off < data.length; off += MiB) d.update(data.subarray(off, off + MiB));
  d.digest();
  return 256 / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
  process.stdout.write(`machine: ${machine}\n`);
  process.stdout.write(`MD5 + CRC-64 on one core: ${hashCeiling().toFixed(0)} MiB/s\n`);

  const bareRun = async (fsync: boolean): Promise<Pushed> => {
    const bareDir = mkdtempSync(join(tmpdir(), 'mediahost-bench-bare-'));
    const bare = await startBare(bareDir, fsync);
    try {
      return await pushParts(
        TOTAL,
        bare.pid,
        async (n, body) =>
          (await send(bare.url, 'PUT', `/part-${n}`, body, { 'content-length': String(body.length) })).status,
      );
    } finally {
      await bare.stop();
      rmSync(bareDir, { recursive: true, force: true });
    }
  };
  // The machine's speed drifts from minute to minute (it is shared), so (a) and (b) alternate in
  // rounds and each round's ratio is taken between runs seconds apart. mediahost runs as a
  // long-lived server: one process for all the rounds, warmed up first.
  const dir = mkdtempSync(join(tmpdir(), 'mediahost-bench-'));
  const server = await startMediahost(dir);
  const ratios: number[] = [];
  let rss: number;
  try {
    await uploadTo(server, WARM_UP, 'warm-up');
    for (let round = 1; round <= ROUNDS; round++) {
      const bare = await bareRun(false);
      const durable = await bareRun(true);
      const one = await uploadTo(server, TOTAL, `round-${round}`);
      ratios.push(one.mbps / bare.mbps);
      process.stdout.write(
        `round ${round}: ${TOTAL / MiB} MiB in 8 MiB PUTs x${IN_FLIGHT}\n` +
          `  (a) bare Node server: ${bare.mbps.toFixed(0)} MiB/s; ${cpuLine(bare)}\n` +
          `      with an fsync per body: ${durable.mbps.toFixed(0)} MiB/s = ${percent(durable.mbps / bare.mbps)} of (a); ${cpuLine(durable)}\n` +
          `  (b) mediahost UploadPart: ${one.mbps.toFixed(0)} MiB/s = ${percent(one.mbps / bare.mbps)} of (a); ${cpuLine(one)}\n`,
      );
    }
    const sorted = [...ratios].sort((x, y) => x - y);
    process.stdout.write(
      `(b) / (a): median of ${ROUNDS} rounds ${percent(sorted[sorted.length >> 1]!)} (target >= 80%)\n`,
    );
    const big = await uploadTo(server, BIG, 'five-gib');
    rss = peakRssMiB(server.pid);
    process.stdout.write(
      `${BIG / MiB} MiB object at ${big.mbps.toFixed(0)} MiB/s; server peak RSS ${rss.toFixed(0)} MiB = ${((rss * MiB) / 1e6).toFixed(0)} MB (target < 200 MB)\n`,
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const timings = await completeTiming();
  const median = [...timings].sort((a, b) => a - b)[1]!;
  process.stdout.write(
    `Complete of ${COMPLETE_PARTS} parts: ${timings.map((t) => t.toFixed(0)).join(', ')} ms, median ${median.toFixed(0)} ms (target < 200 ms)\n`,
  );
}

await main();
