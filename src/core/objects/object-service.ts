// Objects of the embedded store: put, read (with ranges across the blobs a multipart object is made
// of), copy, delete and list. Bytes are written before the short transaction that records them, and
// blobs a change made unreachable are deleted after it commits (the sweeper catches any left over).
import { Readable } from 'node:stream';
import type { BlobStore } from '../../ports/blob-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DiskSpace } from '../../ports/disk-space.ts';
import type { Logger } from '../../ports/logger.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { AppError } from '../errors.ts';
import { requireFreeSpace } from '../free-space.ts';
import { type BlobKey, type BucketName, type LibraryId, newObjectId } from '../ids.ts';
import { type BodyExpectations, blobSink, type DigesterFactory, ingestBody } from './ingest.ts';
import { validateKey, validateMetadata } from './keys.ts';
import { type Dialect, MAX_LIST_KEYS, type ObjectLimits } from './limits.ts';
import { afterPrefix, continueAfter, listWithRollup } from './listing.ts';
import type { BucketRecord, ObjectHeaders, ObjectRecord, SegmentRecord } from './model.ts';
import { smhKeyPrefix } from './smh-keys.ts';

export interface PutObjectInput {
  bucket: BucketName;
  key: string;
  dialect: Dialect;
  body: AsyncIterable<Uint8Array>;
  declaredLength?: number;
  headers: ObjectHeaders;
  expect: BodyExpectations;
  /** Size bounds tighter than the store's own (POST policy content-length-range). */
  sizeRange?: { min: number; max: number };
  signal?: AbortSignal;
}

export interface ObjectWriteResult {
  object: ObjectRecord;
  /** S3 checksums computed for the body, algorithm -> base64. */
  checksums: Record<string, string>;
}

/** Inclusive byte range, already checked against the object size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectReader {
  object: ObjectRecord;
  /** Opens the bytes of the whole object or of a range; fails at once when its first blob is missing. */
  open(range?: ByteRange, signal?: AbortSignal): Promise<Readable>;
}

export interface ListObjectsInput {
  bucket: BucketName;
  prefix: string;
  delimiter: string;
  /** List keys strictly after this one (marker / start-after / decoded continuation token). */
  after: string;
  maxKeys: number;
}

export interface ListObjectsResult {
  objects: ObjectRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Last key or common prefix returned (NextMarker of ListObjects V1). */
  lastKey: string | undefined;
  /** Where to continue (the `after` of the next call), when truncated. */
  nextAfter: string | undefined;
}

export interface CopyObjectInput {
  source: { bucket: BucketName; key: string };
  target: { bucket: BucketName; key: string };
  dialect: Dialect;
  /** Replace the stored headers (metadata directive REPLACE); otherwise they are copied. */
  replaceHeaders?: ObjectHeaders;
  conditions?: (source: ObjectRecord) => void;
  signal?: AbortSignal;
}

export interface ObjectServiceDeps {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  logger: Logger;
  limits: ObjectLimits;
  newDigester: DigesterFactory;
  /** The data dir's disk: writes are refused while it is below its reserve. */
  disk: DiskSpace;
}

/**
 * Streams the given byte range of an object assembled from segments. The first blob is opened before
 * this returns, so a missing blob fails the call while an error can still be answered; later blobs
 * are opened as the stream reaches them.
 */
async function segmentStream(
  blobs: BlobStore,
  segments: readonly SegmentRecord[],
  range: ByteRange,
  signal?: AbortSignal,
): Promise<Readable> {
  const pieces: { blobKey: BlobKey; start: number; end: number }[] = [];
  let offset = 0;
  for (const seg of segments) {
    const segStart = offset;
    const segEnd = offset + seg.size - 1;
    offset += seg.size;
    if (seg.size === 0 || segEnd < range.start) continue;
    if (segStart > range.end) break;
    pieces.push({
      blobKey: seg.blobKey,
      start: Math.max(range.start, segStart) - segStart,
      end: Math.min(range.end, segEnd) - segStart,
    });
  }
  const open = (p: (typeof pieces)[number]): Promise<Readable> =>
    blobs.read(p.blobKey, { start: p.start, end: p.end, ...(signal ? { signal } : {}) });
  const first = pieces.length > 0 ? await open(pieces[0]!) : undefined;
  async function* generate(): AsyncGenerator<Buffer> {
    for (const [i, piece] of pieces.entries()) {
      const stream = i === 0 ? first! : await open(piece);
      for await (const chunk of stream) yield chunk as Buffer;
    }
  }
  const out = Readable.from(generate(), { objectMode: false });
  // A body abandoned before it was read still closes the blob opened up front.
  out.once('close', () => first?.destroy());
  return out;
}

export class ObjectService {
  readonly #deps: ObjectServiceDeps;

  constructor(deps: ObjectServiceDeps) {
    this.#deps = deps;
  }

  async requireBucket(name: BucketName): Promise<BucketRecord> {
    const bucket = await this.#deps.store.buckets.get(name);
    if (!bucket)
      throw new AppError('NoSuchBucket', 'The specified bucket does not exist.', {
        details: { BucketName: name },
      });
    return bucket;
  }

  async listBuckets(libraryId: LibraryId): Promise<BucketRecord[]> {
    return this.#deps.store.buckets.list(libraryId);
  }

  /** Deletes blobs that a committed change made unreachable; failures are left to the sweeper. */
  async discardBlobs(keys: readonly BlobKey[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.#deps.blobs.delete(keys);
    } catch (err) {
      this.#deps.logger.warn(
        { err, count: keys.length },
        'could not delete unreferenced blobs; the sweeper will',
      );
    }
  }

  async putObject(input: PutObjectInput): Promise<ObjectWriteResult> {
    validateKey(input.key, input.dialect);
    validateMetadata(input.headers.meta);
    await this.requireBucket(input.bucket);
    const ingested = await ingestBody(blobSink(this.#deps.blobs), this.#deps.newDigester, {
      body: input.body,
      disk: this.#deps.disk,
      maxSize: Math.min(this.#deps.limits.maxPutSize, input.sizeRange?.max ?? Number.POSITIVE_INFINITY),
      ...(input.sizeRange ? { minSize: input.sizeRange.min } : {}),
      expect: input.expect,
      ...(input.declaredLength === undefined ? {} : { declaredLength: input.declaredLength }),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    const object: ObjectRecord = {
      id: newObjectId(),
      bucket: input.bucket,
      key: input.key,
      size: ingested.blob.size,
      etag: ingested.md5.toString('hex'),
      crc64: ingested.crc64,
      headers: input.headers,
      checksums: ingested.checksums,
      partsCount: 0,
      lastModified: this.#deps.clock.now(),
    };
    let replaced: BlobKey[];
    try {
      replaced = await this.#deps.store.transaction((tx) =>
        tx.objects.put(object, [{ blobKey: ingested.blob.key, size: ingested.blob.size }]),
      );
    } catch (err) {
      await this.discardBlobs([ingested.blob.key]);
      throw err;
    }
    await this.discardBlobs(replaced);
    return { object, checksums: ingested.checksums };
  }

  async headObject(bucket: BucketName, key: string): Promise<ObjectRecord> {
    await this.requireBucket(bucket);
    const object = await this.#deps.store.objects.get(bucket, key);
    if (!object)
      throw new AppError('NoSuchKey', 'The specified key does not exist.', { details: { Key: key } });
    return object;
  }

  async getObject(bucket: BucketName, key: string): Promise<ObjectReader> {
    const { store, blobs } = this.#deps;
    // The row and its segments are read separately; if the object was replaced in between, the
    // segments no longer add up to its size and the read is retried on the new version.
    for (let attempt = 0; attempt < 5; attempt++) {
      const object = await this.headObject(bucket, key);
      const segments = await store.objects.segments(object.id);
      const total = segments.reduce((n, s) => n + s.size, 0);
      if (total !== object.size || (segments.length === 0 && object.size !== 0)) continue;
      return {
        object,
        open: (range, signal) =>
          segmentStream(blobs, segments, range ?? { start: 0, end: object.size - 1 }, signal),
      };
    }
    throw new AppError('ServiceUnavailable', 'The object is being replaced; please retry.');
  }

  async deleteObject(bucket: BucketName, key: string): Promise<void> {
    await this.requireBucket(bucket);
    const blobs = await this.#deps.store.transaction((tx) => tx.objects.delete(bucket, key));
    await this.discardBlobs(blobs);
  }

  /** DeleteObjects: each key independently; a missing key counts as deleted (S3). */
  async deleteObjects(bucket: BucketName, keys: readonly string[]): Promise<void> {
    await this.requireBucket(bucket);
    const blobs = await this.#deps.store.transaction(async (tx) => {
      const all: BlobKey[] = [];
      for (const key of keys) all.push(...(await tx.objects.delete(bucket, key)));
      return all;
    });
    await this.discardBlobs(blobs);
  }

  async copyObject(input: CopyObjectInput): Promise<ObjectRecord> {
    validateKey(input.target.key, input.dialect);
    if (input.replaceHeaders) validateMetadata(input.replaceHeaders.meta);
    await this.requireBucket(input.target.bucket);
    const reader = await this.getObject(input.source.bucket, input.source.key);
    const source = reader.object;
    input.conditions?.(source);
    if (source.size > this.#deps.limits.maxPutSize) {
      throw new AppError('EntityTooLarge', 'The source object is larger than a single copy allows.');
    }
    const sameObject = input.source.bucket === input.target.bucket && input.source.key === input.target.key;
    if (sameObject && !input.replaceHeaders) {
      throw new AppError(
        'InvalidRequest',
        'This copy request is illegal because it is trying to copy an object to itself without changing the metadata.',
      );
    }
    await requireFreeSpace(this.#deps.disk, source.size);
    const segments = await this.#deps.store.objects.segments(source.id);
    const copied: SegmentRecord[] = [];
    try {
      for (const seg of segments) {
        const blob = await this.#deps.blobs.copy(seg.blobKey, input.signal ? { signal: input.signal } : {});
        copied.push({ blobKey: blob.key, size: blob.size });
      }
    } catch (err) {
      await this.discardBlobs(copied.map((s) => s.blobKey));
      throw err;
    }
    const object: ObjectRecord = {
      ...source,
      id: newObjectId(),
      bucket: input.target.bucket,
      key: input.target.key,
      headers: input.replaceHeaders ?? source.headers,
      lastModified: this.#deps.clock.now(),
    };
    let replaced: BlobKey[];
    try {
      replaced = await this.#deps.store.transaction((tx) => tx.objects.put(object, copied));
    } catch (err) {
      await this.discardBlobs(copied.map((s) => s.blobKey));
      throw err;
    }
    await this.discardBlobs(replaced);
    return object;
  }

  /** The object API's listing: it never shows the library's SMH keys (ADR 0001 §17). */
  async listObjects(input: ListObjectsInput): Promise<ListObjectsResult> {
    const bucket = await this.requireBucket(input.bucket);
    const maxKeys = Math.min(input.maxKeys, MAX_LIST_KEYS);
    const after = continueAfter(input.after, input.prefix, input.delimiter);
    const result = await listWithRollup<ObjectRecord, string>({
      prefix: input.prefix,
      delimiter: input.delimiter,
      limit: maxKeys,
      start: after,
      keyOf: (o) => o.key,
      cursorOf: (o) => o.key,
      cursorPast: (p) => afterPrefix(p),
      fetch: (cursor, limit) =>
        this.#deps.store.objects.list({ bucket: input.bucket, prefix: input.prefix, after: cursor, limit }),
      hidden: smhKeyPrefix(bucket.libraryId),
    });
    return {
      objects: result.items,
      commonPrefixes: result.commonPrefixes,
      isTruncated: result.isTruncated,
      lastKey: result.lastKey,
      nextAfter: result.isTruncated ? result.lastKey : undefined,
    };
  }
}
