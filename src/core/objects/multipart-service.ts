// Multipart uploads with guarantees stronger than S3's: a part is recorded only while its upload is
// active (checked under the upload's row lock), abort stops parts still streaming and none can land
// after it returns, and Complete is a metadata-only transaction whose cost grows with the number of
// parts, never their size (the object keeps the part blobs as its segments).
import { createHash } from 'node:crypto';
import { crc64Combine } from '../../lib/crc64.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { AppError } from '../errors.ts';
import { type BlobKey, type BucketName, newObjectId, newUploadId, type UploadId } from '../ids.ts';
import { type BodyExpectations, blobSink, ingestBody, multipartEtag } from './ingest.ts';
import { validateKey, validateMetadata } from './keys.ts';
import { type Dialect, MAX_LIST_PARTS, MAX_PART_NUMBER, type ObjectLimits } from './limits.ts';
import { afterPrefix, continueAfter, listWithRollup } from './listing.ts';
import type {
  CompletedUpload,
  ObjectHeaders,
  ObjectRecord,
  PartRecord,
  PartSummary,
  UploadRecord,
} from './model.ts';
import type { ObjectService, ObjectServiceDeps } from './object-service.ts';
import { smhKeyPrefix } from './smh-keys.ts';

export interface UploadTarget {
  bucket: BucketName;
  key: string;
  uploadId: string;
}

export interface UploadPartInput extends UploadTarget {
  partNumber: number;
  body: AsyncIterable<Uint8Array>;
  declaredLength?: number;
  expect: BodyExpectations;
  signal?: AbortSignal;
}

export interface CompletePart {
  partNumber: number;
  etag: string;
  /** S3 per-part checksums from the Complete body, algorithm (lower case) -> base64. */
  checksums: Record<string, string>;
}

export interface CompleteInput extends UploadTarget {
  dialect: Dialect;
  parts: readonly CompletePart[];
}

export interface CompleteResult {
  upload: UploadRecord;
  etag: string;
  crc64: string;
  size: number;
}

export interface ListPartsResult {
  upload: UploadRecord;
  parts: PartRecord[];
  isTruncated: boolean;
  nextPartNumberMarker: number;
}

export interface ListUploadsInput {
  bucket: BucketName;
  prefix: string;
  delimiter: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploads: number;
}

export interface ListUploadsResult {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker: string | undefined;
  nextUploadIdMarker: string | undefined;
}

interface UploadCursor {
  key: string;
  uploadId: string;
}

/** Compare ETags as clients send them: quotes, a W/ prefix and letter case do not matter. */
export function normalizeEtag(etag: string): string {
  return etag
    .trim()
    .replace(/^W\//i, '')
    .replace(/^"+|"+$/g, '')
    .toLowerCase();
}

function partsDigest(parts: readonly CompletePart[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.partNumber}:${normalizeEtag(p.etag)};`);
  return h.digest('hex');
}

const noSuchUpload = (uploadId: string): AppError =>
  new AppError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { details: { UploadId: uploadId } },
  );

export class MultipartService {
  readonly #deps: ObjectServiceDeps;
  readonly #objects: ObjectService;
  /** Part writers in flight on this node, so abort can stop them at once. */
  readonly #inflight = new Map<string, Set<AbortController>>();

  constructor(deps: ObjectServiceDeps, objects: ObjectService) {
    this.#deps = deps;
    this.#objects = objects;
  }

  get #store(): MetadataStore {
    return this.#deps.store;
  }

  get #clock(): Clock {
    return this.#deps.clock;
  }

  get #limits(): ObjectLimits {
    return this.#deps.limits;
  }

  get #logger(): Logger {
    return this.#deps.logger;
  }

  async create(input: {
    bucket: BucketName;
    key: string;
    dialect: Dialect;
    headers: ObjectHeaders;
    owner: string;
    checksumAlgorithm: string | null;
  }): Promise<UploadRecord> {
    validateKey(input.key, input.dialect);
    validateMetadata(input.headers.meta);
    await this.#objects.requireBucket(input.bucket);
    const upload: UploadRecord = {
      id: newUploadId(this.#clock.now()),
      bucket: input.bucket,
      key: input.key,
      state: 'active',
      initiatedAt: this.#clock.now(),
      owner: input.owner,
      headers: input.headers,
      checksumAlgorithm: input.checksumAlgorithm,
      result: null,
    };
    await this.#store.multipart.insert(upload);
    return upload;
  }

  /** An upload Complete may act on: active, or completed (a retry may be replayed). */
  async requireCompletable(target: UploadTarget): Promise<UploadRecord> {
    const upload = await this.#store.multipart.get(target.uploadId as UploadId);
    if (
      !upload ||
      upload.bucket !== target.bucket ||
      upload.key !== target.key ||
      upload.state === 'aborted'
    ) {
      throw noSuchUpload(target.uploadId);
    }
    return upload;
  }

  /** The active upload with this id for this object, or NoSuchUpload. */
  async requireActive(target: UploadTarget): Promise<UploadRecord> {
    const upload = await this.#store.multipart.get(target.uploadId as UploadId);
    if (
      !upload ||
      upload.bucket !== target.bucket ||
      upload.key !== target.key ||
      upload.state !== 'active'
    ) {
      throw noSuchUpload(target.uploadId);
    }
    return upload;
  }

  #track(uploadId: string): AbortController {
    const controller = new AbortController();
    let set = this.#inflight.get(uploadId);
    if (!set) {
      set = new Set();
      this.#inflight.set(uploadId, set);
    }
    set.add(controller);
    return controller;
  }

  #untrack(uploadId: string, controller: AbortController): void {
    const set = this.#inflight.get(uploadId);
    if (!set) return;
    set.delete(controller);
    if (set.size === 0) this.#inflight.delete(uploadId);
  }

  async uploadPart(input: UploadPartInput): Promise<PartRecord> {
    // COS: the upload is looked up first (404), then the part number is checked (400).
    await this.requireActive(input);
    if (!Number.isInteger(input.partNumber) || input.partNumber < 1 || input.partNumber > MAX_PART_NUMBER) {
      throw new AppError(
        'InvalidArgument',
        'Part number must be an integer between 1 and 10000, inclusive.',
        {
          details: { ArgumentName: 'partNumber', ArgumentValue: String(input.partNumber) },
        },
      );
    }
    const controller = this.#track(input.uploadId);
    const signal = input.signal ? AbortSignal.any([input.signal, controller.signal]) : controller.signal;
    try {
      const ingested = await ingestBody(blobSink(this.#deps.blobs), this.#deps.newDigester, {
        body: input.body,
        disk: this.#deps.disk,
        maxSize: this.#limits.maxPartSize,
        expect: input.expect,
        signal,
        ...(input.declaredLength === undefined ? {} : { declaredLength: input.declaredLength }),
      });
      const part: PartRecord = {
        uploadId: input.uploadId as UploadId,
        partNumber: input.partNumber,
        blobKey: ingested.blob.key,
        size: ingested.blob.size,
        etag: ingested.md5.toString('hex'),
        crc64: ingested.crc64,
        checksums: ingested.checksums,
        lastModified: this.#clock.now(),
      };
      let replaced: BlobKey | undefined;
      try {
        replaced = await this.#store.transaction(async (tx) => {
          // The upload may have been aborted or completed while the bytes streamed in.
          const upload = await tx.multipart.lock(part.uploadId);
          if (upload?.state !== 'active') throw noSuchUpload(input.uploadId);
          return tx.multipart.putPart(part);
        });
      } catch (err) {
        await this.#objects.discardBlobs([part.blobKey]);
        throw err;
      }
      if (replaced) await this.#objects.discardBlobs([replaced]);
      return part;
    } catch (err) {
      if (controller.signal.aborted) throw noSuchUpload(input.uploadId);
      throw err;
    } finally {
      this.#untrack(input.uploadId, controller);
    }
  }

  async listParts(
    target: UploadTarget,
    partNumberMarker: number,
    maxParts: number,
  ): Promise<ListPartsResult> {
    const upload = await this.requireActive(target);
    const limit = Math.min(maxParts, MAX_LIST_PARTS);
    const rows = await this.#store.multipart.listParts(upload.id, partNumberMarker, limit + 1);
    const parts = rows.slice(0, limit);
    return {
      upload,
      parts,
      isTruncated: rows.length > limit,
      nextPartNumberMarker: parts.at(-1)?.partNumber ?? partNumberMarker,
    };
  }

  /** All parts of an active upload, summarised (SMH status). */
  async partSummaries(target: UploadTarget): Promise<PartSummary[]> {
    const upload = await this.requireActive(target);
    return this.#store.multipart.partSummaries(upload.id);
  }

  async abort(target: UploadTarget): Promise<void> {
    const blobs = await this.#store.transaction(async (tx) => {
      const upload = await tx.multipart.lock(target.uploadId as UploadId);
      if (
        !upload ||
        upload.bucket !== target.bucket ||
        upload.key !== target.key ||
        upload.state !== 'active'
      ) {
        throw noSuchUpload(target.uploadId);
      }
      await tx.multipart.setState(upload.id, 'active', 'aborted');
      await tx.accessKeys.deleteForUpload(upload.id);
      return tx.multipart.deleteParts(upload.id);
    });
    // Parts still streaming on this node stop now; elsewhere they fail at their commit check.
    for (const controller of this.#inflight.get(target.uploadId) ?? [])
      controller.abort(noSuchUpload(target.uploadId));
    await this.#objects.discardBlobs(blobs);
  }

  async complete(input: CompleteInput): Promise<CompleteResult> {
    const listed = input.parts;
    const digest = partsDigest(listed);
    const existing = await this.#store.multipart.get(input.uploadId as UploadId);
    if (!existing || existing.bucket !== input.bucket || existing.key !== input.key)
      throw noSuchUpload(input.uploadId);
    const replay = this.#replay(existing, digest);
    if (replay) return replay;
    if (existing.state !== 'active') throw noSuchUpload(input.uploadId);

    // COS/S3: part numbers must ascend strictly in the request, else InvalidPartOrder.
    for (let i = 1; i < listed.length; i++) {
      if (listed[i]!.partNumber <= listed[i - 1]!.partNumber) {
        throw new AppError(
          'InvalidPartOrder',
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
        );
      }
    }
    const minSize = input.dialect === 'cos' ? this.#limits.minPartSizeCos : this.#limits.minPartSizeS3;

    const outcome = await this.#store.transaction(async (tx) => {
      const upload = await tx.multipart.lock(existing.id);
      if (upload?.state !== 'active') {
        const again = upload && this.#replay(upload, digest);
        if (again) return { result: again, discard: [] as BlobKey[] };
        throw noSuchUpload(input.uploadId);
      }
      const stored = new Map<number, PartRecord>();
      for (let marker = 0; ; ) {
        const page = await tx.multipart.listParts(upload.id, marker, 1000);
        for (const p of page) stored.set(p.partNumber, p);
        if (page.length < 1000) break;
        marker = page.at(-1)!.partNumber;
      }
      const chosen: PartRecord[] = [];
      listed.forEach((want, index) => {
        const part = stored.get(want.partNumber);
        if (!part || part.etag !== normalizeEtag(want.etag)) {
          throw new AppError(
            'InvalidPart',
            "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            { details: { PartNumber: want.partNumber, ETag: want.etag } },
          );
        }
        // COS: part numbers must be exactly 1..k when the strict rule is on (S3 allows gaps).
        if (
          input.dialect === 'cos' &&
          this.#limits.cosRequireConsecutiveParts &&
          want.partNumber !== index + 1
        ) {
          throw new AppError(
            'InvalidPart',
            `Part numbers must be consecutive from 1; part ${index + 1} is missing.`,
            {
              details: { PartNumber: index + 1 },
            },
          );
        }
        for (const [alg, value] of Object.entries(want.checksums)) {
          const have = part.checksums[alg];
          if (have !== undefined && have !== value) {
            throw new AppError(
              'InvalidPart',
              `The ${alg.toUpperCase()} checksum of part ${want.partNumber} does not match.`,
              {
                details: { PartNumber: want.partNumber },
              },
            );
          }
        }
        chosen.push(part);
      });
      // Every part but the last listed one must reach the dialect's minimum size.
      for (let i = 0; i < chosen.length - 1; i++) {
        const part = chosen[i]!;
        if (part.size < minSize) {
          throw new AppError(
            'EntityTooSmall',
            'Your proposed upload is smaller than the minimum allowed object size.',
            {
              details: {
                ProposedSize: part.size,
                MinSizeAllowed: minSize,
                PartNumber: part.partNumber,
                ETag: `"${part.etag}"`,
              },
            },
          );
        }
      }
      let crc = 0n;
      let size = 0;
      for (const part of chosen) {
        crc = size === 0 ? BigInt(part.crc64) : crc64Combine(crc, BigInt(part.crc64), part.size);
        size += part.size;
      }
      const now = this.#clock.now();
      const result: CompletedUpload = {
        etag: multipartEtag(chosen.map((p) => p.etag)),
        crc64: crc.toString(10),
        size,
        partsDigest: digest,
        completedAt: now,
      };
      const object: ObjectRecord = {
        id: newObjectId(),
        bucket: upload.bucket,
        key: upload.key,
        size,
        etag: result.etag,
        crc64: result.crc64,
        headers: upload.headers,
        checksums: {},
        partsCount: chosen.length,
        lastModified: now,
      };
      const replaced = await tx.objects.put(
        object,
        chosen.map((p) => ({ blobKey: p.blobKey, size: p.size })),
      );
      const allParts = await tx.multipart.deleteParts(upload.id);
      const kept = new Set(chosen.map((p) => p.blobKey));
      await tx.multipart.setState(upload.id, 'active', 'completed', result);
      await tx.accessKeys.deleteForUpload(upload.id);
      const completed: CompleteResult = {
        upload: { ...upload, state: 'completed', result },
        etag: result.etag,
        crc64: result.crc64,
        size,
      };
      return { result: completed, discard: [...replaced, ...allParts.filter((k) => !kept.has(k))] };
    });
    await this.#objects.discardBlobs(outcome.discard);
    return outcome.result;
  }

  /** A retried Complete with the same part list, shortly after success, gets the same answer. */
  #replay(upload: UploadRecord, digest: string): CompleteResult | undefined {
    const r = upload.result;
    if (upload.state !== 'completed' || !r || r.partsDigest !== digest) return undefined;
    if (this.#clock.now() - r.completedAt > this.#limits.completedUploadReplayMs) return undefined;
    return { upload, etag: r.etag, crc64: r.crc64, size: r.size };
  }

  /** The object API's listing: it never shows the uploads of SMH tasks (ADR 0001 §17). */
  async listUploads(input: ListUploadsInput): Promise<ListUploadsResult> {
    const bucket = await this.#objects.requireBucket(input.bucket);
    const marker = continueAfter(input.keyMarker, input.prefix, input.delimiter);
    const result = await listWithRollup<UploadRecord, UploadCursor>({
      prefix: input.prefix,
      delimiter: input.delimiter,
      limit: Math.min(input.maxUploads, 1000),
      start: {
        key: marker,
        uploadId: marker === input.keyMarker && marker !== '' ? input.uploadIdMarker : '',
      },
      keyOf: (u) => u.key,
      cursorOf: (u) => ({ key: u.key, uploadId: u.id }),
      cursorPast: (p) => ({ key: afterPrefix(p), uploadId: '' }),
      fetch: (cursor, limit) =>
        this.#store.multipart.listActive({
          bucket: input.bucket,
          prefix: input.prefix,
          keyMarker: cursor.key,
          uploadIdMarker: cursor.uploadId,
          limit,
        }),
      hidden: smhKeyPrefix(bucket.libraryId),
    });
    const last = result.isTruncated ? result.next : undefined;
    return {
      uploads: result.items,
      commonPrefixes: result.commonPrefixes,
      isTruncated: result.isTruncated,
      nextKeyMarker: result.isTruncated ? result.lastKey : undefined,
      nextUploadIdMarker: last && last.uploadId !== '' ? last.uploadId : undefined,
    };
  }

  /** Aborts uploads open for too long and forgets finished ones past the replay window. */
  async reclaimStale(maxActiveAgeMs: number): Promise<number> {
    const now = this.#clock.now();
    const stale = await this.#store.multipart.listStale(
      now - maxActiveAgeMs,
      now - this.#limits.completedUploadReplayMs,
      500,
    );
    let count = 0;
    for (const upload of stale) {
      try {
        if (upload.state === 'active') {
          await this.abort({ bucket: upload.bucket, key: upload.key, uploadId: upload.id });
        }
        await this.#store.multipart.delete(upload.id);
        count++;
      } catch (err) {
        this.#logger.warn({ err, uploadId: upload.id }, 'could not reclaim a stale multipart upload');
      }
    }
    return count;
  }
}
