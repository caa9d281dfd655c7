// Upload peers side by side (npm run bench:peers; also run by npm run bench:object). In one run, on
// loopback, each server a child process, the same bytes (TOTAL as PIECE-sized requests, IN_FLIGHT at
// once, every piece streamed from a file by the client) go to:
//   bare            a bare Node server piping each body to a file: the machine's ceiling
//   bare+fdatasync  the same, with an fdatasync per body before answering
//   smh             mediahost, SMH grant path: begin a multipart task, PUT parts to the grant, confirm
//   sdk             mediahost object API through the AWS SDK (UploadPart), no request checksums
//   sdk+crc32       the same with the SDK's default checksums (aws-chunked body with a CRC-32 trailer)
//   tus             @tus/server with its FileStore (4 uploads side by side, PATCHes of a piece; no fsync)
//   s3rver          s3rver, UploadPart through the AWS SDK (no request checksums: s3rver refuses trailers)
// The targets alternate for ROUNDS rounds and each is printed as a ratio of the same round's bare
// server; the summary takes the median of the rounds' ratios (the shared machine drifts by a third
// from one minute to the next). mediahost fsyncs every part and computes MD5 and CRC-64 of every byte.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, machineLine } from './lib.ts';
import {
  createLibrary,
  loadAverage,
  MiB,
  median,
  options,
  startListening,
  startMediahost,
} from './targets.ts';
import {
  bareUpload,
  type Measured,
  measure,
  s3Client,
  sdkUpload,
  smhToken,
  smhUpload,
  tusUpload,
  type Upload,
  type UploadShape,
  writeSource,
} from './upload-clients.ts';

const args = options();
const TOTAL = Number(args.get('total-mib') ?? 512) * MiB;
const PIECE = Number(args.get('piece-mib') ?? 8) * MiB;
const IN_FLIGHT = Number(args.get('in-flight') ?? 4);
const ROUNDS = Number(args.get('rounds') ?? 3);
const WARM_UP = 64 * MiB;

interface Peer {
  name: string;
  pid: number;
  upload: Upload;
  results: Measured[];
}

async function main(): Promise<void> {
  process.stdout.write(machineLine());
  process.stdout.write(
    `${TOTAL / MiB} MiB per target in ${PIECE / MiB} MiB pieces, ${IN_FLIGHT} in flight, ${ROUNDS} alternating rounds; load ${loadAverage()}\n`,
  );
  const work = mkdtempSync(join(tmpdir(), 'mediahost-bench-peers-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const shape: UploadShape = {
      source: join(work, 'source.bin'),
      sourceBytes: Math.min(TOTAL, 256 * MiB),
      pieceBytes: PIECE,
      inFlight: IN_FLIGHT,
    };
    writeSource(shape.source, shape.sourceBytes);
    const dir = (name: string) => mkdtempSync(join(work, `${name}-`));
    const serve = async (mode: string, ...rest: string[]) => {
      const t = await startListening(['bench/peer-servers.ts', mode, ...rest]);
      stops.push(t.stop);
      return t;
    };
    const bare = await serve('sink', dir('bare'));
    const durable = await serve('sink', dir('durable'), 'fdatasync');
    const tus = await serve('tus', dir('tus'));
    const s3 = await serve('s3rver', dir('s3rver'));
    const dataDir = dir('mediahost');
    const mh = await startMediahost(dataDir, createLibrary(dataDir));
    stops.push(mh.stop);
    const token = await smhToken(mh.url, mh.library);
    const lib = mh.library;
    const peer = (name: string, pid: number, upload: Upload): Peer => ({ name, pid, upload, results: [] });
    const peers = [
      peer('bare', bare.pid, bareUpload(bare.url, shape)),
      peer('bare+fdatasync', durable.pid, bareUpload(durable.url, shape)),
      peer('mediahost smh', mh.pid, smhUpload(mh.url, lib, token, shape)),
      peer(
        'mediahost sdk',
        mh.pid,
        sdkUpload(s3Client(mh.url, lib.accessKeyId, lib.secretAccessKey, 'WHEN_REQUIRED'), lib.bucket, shape),
      ),
      peer(
        'mediahost sdk+crc32',
        mh.pid,
        sdkUpload(
          s3Client(mh.url, lib.accessKeyId, lib.secretAccessKey, 'WHEN_SUPPORTED'),
          lib.bucket,
          shape,
        ),
      ),
      peer('@tus/server', tus.pid, tusUpload(tus.url, shape)),
      peer(
        's3rver',
        s3.pid,
        sdkUpload(s3Client(s3.url, 'S3RVER', 'S3RVER', 'WHEN_REQUIRED'), 'bench', shape),
      ),
    ];
    for (const p of peers) {
      process.stderr.write(`warm-up ${p.name}\n`);
      await p.upload(WARM_UP, `warm-${p.name.replace(/\W/g, '')}`);
    }

    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`round ${round} (load ${loadAverage()}):\n`);
      for (const p of peers) {
        const m = await measure(p.pid, TOTAL, `r${round}-${p.name.replace(/\W/g, '')}`, p.upload);
        p.results.push(m);
        const ratio = m.mbps / peers[0]!.results[round - 1]!.mbps;
        process.stdout.write(
          `  ${p.name.padEnd(20)} ${m.mbps.toFixed(0).padStart(5)} MiB/s = ${ratio.toFixed(2)} of bare; CPU-s/GiB server ${m.serverCpu.toFixed(2)}, client ${m.clientCpu.toFixed(2)}\n`,
        );
      }
    }

    const of = (name: string) => peers.find((p) => p.name === name)!;
    const ratio = (a: Peer, b: Peer) => median(a.results.map((r, i) => r.mbps / b.results[i]!.mbps));
    process.stdout.write(`\nmedians of ${ROUNDS} rounds (ratios taken within each round):\n`);
    for (const p of peers) {
      process.stdout.write(
        `  ${p.name.padEnd(20)} ${median(p.results.map((r) => r.mbps))
          .toFixed(0)
          .padStart(
            5,
          )} MiB/s, ${ratio(p, peers[0]!).toFixed(2)} of bare; CPU-s/GiB server ${median(p.results.map((r) => r.serverCpu)).toFixed(2)}, client ${median(p.results.map((r) => r.clientCpu)).toFixed(2)}\n`,
      );
    }
    const smh = of('mediahost smh');
    const sdk = of('mediahost sdk');
    const lines = [
      `mediahost smh / @tus/server: ${ratio(smh, of('@tus/server')).toFixed(2)} (target >= 1)`,
      `mediahost sdk / bare: ${ratio(sdk, peers[0]!).toFixed(2)} (target >= 0.8)`,
      `mediahost sdk / s3rver: ${ratio(sdk, of('s3rver')).toFixed(2)} (target >= 3)`,
      `mediahost smh / bare+fdatasync: ${ratio(smh, of('bare+fdatasync')).toFixed(2)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\nload at the end ${loadAverage()}\n`);
  } finally {
    for (const stop of stops) await stop();
    agent.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
