// Upload clients that behave like real ones: every piece is streamed from a file on disk (read, not
// held in memory), and each client speaks its server's protocol with its real library where one
// exists (the AWS SDK). Each client uploads `total` bytes as PIECE-sized requests, IN_FLIGHT at once.

import { randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { cpuSeconds } from './lib.ts';
import { type Library, MiB, send } from './targets.ts';

export interface UploadShape {
  /** The file the pieces are read from (at least `pieceBytes` long). */
  source: string;
  sourceBytes: number;
  pieceBytes: number;
  inFlight: number;
}

export type Upload = (total: number, key: string) => Promise<void>;

/** Random bytes (nothing compresses or dedupes them) written to `path`. */
export function writeSource(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(8 * MiB);
  for (let written = 0; written < bytes; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
}

function piece(shape: UploadShape, n: number): Readable {
  const start = (n * shape.pieceBytes) % (shape.sourceBytes - shape.pieceBytes + 1);
  return createReadStream(shape.source, {
    start,
    end: start + shape.pieceBytes - 1,
    highWaterMark: 64 * 1024,
  });
}

/** Runs `put(0..count-1)` with `inFlight` loops. */
async function pieces(count: number, inFlight: number, put: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await put(next++);
    }),
  );
}

function expect(status: number, wanted: number, what: string, text = ''): void {
  if (status !== wanted) throw new Error(`${what}: HTTP ${status} ${text.slice(0, 300)}`);
}

/** A bare server: one PUT per piece. */
export function bareUpload(url: string, shape: UploadShape): Upload {
  return (total, key) =>
    pieces(total / shape.pieceBytes, shape.inFlight, async (n) => {
      const headers = { 'content-length': String(shape.pieceBytes) };
      const r = await send(url, 'PUT', `/${key}-${n}`, piece(shape, n), headers);
      expect(r.status, 200, 'bare PUT');
    });
}

/** tus 1.0: `inFlight` uploads side by side, each a creation POST then sequential PATCHes of a piece. */
export function tusUpload(url: string, shape: UploadShape): Upload {
  return async (total) => {
    const each = total / shape.inFlight;
    const perUpload = each / shape.pieceBytes;
    await Promise.all(
      Array.from({ length: shape.inFlight }, async (_, u) => {
        const created = await send(url, 'POST', '/files', undefined, {
          'tus-resumable': '1.0.0',
          'upload-length': String(each),
          'content-length': '0',
        });
        expect(created.status, 201, 'tus create', created.text);
        const location = new URL(String(created.headers.location), url).pathname;
        for (let i = 0; i < perUpload; i++) {
          const r = await send(url, 'PATCH', location, piece(shape, u * perUpload + i), {
            'tus-resumable': '1.0.0',
            'upload-offset': String(i * shape.pieceBytes),
            'content-type': 'application/offset+octet-stream',
            'content-length': String(shape.pieceBytes),
          });
          expect(r.status, 204, 'tus PATCH', r.text);
        }
      }),
    );
  };
}

export function s3Client(
  endpoint: string,
  accessKeyId: string,
  secretAccessKey: string,
  checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED',
): S3Client {
  return new S3Client({
    endpoint,
    region: 'ap-guangzhou',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
  });
}

/** One multipart upload through the AWS SDK: Create, UploadPart per piece (streamed), Complete. */
export function sdkUpload(client: S3Client, bucket: string, shape: UploadShape): Upload {
  return async (total, Key) => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
    const parts: { PartNumber: number; ETag: string }[] = [];
    await pieces(total / shape.pieceBytes, shape.inFlight, async (n) => {
      const out = await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key,
          UploadId,
          PartNumber: n + 1,
          Body: piece(shape, n),
          ContentLength: shape.pieceBytes,
        }),
      );
      parts[n] = { PartNumber: n + 1, ETag: out.ETag! };
    });
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  };
}

export async function smhToken(url: string, lib: Library): Promise<string> {
  const r = await send(
    url,
    'GET',
    `/api/v1/token?library_id=${lib.libraryId}&library_secret=${lib.librarySecret}&grant=admin`,
  );
  expect(r.status, 200, 'token', r.text);
  return (JSON.parse(r.text) as { accessToken: string }).accessToken;
}

interface Grant {
  url: string;
  uploadId: string;
  headers: Record<string, string>;
  confirmKey: string;
}

/** The SMH grant path: begin a multipart task, PUT each piece to the granted URL, confirm. */
export function smhUpload(url: string, lib: Library, token: string, shape: UploadShape): Upload {
  const file = (path: string, query: string) =>
    `/api/v1/file/${lib.libraryId}/-/${path}?${query}&access_token=${token}`;
  return async (total, key) => {
    const begun = await send(url, 'POST', file(`${key}.bin`, 'multipart'));
    expect(begun.status, 201, 'SMH begin', begun.text);
    const grant = JSON.parse(begun.text) as Grant;
    const target = new URL(grant.url);
    await pieces(total / shape.pieceBytes, shape.inFlight, async (n) => {
      const r = await send(
        target.origin,
        'PUT',
        `${target.pathname}?partNumber=${n + 1}&uploadId=${grant.uploadId}`,
        piece(shape, n),
        { ...grant.headers, 'content-length': String(shape.pieceBytes) },
      );
      expect(r.status, 200, 'SMH part', r.text);
    });
    const confirmed = await send(url, 'POST', file(grant.confirmKey, 'confirm'));
    expect(confirmed.status, 200, 'SMH confirm', confirmed.text);
  };
}

export interface Measured {
  mbps: number;
  /** CPU seconds per GiB stored, of the server and of this client. */
  serverCpu: number;
  clientCpu: number;
}

/** Runs one upload of `total` bytes against the server `pid`, with the CPU both sides spent. */
export async function measure(pid: number, total: number, key: string, upload: Upload): Promise<Measured> {
  const serverBefore = cpuSeconds(pid, false);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await upload(total, key);
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const gib = total / 2 ** 30;
  return {
    mbps: total / MiB / seconds,
    serverCpu: (cpuSeconds(pid, false) - serverBefore) / gib,
    clientCpu: (client.user + client.system) / 1e6 / gib,
  };
}
