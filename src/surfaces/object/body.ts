// The request body as the commands see it: aws-chunked decoded (chunk signatures checked before data
// moves on), throttled to x-cos-traffic-limit, and with the integrity expectations the headers and
// trailers carry (Content-MD5, signed SHA-256, x-amz-checksum-*).
import { AppError } from '../../core/errors.ts';
import type { BodyExpectations } from '../../core/objects/ingest.ts';
import { AwsChunkedError, decodeAwsChunked } from '../../lib/aws-chunked.ts';
import { type ChecksumAlgorithm, checksumAlgorithmFromHeader } from '../../lib/checksums.ts';
import { idleTimeout, throttle } from '../../lib/streams.ts';
import { header, type ObjectContext } from './context.ts';

export interface RequestBody {
  body: AsyncIterable<Uint8Array>;
  declaredLength?: number;
  expect: BodyExpectations;
}

// COS: x-cos-traffic-limit is in bit/s, from 100 KB/s to 100 MB/s.
const MIN_TRAFFIC_LIMIT = 819_200;
const MAX_TRAFFIC_LIMIT = 838_860_800;

/** x-cos-traffic-limit in bytes per second, or undefined when absent. */
export function trafficLimit(ctx: ObjectContext): number | undefined {
  const raw = header(ctx, 'x-cos-traffic-limit');
  const scoped = ctx.caller.key?.scope?.trafficLimit;
  if (raw === undefined || raw === '') return scoped;
  if (!/^\d+$/.test(raw) || Number(raw) < MIN_TRAFFIC_LIMIT || Number(raw) > MAX_TRAFFIC_LIMIT) {
    throw new AppError(
      'InvalidArgument',
      `x-cos-traffic-limit must be an integer from ${MIN_TRAFFIC_LIMIT} to ${MAX_TRAFFIC_LIMIT} bit/s.`,
      { details: { ArgumentName: 'x-cos-traffic-limit', ArgumentValue: raw } },
    );
  }
  const bytes = Math.floor(Number(raw) / 8);
  return scoped === undefined ? bytes : Math.min(bytes, scoped);
}

function parseLength(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()))
    throw new AppError('InvalidArgument', `${name} must be a non-negative integer.`);
  return Number(value.trim());
}

async function* mapChunkedErrors(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* source;
  } catch (err) {
    if (err instanceof AwsChunkedError) {
      throw err.code === 'SignatureDoesNotMatch'
        ? new AppError('SignatureDoesNotMatch', `The chunk signature does not match: ${err.message}`)
        : new AppError('IncompleteBody', `The aws-chunked body is malformed: ${err.message}`);
    }
    throw err;
  }
}

/** S3 checksum headers sent with the request (x-amz-checksum-crc32: base64 ...). */
function checksumHeaders(ctx: ObjectContext): Partial<Record<ChecksumAlgorithm, string>> {
  const out: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const [name, value] of Object.entries(ctx.request.headers)) {
    if (!name.startsWith('x-amz-checksum-') || typeof value !== 'string') continue;
    const alg = checksumAlgorithmFromHeader(name);
    if (alg) out[alg] = value.trim();
  }
  return out;
}

/**
 * The raw request body, failing with RequestTimeout once no byte has arrived for
 * --body-timeout-seconds (a client that stalls must not hold a request forever).
 */
export function bodySource(ctx: ObjectContext): AsyncIterable<Buffer> {
  const raw = ctx.request.raw as AsyncIterable<Buffer>;
  const seconds = ctx.deps.config.bodyTimeoutSeconds;
  if (seconds <= 0) return raw;
  return idleTimeout(
    raw,
    seconds * 1000,
    () => new AppError('RequestTimeout', `No byte of the request body arrived for ${seconds} s.`),
  );
}

export function requestBody(ctx: ObjectContext, options: { requireLength: boolean }): RequestBody {
  const contentLength = parseLength(header(ctx, 'content-length'), 'Content-Length');
  const chunkedTransfer = header(ctx, 'transfer-encoding') !== undefined;
  if (options.requireLength && contentLength === undefined && !chunkedTransfer) {
    throw new AppError('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }
  const expected = checksumHeaders(ctx);
  const algorithms = new Set<ChecksumAlgorithm>(Object.keys(expected) as ChecksumAlgorithm[]);
  const sdkAlgorithm = header(ctx, 'x-amz-sdk-checksum-algorithm');
  const sdkAlg = sdkAlgorithm ? checksumAlgorithmFromHeader(sdkAlgorithm) : undefined;
  if (sdkAlg) algorithms.add(sdkAlg);

  const payload = ctx.caller.payload;
  const raw = bodySource(ctx);
  let body: AsyncIterable<Uint8Array> = raw;
  let declaredLength = contentLength;
  let trailers: (() => Record<string, string>) | undefined;
  if (payload.kind === 'aws-chunked') {
    const decodedLength = parseLength(
      header(ctx, 'x-amz-decoded-content-length'),
      'x-amz-decoded-content-length',
    );
    if (decodedLength === undefined) {
      throw new AppError(
        'MissingContentLength',
        'aws-chunked uploads must send x-amz-decoded-content-length.',
      );
    }
    const trailerName = header(ctx, 'x-amz-trailer')?.trim().toLowerCase();
    const trailerAlg = trailerName ? checksumAlgorithmFromHeader(trailerName) : undefined;
    if (trailerAlg) algorithms.add(trailerAlg);
    const decoded = decodeAwsChunked(raw, {
      decodedLength,
      ...(payload.signing ? { signing: payload.signing } : {}),
      ...(trailerName ? { expectTrailer: trailerName } : {}),
      signedTrailer: payload.signedTrailer,
    });
    body = mapChunkedErrors(decoded.body);
    declaredLength = decodedLength;
    trailers = decoded.trailers;
  }
  const limit = trafficLimit(ctx);
  if (limit !== undefined) body = throttle(body, limit, ctx.signal);

  const contentMd5 = header(ctx, 'content-md5');
  const expect: BodyExpectations = {
    ...(contentMd5 !== undefined && contentMd5 !== '' ? { contentMd5 } : {}),
    ...(payload.kind === 'signed' ? { sha256Hex: payload.sha256Hex } : {}),
    checksumAlgorithms: [...algorithms],
    checksums: () => {
      const all: Partial<Record<ChecksumAlgorithm, string>> = { ...expected };
      for (const [name, value] of Object.entries(trailers?.() ?? {})) {
        const alg = checksumAlgorithmFromHeader(name);
        if (alg) all[alg] = value;
      }
      return all;
    },
  };
  return { body, expect, ...(declaredLength === undefined ? {} : { declaredLength }) };
}
