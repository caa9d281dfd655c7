// Bytes to and from the URLs the SMH API hands out (object-store parts, download redirects): streamed
// with node:http so that progress counts bytes as they go and a Content-Length is sent, not chunks.
import { createReadStream, createWriteStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Crc64 } from '../lib/crc64.ts';
import { CliError } from './cli-error.ts';

/** A refusal from the object store, in its XML dialect (`<Code>`, `<Message>`). */
export class TransferError extends CliError {
  override name = 'TransferError';
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(`${message} (object store ${code}, HTTP ${status})`);
    this.status = status;
    this.code = code;
  }

  /** Worth another try: the store or the network, not the request. */
  get isTransient(): boolean {
    return this.status >= 500 || this.status === 429 || this.status === 0;
  }
}

const xmlField = (xml: string, name: string): string | undefined =>
  new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/** Counts and checksums what flows through. */
function meter(onBytes: (n: number) => void, crc: Crc64): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      crc.update(chunk);
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
}

function send(
  url: string,
  options: http.RequestOptions,
): { request: http.ClientRequest; response: Promise<http.IncomingMessage> } {
  const lib = url.startsWith('https:') ? https : http;
  let request!: http.ClientRequest;
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request = lib.request(url, options, resolve);
    request.once('error', reject);
  });
  return { request, response };
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function networkError(err: unknown): TransferError {
  const code = (err as NodeJS.ErrnoException).code ?? 'NetworkError';
  return new TransferError(0, code, `the transfer broke off: ${(err as Error).message}`);
}

export interface PutRange {
  url: string;
  headers: Record<string, string>;
  file: string;
  start: number;
  length: number;
  signal: AbortSignal;
  /** Told about every chunk sent; on failure told the negative sum, so totals stay true. */
  onBytes: (n: number) => void;
}

/** PUTs `length` bytes of `file` from `start`; resolves with their CRC-64. */
export async function putRange(part: PutRange): Promise<bigint> {
  const crc = new Crc64();
  let sent = 0;
  const count = (n: number) => {
    sent += n;
    part.onBytes(n);
  };
  const { request, response } = send(part.url, {
    method: 'PUT',
    headers: { ...part.headers, 'content-length': String(part.length) },
    signal: part.signal,
  });
  response.catch(() => {});
  try {
    const body =
      part.length === 0
        ? [] // createReadStream with end < start would read the whole file
        : createReadStream(part.file, { start: part.start, end: part.start + part.length - 1 });
    await pipeline(body, meter(count, crc), request);
    const res = await response;
    if (res.statusCode !== 200 && res.statusCode !== 204) {
      const xml = await readAll(res);
      throw new TransferError(
        res.statusCode ?? 0,
        xmlField(xml, 'Code') ?? `HTTP${res.statusCode}`,
        xmlField(xml, 'Message') ?? `the object store answered ${res.statusCode}`,
      );
    }
    res.resume();
    return crc.value();
  } catch (err) {
    part.onBytes(-sent);
    if (err instanceof TransferError || (err as Error).name === 'AbortError') throw err;
    throw networkError(err);
  }
}

export interface Download {
  url: string;
  to: string;
  signal: AbortSignal;
  onBytes: (n: number) => void;
}

/** GETs `url` into the file `to`; resolves with the byte count and CRC-64 of what was written. */
export async function getToFile(download: Download): Promise<{ size: number; crc64: bigint }> {
  const crc = new Crc64();
  let size = 0;
  const { request, response } = send(download.url, { method: 'GET', signal: download.signal });
  request.end();
  let res: http.IncomingMessage;
  try {
    res = await response;
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw networkError(err);
  }
  if (res.statusCode !== 200) {
    const xml = await readAll(res);
    throw new TransferError(
      res.statusCode ?? 0,
      xmlField(xml, 'Code') ?? `HTTP${res.statusCode}`,
      xmlField(xml, 'Message') ?? `the download answered ${res.statusCode}`,
    );
  }
  const count = (n: number) => {
    size += n;
    download.onBytes(n);
  };
  try {
    await pipeline(res, meter(count, crc), createWriteStream(download.to, { flags: 'wx' }), {
      signal: download.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw networkError(err);
  }
  return { size, crc64: crc.value() };
}

const MAX_ATTEMPTS = 5;
const isAbort = (err: unknown): boolean => (err as Error)?.name === 'AbortError';

/** Sends one range, retrying what the network or the store may do better a moment later. */
export async function sendWithRetries(
  send: (attempt: number) => Promise<bigint>,
  signal: AbortSignal,
  onExpired: () => Promise<void>,
): Promise<bigint> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send(attempt);
    } catch (err) {
      if (isAbort(err) || !(err instanceof TransferError) || attempt >= MAX_ATTEMPTS) throw err;
      if (err.status === 403 && attempt === 1) await onExpired();
      else if (err.isTransient) await sleep(250 * 2 ** attempt, undefined, { signal });
      else throw err;
    }
  }
}
