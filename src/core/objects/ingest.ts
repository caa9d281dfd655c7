// Taking a request body into a blob: size limits, digests computed on the way through, and the
// integrity checks (Content-MD5, payload SHA-256, S3 checksums) that must pass before anything is
// recorded. A failed check deletes the blob, so nothing of a rejected body remains.
import { createHash } from 'node:crypto';
import {
  type ChecksumAlgorithm,
  type DigestName,
  type Digests,
  encodeChecksum,
} from '../../lib/checksums.ts';
import type { StreamDigester } from '../../lib/stream-digester.ts';
import type { BlobStore, BlobWriteResult } from '../../ports/blob-store.ts';
import type { DiskSpace } from '../../ports/disk-space.ts';
import { AppError, isAppError } from '../errors.ts';
import { requireFreeSpace } from '../free-space.ts';

export interface BodyExpectations {
  /** Content-MD5 header as sent (base64 of the 16-byte digest). COS/S3: InvalidDigest, BadDigest. */
  contentMd5?: string;
  /** Hex SHA-256 from a SigV4 signed payload (x-amz-content-sha256). */
  sha256Hex?: string;
  /** S3 checksums to compute and echo. */
  checksumAlgorithms?: readonly ChecksumAlgorithm[];
  /** Expected S3 checksums (base64), read after the body ended because trailers arrive last. */
  checksums?: () => Partial<Record<ChecksumAlgorithm, string>>;
}

export interface IngestInput {
  body: AsyncIterable<Uint8Array>;
  /** Byte count the client announced (Content-Length or x-amz-decoded-content-length). */
  declaredLength?: number;
  maxSize: number;
  /** Smallest acceptable body (POST policy content-length-range); EntityTooSmall below it. */
  minSize?: number;
  expect: BodyExpectations;
  signal?: AbortSignal;
  /** The disk the bytes go to: a body it has no room for is refused before a byte is read. */
  disk?: DiskSpace;
}

export interface IngestResult<T extends { size: number } = BlobWriteResult> {
  blob: T;
  md5: Buffer;
  crc64: string;
  /** S3 checksums of the body, algorithm -> base64. */
  checksums: Record<string, string>;
}

/** Makes a digester; `sizeHint` (the declared length, when known) lets small bodies skip the pool. */
export type DigesterFactory = (names: readonly DigestName[], sizeHint: number | undefined) => StreamDigester;

/** COS/S3: Content-MD5 must be base64 of exactly 16 bytes, else InvalidDigest (checked before reading). */
export function parseContentMd5(value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]{22}==$/.test(trimmed)) {
    throw new AppError('InvalidDigest', 'The Content-MD5 you specified is not valid.');
  }
  return Buffer.from(trimmed, 'base64');
}

function isClientGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (
    code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error)?.message === 'aborted'
  );
}

/** Where ingested bytes go: a blob store, or memory for small request documents. */
export interface BodySink<T extends { size: number }> {
  write(source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<T>;
  discard(written: T): Promise<void>;
}

export function blobSink(blobs: BlobStore): BodySink<BlobWriteResult> {
  return {
    write: (source, signal) => blobs.write(source, signal ? { signal } : {}),
    discard: (written) => blobs.delete([written.key]),
  };
}

export async function ingestBody<T extends { size: number }>(
  sink: BodySink<T>,
  newDigester: DigesterFactory,
  input: IngestInput,
): Promise<IngestResult<T>> {
  const { declaredLength, maxSize, expect } = input;
  if (declaredLength !== undefined && declaredLength > maxSize) {
    throw new AppError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', {
      details: { ProposedSize: declaredLength, MaxSizeAllowed: maxSize },
    });
  }
  const expectedMd5 = parseContentMd5(expect.contentMd5);
  if (input.disk) await requireFreeSpace(input.disk, declaredLength);
  const names: DigestName[] = ['md5', 'crc64', ...(expect.checksumAlgorithms ?? [])];
  if (expect.sha256Hex !== undefined && !names.includes('sha256')) names.push('sha256');
  const digester = newDigester(names, declaredLength);
  let size = 0;
  const limit = Math.min(maxSize, declaredLength ?? maxSize);
  // Asked for as soon as the last byte is in, so the digests are finished while the blob store
  // flushes and renames (and the hashing thread does not wait on this body meanwhile).
  let digested: Promise<Digests> | undefined;
  async function* tap(): AsyncGenerator<Uint8Array> {
    for await (const chunk of input.body) {
      size += chunk.length;
      if (size > limit) {
        throw declaredLength !== undefined && size > declaredLength
          ? new AppError('InvalidRequest', 'The request body is longer than its declared length.')
          : new AppError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', {
              details: { MaxSizeAllowed: maxSize },
            });
      }
      const wait = digester.update(chunk);
      if (wait) await wait;
      yield chunk;
    }
    digested = digester.digest();
    // Awaited below once the blob is stored; a write that fails first leaves it unobserved.
    digested.catch(() => {});
  }

  let blob: T;
  try {
    blob = await sink.write(tap(), input.signal);
  } catch (err) {
    digester.discard();
    if (isAppError(err)) throw err;
    const reason = input.signal?.aborted ? input.signal.reason : undefined;
    if (isAppError(reason)) throw reason;
    if (isClientGone(err) || input.signal?.aborted) {
      throw new AppError('IncompleteBody', 'The request body ended before all its bytes arrived.', {
        cause: err,
      });
    }
    throw err;
  }

  try {
    if (declaredLength !== undefined && blob.size !== declaredLength) {
      throw new AppError(
        'IncompleteBody',
        `You did not provide the number of bytes specified by the Content-Length HTTP header (${blob.size} of ${declaredLength}).`,
      );
    }
    if (input.minSize !== undefined && blob.size < input.minSize) {
      throw new AppError('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size.', {
        details: { ProposedSize: blob.size, MinSizeAllowed: input.minSize },
      });
    }
    const digests: Digests = await (digested ?? digester.digest());
    const md5 = digests.md5!;
    if (expectedMd5 && !expectedMd5.equals(md5)) {
      throw new AppError('BadDigest', 'The Content-MD5 you specified did not match what was received.');
    }
    if (
      expect.sha256Hex !== undefined &&
      digests.sha256!.toString('hex') !== expect.sha256Hex.toLowerCase()
    ) {
      throw new AppError(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
    const checksums: Record<string, string> = {};
    for (const alg of expect.checksumAlgorithms ?? []) checksums[alg] = encodeChecksum(alg, digests);
    const wanted = expect.checksums?.() ?? {};
    for (const [alg, value] of Object.entries(wanted) as [ChecksumAlgorithm, string][]) {
      const actual = checksums[alg];
      if (actual !== undefined && actual !== value) {
        throw new AppError(
          'BadDigest',
          `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`,
        );
      }
    }
    return { blob, md5, crc64: digests.crc64!.toString(10), checksums };
  } catch (err) {
    await sink.discard(blob).catch(() => {});
    throw err;
  }
}

/** ETag of a multipart object: md5 of the concatenated binary part md5s, then "-" and the count. */
export function multipartEtag(partEtags: readonly string[]): string {
  const h = createHash('md5');
  for (const etag of partEtags) h.update(Buffer.from(etag, 'hex'));
  return `${h.digest('hex')}-${partEtags.length}`;
}
