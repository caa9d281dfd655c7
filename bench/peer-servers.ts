// The servers the benchmarks measure mediahost against, each run as its own child process:
//   sink DIR [fdatasync]  bare Node: every request body piped to a new file (fdatasync before answering)
//   files NAME=PATH...    bare Node: GET /NAME streams PATH, whole or one `Range: bytes=a-b`
//   tus DIR               @tus/server with its FileStore (no fsync, no hashing)
//   s3rver DIR            s3rver with a bucket `bench`
// Each prints `listening PORT` once it accepts connections.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

const [mode, ...rest] = process.argv.slice(2);

function listen(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
  });
}

function fail(res: ServerResponse, status: number): void {
  if (res.headersSent) res.destroy();
  else {
    res.statusCode = status;
    res.end();
  }
}

function sink(dir: string, sync: boolean): Server {
  let n = 0;
  return createServer(async (req, res) => {
    try {
      const path = `${dir}/${n++}`;
      await pipeline(req, createWriteStream(path));
      if (sync) {
        // fdatasync flushes the inode's dirty pages whichever descriptor asks.
        const fh = await open(path, 'r+');
        try {
          await fh.datasync();
        } finally {
          await fh.close();
        }
      }
      res.end();
    } catch {
      fail(res, 500);
    }
  });
}

/** The read side of a bare server: the same highWaterMark as mediahost's blob reads (256 KiB). */
function files(entries: string[]): Server {
  const paths = new Map(entries.map((e) => e.split('=') as [string, string]));
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = paths.get((req.url ?? '').slice(1).split('?')[0]!);
    if (!path) return fail(res, 404);
    const size = statSync(path).size;
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      res.statusCode = 206;
      res.setHeader('content-range', `bytes ${start}-${end}/${size}`);
    }
    res.setHeader('content-length', String(end - start + 1));
    try {
      await pipeline(createReadStream(path, { start, end, highWaterMark: 256 * 1024 }), res);
    } catch {
      fail(res, 500);
    }
  });
}

async function tus(dir: string): Promise<Server> {
  const { Server: TusServer } = await import('@tus/server');
  const { FileStore } = await import('@tus/file-store');
  const tusServer = new TusServer({ path: '/files', datastore: new FileStore({ directory: dir }) });
  return createServer((req, res) => {
    tusServer.handle(req, res).catch(() => fail(res, 500));
  });
}

async function s3rver(dir: string): Promise<void> {
  // s3rver ships no types; it is only started here.
  const S3rver = createRequire(import.meta.url)('s3rver') as new (
    options: object,
  ) => { run(): Promise<AddressInfo> };
  const address = await new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'bench' }],
  }).run();
  process.stdout.write(`listening ${address.port}\n`);
}

if (mode === 'sink') listen(sink(rest[0]!, rest[1] === 'fdatasync'));
else if (mode === 'files') listen(files(rest));
else if (mode === 'tus') listen(await tus(rest[0]!));
else if (mode === 's3rver') await s3rver(rest[0]!);
else throw new Error(`unknown mode ${mode}`);
process.once('SIGTERM', () => process.exit(0));
