// Upload tasks (spec smh §2.3.1–§2.3.8): begin (simple PUT, form POST, multipart POST ?multipart),
// status (GET ?upload), renew (POST ?renew), cancel (DELETE ?upload) and confirm (POST ?confirm). They
// share the file path; for status, renew, cancel and confirm its last part is the task's confirm key.
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../../core/errors.ts';
import { parsePartNumberRange } from '../../../core/uploads/part-range.ts';
import type { BeginInput } from '../../../core/uploads/upload-service.ts';
import { type SmhCall, smhOperation } from '../operation.ts';
import {
  ATTRIBUTE_FIELDS,
  attributesOf,
  Bool01,
  ByteCount,
  Flag,
  intIn,
  noEffect,
  offOnly,
  strategy,
  Text,
} from '../params.ts';
import { fileObjectView, grantView } from '../views.ts';

export const FILE = 'file/{lib}/{space}/{path*}';

type Flavour = BeginInput['flavour'];

const STRATEGY = Type.Optional(strategy(['ask', 'rename', 'overwrite']));
/** SMH traffic_limit: bytes per second, 100 KB/s to 100 MB/s (ADR 0002 §20). */
const TRAFFIC_LIMIT = Type.Optional(intIn(100 * 1024, 100 * 1024 * 1024));
const PART_NUMBER_RANGE = Type.Optional(Type.String({ description: 'parts to sign one by one: `1,8-10`' }));
const INTERNAL_DOMAIN = Type.Optional(noEffect('there is one storage domain (ADR 0002 §26)'));
const Hash = Type.Optional(
  Type.Union([Type.String({ pattern: '^[0-9a-fA-F]{64}$' }), Type.Null()], { expects: '64 hex digits' }),
);

const BEGIN_QUERY = {
  conflict_resolution_strategy: STRATEGY,
  filesize: Type.Optional(intIn(0, Number.MAX_SAFE_INTEGER)),
  traffic_limit: TRAFFIC_LIMIT,
  with_inode: Type.Optional(Bool01),
  prefer_same_origin: Type.Optional(noEffect('there is one storage domain (ADR 0002 §26)')),
  internal_domain: INTERNAL_DOMAIN,
  with_content_cas: Type.Optional(offOnly('content tags are not implemented')),
};

const BEGIN_BODY = {
  beginningHash: Hash,
  fullHash: Hash,
  size: Type.Optional(ByteCount),
  ...ATTRIBUTE_FIELDS,
};

const SAMPLE_HASH = {
  sampleHash: Type.Optional(noEffect('instant upload matches beginningHash and fullHash (ADR 0002 §25)')),
};

/** x-smh-meta-* headers: custom metadata of the file (spec smh §1.4). */
function metaHeaders(request: FastifyRequest): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith('x-smh-meta-') && typeof value === 'string') meta[name] = value;
  }
  return meta;
}

/** SMH's per-part variant: `partNumberRange` in the JSON body, or `part_number_range` in the query. */
function partNumbers(body: { partNumberRange?: string | null }, query: { part_number_range?: string }) {
  const text = body.partNumberRange ?? query.part_number_range;
  return text === undefined ? undefined : parsePartNumberRange(text);
}

function confirmKeyOf(path: readonly string[]): string {
  const key = path.at(-1);
  if (!key) throw new AppError('ConfirmKeyNotFound', 'The confirm key is missing from the path.');
  return key;
}

type BeginCall = SmhCall<
  { space: string; path: string[] },
  {
    conflict_resolution_strategy?: BeginInput['strategy'] | undefined;
    filesize?: number | undefined;
    traffic_limit?: number | undefined;
    with_inode?: boolean | undefined;
    part_number_range?: string;
  },
  {
    beginningHash?: string | null;
    fullHash?: string | null;
    size?: number;
    partNumberRange?: string | null;
  } & Parameters<typeof attributesOf>[0]
>;

/** The three begin operations differ only in flavour (spec smh §2.3: common begin-upload outcomes). */
async function begin({ deps, access, params, query, body, request, reply }: BeginCall, flavour: Flavour) {
  const parts = flavour === 'multipart' ? partNumbers(body, query) : undefined;
  const outcome = await deps.uploads.begin(access, {
    spaceId: params.space,
    path: params.path,
    flavour,
    strategy: query.conflict_resolution_strategy ?? 'rename',
    meta: metaHeaders(request),
    attributes: attributesOf(body),
    ...(query.filesize !== undefined ? { filesize: query.filesize } : {}),
    ...(query.traffic_limit !== undefined ? { trafficLimit: query.traffic_limit } : {}),
    ...(body.beginningHash ? { beginningHash: body.beginningHash } : {}),
    ...(body.fullHash ? { fullHash: body.fullHash } : {}),
    ...(body.size !== undefined ? { size: body.size } : {}),
    ...(parts ? { partNumbers: parts } : {}),
  });
  if (outcome.kind === 'send-full-hash') return reply.code(202).send();
  if (outcome.kind === 'instant') {
    reply.code(200);
    return fileObjectView(outcome.file, query.with_inode ?? false);
  }
  reply.code(201);
  return {
    ...grantView(outcome.grant),
    ...(outcome.task.uploadId ? { uploadId: outcome.task.uploadId } : {}),
    confirmKey: outcome.task.confirmKey,
    availableDomainNum: 1,
  };
}

export const beginSimpleUpload = smhOperation({
  name: 'BeginSimpleUpload',
  method: 'PUT',
  path: FILE,
  query: BEGIN_QUERY,
  body: { ...BEGIN_BODY, ...SAMPLE_HASH },
  summary: 'instant upload by `beginningHash`/`fullHash`',
  handle: (call) => begin(call, 'simple'),
});

export const beginMultipartUpload = smhOperation({
  name: 'BeginMultipartUpload',
  method: 'POST',
  path: FILE,
  flag: 'multipart',
  query: { multipart: Flag, ...BEGIN_QUERY, part_number_range: PART_NUMBER_RANGE },
  body: { ...BEGIN_BODY, ...SAMPLE_HASH, partNumberRange: Type.Optional(Text) },
  summary: 'per-part variant with `partNumberRange` / `part_number_range`',
  handle: (call) => begin(call, 'multipart'),
});

export const beginFormUpload = smhOperation({
  name: 'BeginFormUpload',
  method: 'POST',
  path: FILE,
  query: BEGIN_QUERY,
  body: BEGIN_BODY,
  handle: (call) => begin(call, 'form'),
});

export const confirmUpload = smhOperation({
  name: 'ConfirmUpload',
  method: 'POST',
  path: FILE,
  flag: 'confirm',
  query: {
    confirm: Flag,
    conflict_resolution_strategy: STRATEGY,
    with_inode: Type.Optional(Bool01),
    with_content_cas: Type.Optional(offOnly('content tags are not implemented')),
  },
  body: {
    crc64: Type.Optional(Type.Union([Type.String(), Type.Number()], { expects: 'a decimal string' })),
    ...ATTRIBUTE_FIELDS,
  },
  async handle({ deps, access, params, query, body }) {
    const strategy = query.conflict_resolution_strategy;
    const file = await deps.uploads.confirm(access, params.space, confirmKeyOf(params.path), {
      // SMH §2.3.8: omitted, the strategy given at begin holds.
      ...(strategy ? { strategy } : {}),
      ...(body.crc64 !== undefined ? { crc64: String(body.crc64) } : {}),
      attributes: attributesOf(body),
    });
    return fileObjectView(file, query.with_inode ?? false);
  },
});

export const renewUpload = smhOperation({
  name: 'RenewUpload',
  method: 'POST',
  path: FILE,
  flag: 'renew',
  query: {
    renew: Flag,
    traffic_limit: TRAFFIC_LIMIT,
    part_number_range: PART_NUMBER_RANGE,
    internal_domain: INTERNAL_DOMAIN,
  },
  body: { partNumberRange: Type.Optional(Text) },
  async handle({ deps, access, params, query, body }) {
    const parts = partNumbers(body, query);
    const { task, grant } = await deps.uploads.renew(access, params.space, confirmKeyOf(params.path), {
      ...(query.traffic_limit !== undefined ? { trafficLimit: query.traffic_limit } : {}),
      ...(parts ? { partNumbers: parts } : {}),
    });
    return {
      ...grantView(grant),
      uploadId: task.uploadId,
      confirmKey: task.confirmKey,
      availableDomainNum: 1,
    };
  },
});

export const getUploadStatus = smhOperation({
  name: 'GetUploadStatus',
  method: 'GET',
  path: FILE,
  flag: 'upload',
  query: {
    upload: Flag,
    part_number_range: PART_NUMBER_RANGE,
    no_upload_part_info: Type.Optional(Bool01),
    internal_domain: INTERNAL_DOMAIN,
  },
  body: { partNumberRange: Type.Optional(Text) },
  async handle({ deps, access, params, query, body }) {
    const parts = partNumbers(body, query);
    const status = await deps.uploads.status(access, params.space, confirmKeyOf(params.path), {
      withPartInfo: !query.no_upload_part_info,
      ...(parts ? { partNumbers: parts } : {}),
    });
    const { task } = status;
    return {
      confirmed: task.state === 'confirmed',
      path: status.path,
      type: 'file',
      creationTime: new Date(task.createdAt).toISOString(),
      conflictResolutionStrategy: task.strategy,
      force: task.force,
      availableDomainNum: 1,
      ...(task.uploadId && task.state !== 'confirmed' ? { uploadId: task.uploadId } : {}),
      ...(status.parts
        ? {
            parts: status.parts.map((p) => ({
              PartNumber: p.partNumber,
              LastModified: new Date(p.lastModified).toISOString(),
              ETag: `"${p.etag}"`,
              Size: p.size,
            })),
          }
        : {}),
      ...(status.grant ? { uploadPartInfo: { ...grantView(status.grant), uploadId: task.uploadId } } : {}),
    };
  },
});

export const cancelUpload = smhOperation({
  name: 'CancelUpload',
  method: 'DELETE',
  path: FILE,
  flag: 'upload',
  query: { upload: Flag },
  async handle({ deps, access, params, reply }) {
    await deps.uploads.cancel(access, params.space, confirmKeyOf(params.path));
    reply.code(204).send();
  },
});
