// ObjectStore over mediahost's own object API (embedded mode): operations call the object services
// directly, and upload grants are COS-signed requests with temporary credentials scoped to one object
// (and upload), valid until the task's expiration, aimed at this server's public URL.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { AppError, isAppError } from '../../core/errors.ts';
import type { BucketName, UploadId } from '../../core/ids.ts';
import type { CredentialService, ObjectAction } from '../../core/objects/credential-service.ts';
import type { AccessKeyRecord, ObjectRecord } from '../../core/objects/model.ts';
import type { MultipartService } from '../../core/objects/multipart-service.ts';
import type { ObjectService } from '../../core/objects/object-service.ts';
import { signCosRequest } from '../../lib/cos-signature.ts';
import type { BlobStore } from '../../ports/blob-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type {
  GrantRequest,
  ObjectLocation,
  ObjectStore,
  ObjectStoreHealth,
  StoredObjectInfo,
  UploadedPart,
  UploadGrant,
} from '../../ports/object-store.ts';
import { cosGrant, encodeKeyPath } from './cos-grants.ts';

export interface EmbeddedObjectStoreDeps {
  store: MetadataStore;
  blobs: BlobStore;
  objects: ObjectService;
  multipart: MultipartService;
  credentials: CredentialService;
  clock: Clock;
  /** The server's public URL, known once it listens. */
  publicUrl: () => string;
}

function info(o: ObjectRecord): StoredObjectInfo {
  return {
    size: o.size,
    etag: o.etag,
    crc64: o.crc64,
    contentType: o.headers.contentType,
    lastModified: o.lastModified,
  };
}

const ACTIONS: Record<GrantRequest['flavour'], ObjectAction[]> = {
  simple: ['PutObject'],
  form: ['PostObject'],
  multipart: ['UploadPart'],
};

export class EmbeddedObjectStore implements ObjectStore {
  readonly #d: EmbeddedObjectStoreDeps;
  readonly #signingKeys = new Map<string, AccessKeyRecord>();

  constructor(deps: EmbeddedObjectStoreDeps) {
    this.#d = deps;
  }

  readonly grantsRevocable = true;

  async health(): Promise<ObjectStoreHealth> {
    // The bytes are this node's files and metadata: the database check of /healthz covers them.
    return { kind: 'embedded', status: 'ok' };
  }

  async purgeLibrary(): Promise<void> {
    // The SMH files are objects of the library's bucket: deleting the library's rows drops them.
  }

  #bucket(loc: ObjectLocation): BucketName {
    return loc.library.bucket;
  }

  #target(loc: ObjectLocation, uploadId: string) {
    return { bucket: this.#bucket(loc), key: loc.key, uploadId };
  }

  async createMultipartUpload(loc: ObjectLocation, options: { contentType: string }): Promise<string> {
    const upload = await this.#d.multipart.create({
      bucket: this.#bucket(loc),
      key: loc.key,
      dialect: 'cos',
      headers: { contentType: options.contentType, storageClass: 'STANDARD', meta: {} },
      owner: 'smh',
      checksumAlgorithm: null,
    });
    return upload.id;
  }

  async listParts(loc: ObjectLocation, uploadId: string): Promise<UploadedPart[] | undefined> {
    try {
      return await this.#d.multipart.partSummaries(this.#target(loc, uploadId));
    } catch (err) {
      if (isAppError(err) && err.code === 'NoSuchUpload') return undefined;
      throw err;
    }
  }

  async completeMultipartUpload(
    loc: ObjectLocation,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<StoredObjectInfo> {
    try {
      await this.#d.multipart.complete({
        ...this.#target(loc, uploadId),
        dialect: 'cos',
        parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, checksums: {} })),
      });
    } catch (err) {
      if (isAppError(err) && err.code === 'EntityTooSmall') {
        throw new AppError(
          'MultipartUploadPartTooSmall',
          `Part ${err.details.PartNumber} is smaller than the minimum part size.`,
          {
            details: err.details,
          },
        );
      }
      throw err;
    }
    return info(await this.#d.objects.headObject(this.#bucket(loc), loc.key));
  }

  async abortMultipartUpload(loc: ObjectLocation, uploadId: string): Promise<void> {
    try {
      await this.#d.multipart.abort(this.#target(loc, uploadId));
    } catch (err) {
      if (!(isAppError(err) && err.code === 'NoSuchUpload')) throw err;
    }
    await this.revokeGrants(loc, uploadId);
  }

  async headObject(loc: ObjectLocation): Promise<StoredObjectInfo | undefined> {
    const object = await this.#d.store.objects.get(this.#bucket(loc), loc.key);
    return object && info(object);
  }

  async deleteObject(loc: ObjectLocation): Promise<void> {
    await this.#d.objects.deleteObject(this.#bucket(loc), loc.key);
  }

  async copyObject(from: ObjectLocation, to: ObjectLocation): Promise<StoredObjectInfo> {
    const copied = await this.#d.objects.copyObject({
      source: { bucket: this.#bucket(from), key: from.key },
      target: { bucket: this.#bucket(to), key: to.key },
      dialect: 'cos',
    });
    return info(copied);
  }

  async grantUpload(loc: ObjectLocation, request: GrantRequest): Promise<UploadGrant> {
    const bucket = this.#bucket(loc);
    const reused = request.reuseCredential
      ? await this.#d.credentials.temporary(request.reuseCredential)
      : undefined;
    const credential =
      reused ??
      (await this.#d.credentials.issueTemporary({
        libraryId: loc.library.id,
        bucket,
        scope: {
          key: loc.key,
          actions: ACTIONS[request.flavour],
          ...(request.uploadId ? { uploadId: request.uploadId } : {}),
          ...(request.trafficLimit ? { trafficLimit: request.trafficLimit } : {}),
        },
        expiresAt: request.expiresAt,
      }));
    const origin = new URL(this.#d.publicUrl()).origin;
    const grant = cosGrant({
      flavour: request.flavour,
      origin,
      bucket,
      key: loc.key,
      objectPath: `/${bucket}/${encodeKeyPath(loc.key)}`,
      // The object endpoint takes a form posted to "/" into the bucket of the key that signed it.
      formPath: '/',
      secretId: credential.accessKeyId,
      secretKey: credential.secretAccessKey,
      sessionToken: credential.sessionToken,
      contentType: request.contentType ?? 'application/octet-stream',
      now: this.#d.clock.now(),
      expiresAt: credential.expiresAt,
      ...(request.uploadId ? { uploadId: request.uploadId } : {}),
      ...(request.trafficLimit ? { trafficLimit: request.trafficLimit } : {}),
      ...(request.maxSize !== undefined ? { maxSize: request.maxSize } : {}),
    });
    return { ...grant, credentialId: credential.accessKeyId };
  }

  async revokeGrants(loc: ObjectLocation, uploadId?: string): Promise<void> {
    if (uploadId) await this.#d.store.accessKeys.deleteForUpload(uploadId as UploadId);
    await this.#d.store.accessKeys.deleteForObject(this.#bucket(loc), loc.key);
  }

  /**
   * The key that signs download URLs: confined to reading the library's SMH keys, which the library's
   * own key pair may not touch (ADR 0001 §17). Keys never change, so it is cached.
   */
  async #signingKey(loc: ObjectLocation): Promise<AccessKeyRecord> {
    const cached = this.#signingKeys.get(loc.library.id);
    if (cached) return cached;
    const key = await this.#d.credentials.smhReader(loc.library.id, this.#bucket(loc));
    this.#signingKeys.set(loc.library.id, key);
    return key;
  }

  async presignGet(
    loc: ObjectLocation,
    options: { expiresInSeconds: number; query?: Record<string, string> },
  ): Promise<string> {
    const key = await this.#signingKey(loc);
    const base = new URL(this.#d.publicUrl());
    const bucket = this.#bucket(loc);
    const now = Math.floor(this.#d.clock.now() / 1000);
    const query = Object.entries(options.query ?? {});
    const auth = signCosRequest({
      secretId: key.id,
      secretKey: key.secret,
      method: 'GET',
      path: `/${bucket}/${loc.key}`,
      query,
      headers: { host: base.host },
      startSeconds: now - 60,
      endSeconds: now + options.expiresInSeconds,
    });
    const extra = query.map(([k, v]) => `&${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('');
    const signature = auth
      .split('&')
      .map((field) => {
        const eq = field.indexOf('=');
        return `${field.slice(0, eq)}=${encodeURIComponent(field.slice(eq + 1))}`;
      })
      .join('&');
    return `${base.origin}/${bucket}/${encodeKeyPath(loc.key)}?${signature}${extra}`;
  }

  async mediaSource(loc: ObjectLocation): Promise<string> {
    const object = await this.#d.objects.headObject(this.#bucket(loc), loc.key);
    const segments = await this.#d.store.objects.segments(object.id);
    const blobs = this.#d.blobs;
    if (blobs.localPath && segments.length > 0) {
      const paths = segments.map((s) => blobs.localPath!(s.blobKey));
      // ffmpeg's concat protocol reads the files one after the other as one seekable stream.
      return paths.length === 1 ? paths[0]! : `concat:${paths.join('|')}`;
    }
    return this.presignGet(loc, { expiresInSeconds: 6 * 3600 });
  }

  async putFile(
    loc: ObjectLocation,
    path: string,
    options: { contentType: string },
  ): Promise<StoredObjectInfo> {
    const { size } = await stat(path);
    const { object } = await this.#d.objects.putObject({
      bucket: this.#bucket(loc),
      key: loc.key,
      dialect: 'cos',
      body: createReadStream(path),
      declaredLength: size,
      headers: { contentType: options.contentType, storageClass: 'STANDARD', meta: {} },
      expect: {},
    });
    return info(object);
  }

  async read(
    loc: ObjectLocation,
    range?: { start: number; end: number },
    signal?: AbortSignal,
  ): Promise<Readable> {
    const reader = await this.#d.objects.getObject(this.#bucket(loc), loc.key);
    return reader.open(range, signal);
  }
}
