// BlobStore over an external S3-compatible bucket (`--blob s3`), so the object endpoint of a node
// keeps no bytes of its own. A blob is the object `PREFIX` + `blobs/KEY`. A write sends one PUT for
// a body under 5 MiB and a multipart upload in 5 MiB parts otherwise, so a blob becomes visible whole
// or not at all; a write that fails or is aborted aborts its upload before it returns. Multipart
// uploads of writes whose node died are aborted by sweepTemporary.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type BlobKey, newBlobKey } from '../../core/ids.ts';
import { untilAborted } from '../../lib/streams.ts';
import {
  type BlobInfo,
  BlobNotFoundError,
  type BlobReadOptions,
  type BlobStore,
  type BlobWriteResult,
} from '../../ports/blob-store.ts';
import { copySourceOf, isS3NotFound, type S3BucketSettings } from '../s3/s3-bucket.ts';

/** The smallest part S3 accepts; a write buffers at most PART_SIZE × QUEUE_SIZE bytes. */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
const DELETE_BATCH = 1000;

export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  /** Multipart uploads of writes running in this process: never swept. */
  readonly #writing = new Set<string>();

  constructor(settings: Pick<S3BucketSettings, 'bucket' | 'prefix'>, client: S3Client) {
    this.#client = client;
    this.#bucket = settings.bucket;
    this.#prefix = `${settings.prefix}blobs/`;
  }

  #key(key: BlobKey): string {
    if (!/^[a-z0-9]{8,64}$/.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return this.#prefix + key;
  }

  async write(
    source: AsyncIterable<Uint8Array>,
    options: { signal?: AbortSignal } = {},
  ): Promise<BlobWriteResult> {
    options.signal?.throwIfAborted();
    const key = newBlobKey();
    const where = { Bucket: this.#bucket, Key: this.#key(key) };
    const signal = options.signal;
    const sendOptions = signal ? { abortSignal: signal } : {};
    const chunks = signal ? untilAborted(source, signal) : source;
    let uploadId: string | undefined;
    const parts: { PartNumber: number; ETag: string }[] = [];
    const inFlight = new Set<Promise<void>>();
    let nextPart = 1;
    let failure: { err: unknown } | undefined;
    let size = 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const take = (): Buffer => {
      const body = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      return body;
    };
    const sendPart = async (body: Buffer): Promise<void> => {
      if (!uploadId) {
        const created = await this.#client.send(new CreateMultipartUploadCommand(where), sendOptions);
        uploadId = created.UploadId;
        if (uploadId) this.#writing.add(uploadId);
      }
      const partNumber = nextPart++;
      const task: Promise<void> = this.#client
        .send(
          new UploadPartCommand({ ...where, UploadId: uploadId, PartNumber: partNumber, Body: body }),
          sendOptions,
        )
        .then(
          (out) => {
            parts.push({ PartNumber: partNumber, ETag: out.ETag ?? '' });
          },
          (err: unknown) => {
            failure ??= { err };
          },
        )
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      // Backpressure: at most QUEUE_SIZE parts travel while the next one fills.
      if (inFlight.size >= QUEUE_SIZE) await Promise.race(inFlight);
      if (failure) throw failure.err;
    };
    try {
      for await (const chunk of chunks) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        size += chunk.length;
        if (pendingBytes >= PART_SIZE) await sendPart(take());
      }
      if (!uploadId) {
        await this.#client.send(new PutObjectCommand({ ...where, Body: take() }), sendOptions);
      } else {
        if (pendingBytes > 0) await sendPart(take());
        await Promise.all(inFlight);
        if (failure) throw failure.err;
        parts.sort((a, b) => a.PartNumber - b.PartNumber);
        await this.#client.send(
          new CompleteMultipartUploadCommand({
            ...where,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
          sendOptions,
        );
      }
      return { key, size };
    } catch (err) {
      // Nothing of a failed write may stay: parts still travelling settle first, then the upload is
      // aborted, and an object a cancelled request may have stored after all is deleted.
      await Promise.allSettled(inFlight);
      if (uploadId) {
        await this.#client
          .send(new AbortMultipartUploadCommand({ ...where, UploadId: uploadId }))
          .catch(() => {});
      }
      await this.#client.send(new DeleteObjectCommand(where)).catch(() => {});
      signal?.throwIfAborted();
      throw err;
    } finally {
      if (uploadId) this.#writing.delete(uploadId);
    }
  }

  async read(key: BlobKey, options: BlobReadOptions = {}): Promise<Readable> {
    const ranged = options.start !== undefined || options.end !== undefined;
    try {
      const out = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          ...(ranged ? { Range: `bytes=${options.start ?? 0}-${options.end ?? ''}` } : {}),
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      return out.Body as Readable;
    } catch (err) {
      if (isS3NotFound(err)) throw new BlobNotFoundError(`blob ${key} does not exist`);
      throw err;
    }
  }

  async copy(source: BlobKey, options: { signal?: AbortSignal } = {}): Promise<BlobWriteResult> {
    options.signal?.throwIfAborted();
    const key = newBlobKey();
    try {
      await this.#client.send(
        new CopyObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          CopySource: copySourceOf(this.#bucket, this.#key(source)),
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
    } catch (err) {
      if (isS3NotFound(err)) throw new BlobNotFoundError(`blob ${source} does not exist`);
      throw err;
    }
    return { key, size: (await this.size(key)) ?? 0 };
  }

  async size(key: BlobKey): Promise<number | undefined> {
    try {
      const out = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
      );
      return out.ContentLength ?? 0;
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(keys: readonly BlobKey[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.#bucket,
          Delete: { Objects: batch.map((k) => ({ Key: this.#key(k) })), Quiet: true },
        }),
      );
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new Error(
          `the object store refused to delete ${first.Key}: ${first.Code} ${first.Message ?? ''}`,
        );
      }
    }
  }

  async *list(options: { signal?: AbortSignal } = {}): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      options.signal?.throwIfAborted();
      const out = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: this.#prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of out.Contents ?? []) {
        const key = object.Key?.slice(this.#prefix.length) ?? '';
        if (/^[a-z0-9]{8,64}$/.test(key))
          yield { key: key as BlobKey, modifiedAt: object.LastModified?.getTime() ?? 0 };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /** When an upload last received a part (0 when it has none, or is gone). */
  async #lastActivity(key: string, uploadId: string): Promise<number> {
    let latest = 0;
    let marker: string | undefined;
    try {
      for (;;) {
        const out = await this.#client.send(
          new ListPartsCommand({
            Bucket: this.#bucket,
            Key: key,
            UploadId: uploadId,
            ...(marker ? { PartNumberMarker: marker } : {}),
          }),
        );
        for (const part of out.Parts ?? []) latest = Math.max(latest, part.LastModified?.getTime() ?? 0);
        if (!out.IsTruncated || !out.NextPartNumberMarker) return latest;
        marker = out.NextPartNumberMarker;
      }
    } catch (err) {
      if (isS3NotFound(err)) return 0;
      throw err;
    }
  }

  async sweepTemporary(olderThanMs: number): Promise<number> {
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadMarker: string | undefined;
    for (;;) {
      const out = await this.#client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.#bucket,
          Prefix: this.#prefix,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(uploadMarker ? { UploadIdMarker: uploadMarker } : {}),
        }),
      );
      for (const upload of out.Uploads ?? []) {
        if ((upload.Initiated?.getTime() ?? 0) >= olderThanMs) continue;
        // Begun long ago is not abandoned: a long write (on this node or another) is still sending
        // parts. Only an upload with no part newer than the cutoff is taken for dead.
        if (!upload.UploadId || !upload.Key || this.#writing.has(upload.UploadId)) continue;
        if ((await this.#lastActivity(upload.Key, upload.UploadId)) >= olderThanMs) continue;
        try {
          await this.#client.send(
            new AbortMultipartUploadCommand({
              Bucket: this.#bucket,
              Key: upload.Key,
              UploadId: upload.UploadId,
            }),
          );
          removed++;
        } catch (err) {
          if (!isS3NotFound(err)) throw err;
        }
      }
      if (!out.IsTruncated) return removed;
      keyMarker = out.NextKeyMarker;
      uploadMarker = out.NextUploadIdMarker;
    }
  }
}
