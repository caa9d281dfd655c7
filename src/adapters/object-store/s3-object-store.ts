// ObjectStore over an external S3-compatible bucket (scale-out mode). mediahost is the control plane,
// as SMH is over COS: it creates, lists, completes and aborts multipart uploads there, and signs
// what clients need to send their bytes straight to the store; no upload byte passes through a node.
//
// Grants are SigV4 presigned URLs (any S3 store; the signature covers the part number, so each part
// has its own URL), or, in `cos` mode, COS signature headers shared by every part, the shape SMH
// clients know. Either way they are signatures made with the store's key pair, which cannot be
// revoked before they expire: cancel aborts the multipart upload (later parts fail there), and the
// object of a simple upload is deleted again once its grant has expired (UploadService.expireStale).
//
// Keys: an SMH file's object key `LIB/RANDOM` lives at `PREFIX` + `files/LIB/RANDOM`.

import { createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AppError } from '../../core/errors.ts';
import type { LibraryRecord } from '../../core/libraries/model.ts';
import { smhKeyPrefix } from '../../core/objects/smh-keys.ts';
import {
  amzDateFromDate,
  credentialScope,
  MAX_PRESIGN_EXPIRES_SECONDS,
  presignSigV4,
  SIGV4_ALGORITHM,
  signingKey,
} from '../../lib/sigv4.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  GrantRequest,
  ObjectLocation,
  ObjectStore,
  ObjectStoreHealth,
  PartGrant,
  StoredObjectInfo,
  UploadedPart,
  UploadGrant,
} from '../../ports/object-store.ts';
import {
  CRC64_OUTPUT,
  copySourceOf,
  isS3NotFound,
  objectAddress,
  type S3BucketSettings,
  s3Status,
} from '../s3/s3-bucket.ts';
import { S3Http, xmlElements, xmlText } from '../s3/s3-http.ts';
import { deleteUnderPrefix } from '../s3/s3-prefix-purge.ts';
import { cosGrant } from './cos-grants.ts';

/** Part numbers signed one by one when the caller names none (SigV4 grants). */
export const DEFAULT_SIGNED_PARTS = 100;
const MEDIA_URL_SECONDS = 6 * 3600;
/** How much earlier than now signatures start. */
const EARLY_MS = 60_000;
const PUT_PART_SIZE = 16 * 1024 * 1024;
const SINGLE_COPY_LIMIT = 5 * 1024 ** 3;
const COPY_PART_SIZE = 1024 ** 3;
/** How long a health answer is reused. */
const HEALTH_CACHE_MS = 5000;
const HEALTH_TIMEOUT_MS = 3000;

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/^"|"$/g, '');

export interface S3ObjectStoreDeps {
  settings: S3BucketSettings;
  client: S3Client;
  clock: Clock;
  /** Largest object copied in one call, and the ranges of bigger copies (tests make them small). */
  copy?: { singleLimit: number; partSize: number };
}

export class S3ObjectStore implements ObjectStore {
  readonly #s: S3BucketSettings;
  readonly #client: S3Client;
  readonly #clock: Clock;
  readonly #http: S3Http;
  readonly #copy: { singleLimit: number; partSize: number };
  #health: { answer: ObjectStoreHealth; until: number } | undefined;
  #healthCheck: Promise<ObjectStoreHealth> | undefined;

  constructor(deps: S3ObjectStoreDeps) {
    this.#s = deps.settings;
    this.#client = deps.client;
    this.#clock = deps.clock;
    this.#http = new S3Http(deps.settings);
    this.#copy = {
      singleLimit: deps.copy?.singleLimit ?? SINGLE_COPY_LIMIT,
      partSize: deps.copy?.partSize ?? COPY_PART_SIZE,
    };
  }

  close(): void {
    this.#http.close();
  }

  /** Grants are signatures made with the store's key: valid until they expire. */
  readonly grantsRevocable = false;

  /** HeadBucket, answered within HEALTH_TIMEOUT_MS; callers meanwhile share the check in flight. */
  health(): Promise<ObjectStoreHealth> {
    const now = this.#clock.now();
    if (this.#health && this.#health.until > now) return Promise.resolve(this.#health.answer);
    this.#healthCheck ??= (async () => {
      let answer: ObjectStoreHealth;
      try {
        await this.#client.send(new HeadBucketCommand({ Bucket: this.#s.bucket }), {
          abortSignal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
        });
        answer = { kind: 's3', status: 'ok' };
      } catch (err) {
        const status = s3Status(err);
        answer = {
          kind: 's3',
          status: 'unavailable',
          reason: `bucket ${this.#s.bucket} at ${this.#s.endpoint}: ${status ? `HTTP ${status} ` : ''}${(err as Error).name}: ${(err as Error).message}`,
        };
      }
      this.#health = { answer, until: this.#clock.now() + HEALTH_CACHE_MS };
      return answer;
    })().finally(() => {
      this.#healthCheck = undefined;
    });
    return this.#healthCheck;
  }

  /** The object's key in the bucket. */
  keyOf(loc: ObjectLocation): string {
    return `${this.#s.prefix}files/${loc.key}`;
  }

  #where(loc: ObjectLocation) {
    return { Bucket: this.#s.bucket, Key: this.keyOf(loc) };
  }

  async createMultipartUpload(loc: ObjectLocation, options: { contentType: string }): Promise<string> {
    const out = await this.#client.send(
      new CreateMultipartUploadCommand({ ...this.#where(loc), ContentType: options.contentType }),
    );
    if (!out.UploadId) throw new AppError('InternalError', 'the object store returned no upload id');
    return out.UploadId;
  }

  async listParts(loc: ObjectLocation, uploadId: string): Promise<UploadedPart[] | undefined> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    for (;;) {
      const query: [string, string][] = [
        ['max-parts', '1000'],
        ['uploadId', uploadId],
        ...(marker ? [['part-number-marker', marker] as [string, string]] : []),
      ];
      const res = await this.#http.get(this.keyOf(loc), query, new Date(this.#clock.now()));
      if (res.status === 404) return undefined;
      if (res.status !== 200) {
        throw new Error(
          `ListParts on the object store failed: ${res.status} ${xmlText(res.body, 'Code') ?? ''} ${xmlText(res.body, 'Message') ?? ''}`,
        );
      }
      for (const part of xmlElements(res.body, 'Part')) {
        parts.push({
          partNumber: Number(xmlText(part, 'PartNumber')),
          etag: unquote(xmlText(part, 'ETag')),
          size: Number(xmlText(part, 'Size')),
          lastModified: Date.parse(xmlText(part, 'LastModified') ?? '') || 0,
        });
      }
      marker = xmlText(res.body, 'NextPartNumberMarker');
      if (xmlText(res.body, 'IsTruncated') !== 'true' || !marker) break;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipartUpload(
    loc: ObjectLocation,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<StoredObjectInfo> {
    try {
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          ...this.#where(loc),
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
        }),
      );
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'InvalidPart' || name === 'InvalidPartOrder') {
        throw new AppError(
          'InvalidPart',
          'A part changed while the upload was being completed; confirm again.',
        );
      }
      if (name === 'EntityTooSmall') {
        throw new AppError(
          'MultipartUploadPartTooSmall',
          'A part other than the last is smaller than the minimum part size of the object store.',
        );
      }
      if (isS3NotFound(err)) throw new AppError('NoSuchUpload', 'The multipart upload no longer exists.');
      throw err;
    }
    const object = await this.headObject(loc);
    if (!object) throw new AppError('InternalError', 'the completed object is not in the object store');
    return object;
  }

  async abortMultipartUpload(loc: ObjectLocation, uploadId: string): Promise<void> {
    try {
      await this.#client.send(new AbortMultipartUploadCommand({ ...this.#where(loc), UploadId: uploadId }));
    } catch (err) {
      if (!isS3NotFound(err)) throw err;
    }
  }

  async headObject(loc: ObjectLocation): Promise<StoredObjectInfo | undefined> {
    let out: HeadObjectCommandOutput;
    try {
      out = await this.#client.send(new HeadObjectCommand(this.#where(loc)));
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw err;
    }
    const crc64 = (out as unknown as Record<string, unknown>)[CRC64_OUTPUT];
    return {
      size: out.ContentLength ?? 0,
      etag: unquote(out.ETag),
      crc64: typeof crc64 === 'string' && crc64 !== '' ? crc64 : null,
      contentType: out.ContentType ?? 'application/octet-stream',
      lastModified: out.LastModified?.getTime() ?? this.#clock.now(),
    };
  }

  async deleteObject(loc: ObjectLocation): Promise<void> {
    await this.#client.send(new DeleteObjectCommand(this.#where(loc)));
  }

  async purgeLibrary(library: LibraryRecord): Promise<void> {
    await deleteUnderPrefix(
      this.#client,
      this.#s.bucket,
      this.keyOf({ library, key: smhKeyPrefix(library.id) }),
    );
  }

  /**
   * Server-side copy: one CopyObject up to the store's single-copy limit (5 GiB on S3), beyond it a
   * multipart upload of UploadPartCopy ranges, aborted if any part fails.
   */
  async copyObject(from: ObjectLocation, to: ObjectLocation): Promise<StoredObjectInfo> {
    const source = await this.headObject(from);
    if (!source) throw new AppError('FileNotFound', 'The source object is not in the object store.');
    const copySource = copySourceOf(this.#s.bucket, this.keyOf(from));
    if (source.size <= this.#copy.singleLimit) {
      try {
        await this.#client.send(
          new CopyObjectCommand({ ...this.#where(to), CopySource: copySource, MetadataDirective: 'COPY' }),
        );
      } catch (err) {
        if (isS3NotFound(err))
          throw new AppError('FileNotFound', 'The source object is not in the object store.');
        throw err;
      }
    } else {
      await this.#copyInParts(to, copySource, source);
    }
    const object = await this.headObject(to);
    if (!object) throw new AppError('InternalError', 'the copied object is not in the object store');
    return object;
  }

  async #copyInParts(to: ObjectLocation, copySource: string, source: StoredObjectInfo): Promise<void> {
    const uploadId = await this.createMultipartUpload(to, { contentType: source.contentType });
    try {
      const parts: { PartNumber: number; ETag: string }[] = [];
      const size = this.#copy.partSize;
      for (let first = 0, n = 1; first < source.size; first += size, n++) {
        const last = Math.min(first + size, source.size) - 1;
        const out = await this.#client.send(
          new UploadPartCopyCommand({
            ...this.#where(to),
            UploadId: uploadId,
            PartNumber: n,
            CopySource: copySource,
            CopySourceRange: `bytes=${first}-${last}`,
          }),
        );
        parts.push({ PartNumber: n, ETag: out.CopyPartResult?.ETag ?? '' });
      }
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          ...this.#where(to),
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      await this.abortMultipartUpload(to, uploadId).catch(() => {});
      throw err;
    }
  }

  async grantUpload(loc: ObjectLocation, request: GrantRequest): Promise<UploadGrant> {
    const now = this.#clock.now();
    const contentType = request.contentType ?? 'application/octet-stream';
    const key = this.keyOf(loc);
    const at = objectAddress(this.#s, this.#s.publicEndpoint, key);
    if (this.#s.grantSignature === 'cos') {
      const grant = cosGrant({
        flavour: request.flavour,
        origin: at.origin,
        bucket: this.#s.bucket,
        key,
        objectPath: at.path,
        formPath: at.bucketPath,
        secretId: this.#s.accessKeyId,
        secretKey: this.#s.secretAccessKey,
        contentType,
        now,
        expiresAt: request.expiresAt,
        ...(request.uploadId ? { uploadId: request.uploadId } : {}),
        ...(request.trafficLimit ? { trafficLimit: request.trafficLimit } : {}),
        ...(request.maxSize !== undefined ? { maxSize: request.maxSize } : {}),
      });
      return { ...grant, credentialId: grantId(key, request) };
    }

    const domain = new URL(at.origin).host;
    // Signatures start a minute early, for clients whose clocks run behind. Presigned URLs live at
    // most 7 days (SigV4); a longer task is renewed before then.
    const signedAt = now - EARLY_MS;
    const expiresAt = Math.min(request.expiresAt, signedAt + MAX_PRESIGN_EXPIRES_SECONDS * 1000);
    const expiresSeconds = Math.max(1, Math.ceil((expiresAt - signedAt) / 1000));
    // x-cos-traffic-limit (bit/s) is signed so a client cannot drop it; stores that do not know it ignore it.
    const headers: Record<string, string> = {
      'Content-Type': contentType,
      ...(request.trafficLimit ? { 'x-cos-traffic-limit': String(request.trafficLimit * 8) } : {}),
    };
    const sigKey = signingKey(
      this.#s.secretAccessKey,
      amzDateFromDate(new Date(signedAt)).slice(0, 8),
      this.#s.region,
      's3',
    );
    const presign = (method: string, path: string): string =>
      presignSigV4({
        signingKey: sigKey,
        accessKeyId: this.#s.accessKeyId,
        secretAccessKey: this.#s.secretAccessKey,
        region: this.#s.region,
        method,
        url: `${at.origin}${path}`,
        expiresSeconds,
        now: new Date(signedAt),
        signedHeaders: method === 'PUT' ? lowerCased(headers) : {},
      });
    const base = { domain, expiresAt, credentialId: grantId(key, request) };

    if (request.flavour === 'form') {
      return { ...base, ...this.#formGrant(at, key, contentType, request, now, expiresAt) };
    }
    if (request.flavour === 'simple') {
      const url = presign('PUT', at.path);
      return { ...base, path: pathOf(url), url, headers };
    }
    const uploadId = request.uploadId ?? '';
    const numbers = request.partNumbers ?? range(1, DEFAULT_SIGNED_PARTS);
    const parts: Record<string, PartGrant> = {};
    for (const n of numbers) {
      const url = presign('PUT', `${at.path}?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`);
      parts[String(n)] = { url, path: pathOf(url), headers };
    }
    return { ...base, path: at.path, url: `${at.origin}${at.path}`, headers, parts };
  }

  /** A browser form for S3's POST Object with a SigV4-signed policy. */
  #formGrant(
    at: { origin: string; bucketPath: string },
    key: string,
    contentType: string,
    request: GrantRequest,
    now: number,
    expiresAt: number,
  ): Pick<UploadGrant, 'path' | 'url' | 'form'> {
    const amzDate = amzDateFromDate(new Date(now));
    // COS-compatible stores limit the upload's rate (bit/s); the policy requires the field as given.
    const limit: Record<string, string> = request.trafficLimit
      ? { 'x-cos-traffic-limit': String(request.trafficLimit * 8) }
      : {};
    const date = amzDate.slice(0, 8);
    const credential = `${this.#s.accessKeyId}/${credentialScope(date, this.#s.region, 's3')}`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(expiresAt).toISOString(),
        conditions: [
          { bucket: this.#s.bucket },
          { key },
          { 'Content-Type': contentType },
          { 'x-amz-algorithm': SIGV4_ALGORITHM },
          { 'x-amz-credential': credential },
          { 'x-amz-date': amzDate },
          ...Object.entries(limit).map(([name, value]) => ({ [name]: value })),
          ...(request.maxSize !== undefined ? [['content-length-range', 0, request.maxSize]] : []),
        ],
      }),
    ).toString('base64');
    const signature = createHmac('sha256', signingKey(this.#s.secretAccessKey, date, this.#s.region, 's3'))
      .update(policy)
      .digest('hex');
    return {
      path: at.bucketPath,
      url: `${at.origin}${at.bucketPath}`,
      form: {
        key,
        'Content-Type': contentType,
        policy,
        'x-amz-algorithm': SIGV4_ALGORITHM,
        'x-amz-credential': credential,
        'x-amz-date': amzDate,
        'x-amz-signature': signature,
        ...limit,
      },
    };
  }

  async revokeGrants(): Promise<void> {
    // Signatures made with the store's key cannot be withdrawn; see the header comment.
  }

  #presignGet(endpoint: string, loc: ObjectLocation, seconds: number, query: Record<string, string> = {}) {
    const at = objectAddress(this.#s, endpoint, this.keyOf(loc));
    const search = new URLSearchParams(query).toString().replaceAll('+', '%20');
    const now = this.#clock.now();
    return presignSigV4({
      accessKeyId: this.#s.accessKeyId,
      secretAccessKey: this.#s.secretAccessKey,
      region: this.#s.region,
      method: 'GET',
      url: `${at.origin}${at.path}${search ? `?${search}` : ''}`,
      expiresSeconds: Math.min(MAX_PRESIGN_EXPIRES_SECONDS, Math.max(1, seconds) + EARLY_MS / 1000),
      now: new Date(now - EARLY_MS),
    });
  }

  async presignGet(
    loc: ObjectLocation,
    options: { expiresInSeconds: number; query?: Record<string, string> },
  ): Promise<string> {
    return this.#presignGet(this.#s.publicEndpoint, loc, options.expiresInSeconds, options.query);
  }

  async read(
    loc: ObjectLocation,
    range?: { start: number; end: number },
    signal?: AbortSignal,
  ): Promise<Readable> {
    try {
      const out = await this.#client.send(
        new GetObjectCommand({
          ...this.#where(loc),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
      return out.Body as Readable;
    } catch (err) {
      if (isS3NotFound(err)) throw new AppError('FileNotFound', 'The object is not in the object store.');
      throw err;
    }
  }

  async mediaSource(loc: ObjectLocation): Promise<string> {
    // ffmpeg runs on this node, so it reads through the endpoint the node reaches the store at.
    return this.#presignGet(this.#s.endpoint, loc, MEDIA_URL_SECONDS);
  }

  async putFile(
    loc: ObjectLocation,
    path: string,
    options: { contentType: string },
  ): Promise<StoredObjectInfo> {
    const upload = new Upload({
      client: this.#client,
      params: { ...this.#where(loc), Body: createReadStream(path), ContentType: options.contentType },
      partSize: PUT_PART_SIZE,
      queueSize: 4,
    });
    await upload.done();
    const object = await this.headObject(loc);
    if (!object) throw new AppError('InternalError', 'the stored object is not in the object store');
    return object;
  }
}

/**
 * Names a grant's signatures: the same object, upload and expiry sign the same way, so a status may
 * reuse a grant made a moment ago for them (UploadService caches by this id) instead of signing anew.
 */
function grantId(key: string, request: GrantRequest): string {
  return `s3:${request.uploadId ?? key}:${request.flavour}:${request.expiresAt}`;
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
