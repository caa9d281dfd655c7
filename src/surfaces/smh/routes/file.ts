// Files and upload tasks share /api/v1/file/{lib}/{space}/{path} (spec smh §2.3): the method, action
// flags and body pick the operation. The last path part is a file path for begin, info, download,
// delete, copy and move, and a confirm key for ?upload, ?renew and ?confirm.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../core/errors.ts';
import type { ConflictStrategy, UploadFlavour } from '../../../core/uploads/model.ts';
import { parsePartNumberRange } from '../../../core/uploads/part-range.ts';
import type { BeginInput } from '../../../core/uploads/upload-service.ts';
import {
  accessOf,
  body,
  boolParam,
  flag,
  intParam,
  optionalString,
  pathSegments,
  query,
  type SmhDeps,
  splitPath,
  strategyParam,
} from '../context.ts';
import { fileObjectView, grantView, infoView, smhHeaders } from '../views.ts';
import { attributesOf } from './directory.ts';
import { servePlaylist } from './playlist.ts';

type Req = FastifyRequest<{ Params: { lib: string; space: string } }>;

const STRATEGIES: readonly ConflictStrategy[] = ['ask', 'rename', 'overwrite'];
const FILE_PATH_START = 5;

/** SMH traffic_limit: bytes per second, 100 KB/s to 100 MB/s. */
function trafficLimit(request: FastifyRequest): number | undefined {
  return intParam(request, 'traffic_limit', { min: 100 * 1024, max: 100 * 1024 * 1024 });
}

function metaHeaders(request: FastifyRequest): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith('x-smh-meta-') && typeof value === 'string') meta[name] = value;
  }
  return meta;
}

/** SMH's per-part variant: `partNumberRange` in the JSON body, or `part_number_range` in the query. */
function partNumbers(request: FastifyRequest): number[] | undefined {
  const text =
    optionalString(body(request).partNumberRange, 'partNumberRange') ?? query(request, 'part_number_range');
  return text === undefined ? undefined : parsePartNumberRange(text);
}

function hashField(value: unknown, field: string): string | undefined {
  const text = optionalString(value, field);
  if (text !== undefined && !/^[0-9a-fA-F]{64}$/.test(text))
    throw new AppError('InvalidArgument', `${field} must be 64 hex digits.`);
  return text;
}

function beginInput(request: Req, flavour: UploadFlavour): BeginInput {
  const b = body(request);
  const size = b.size === undefined ? undefined : Number(b.size);
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0))
    throw new AppError('InvalidArgument', 'size must be a byte count.');
  const filesize = intParam(request, 'filesize', { min: 0, max: Number.MAX_SAFE_INTEGER });
  const limit = trafficLimit(request);
  const beginningHash = hashField(b.beginningHash, 'beginningHash');
  const fullHash = hashField(b.fullHash, 'fullHash');
  const parts = flavour === 'multipart' ? partNumbers(request) : undefined;
  return {
    spaceId: request.params.space,
    path: pathSegments(request, FILE_PATH_START),
    flavour,
    strategy: strategyParam(request, STRATEGIES, 'rename'),
    meta: metaHeaders(request),
    attributes: attributesOf(b),
    ...(filesize !== undefined ? { filesize } : {}),
    ...(limit !== undefined ? { trafficLimit: limit } : {}),
    ...(beginningHash ? { beginningHash } : {}),
    ...(fullHash ? { fullHash } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(parts ? { partNumbers: parts } : {}),
  };
}

function confirmKeyOf(request: Req): string {
  const key = pathSegments(request, FILE_PATH_START).at(-1);
  if (!key) throw new AppError('ConfirmKeyNotFound', 'The confirm key is missing from the path.');
  return key;
}

export function fileRoutes(app: FastifyInstance, deps: SmhDeps): void {
  const begin = async (request: Req, reply: FastifyReply, flavour: UploadFlavour) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const outcome = await deps.uploads.begin(ctx, beginInput(request, flavour));
    if (outcome.kind === 'send-full-hash') {
      reply.code(202).send();
      return reply;
    }
    if (outcome.kind === 'instant') {
      reply.code(200);
      return fileObjectView(outcome.file, boolParam(request, 'with_inode') ?? false);
    }
    reply.code(201);
    return {
      ...grantView(outcome.grant),
      ...(outcome.task.uploadId ? { uploadId: outcome.task.uploadId } : {}),
      confirmKey: outcome.task.confirmKey,
      availableDomainNum: 1,
    };
  };

  const put = async (request: Req, reply: FastifyReply) => {
    const b = body(request);
    if (b.copyFrom !== undefined || b.from !== undefined) {
      const ctx = await accessOf(deps, request, request.params.lib);
      const to = pathSegments(request, FILE_PATH_START);
      const strategy = strategyParam(request, STRATEGIES, 'rename');
      if (b.copyFrom !== undefined) {
        const { path } = await deps.namespace.copyFile(
          ctx,
          request.params.space,
          splitPath(b.copyFrom, 'copyFrom'),
          to,
          strategy,
        );
        return { path };
      }
      return {
        path: await deps.namespace.move(ctx, request.params.space, splitPath(b.from, 'from'), to, strategy),
      };
    }
    return begin(request, reply, 'simple');
  };

  const post = async (request: Req, reply: FastifyReply) => {
    if (flag(request, 'confirm')) {
      const ctx = await accessOf(deps, request, request.params.lib);
      const b = body(request);
      const raw = query(request, 'conflict_resolution_strategy');
      const crc64 = b.crc64 === undefined ? undefined : String(b.crc64);
      const file = await deps.uploads.confirm(ctx, request.params.space, confirmKeyOf(request), {
        ...(raw ? { strategy: strategyParam(request, STRATEGIES, 'rename') } : {}),
        ...(crc64 !== undefined ? { crc64 } : {}),
        attributes: attributesOf(b),
      });
      return fileObjectView(file, boolParam(request, 'with_inode') ?? false);
    }
    if (flag(request, 'renew')) {
      const ctx = await accessOf(deps, request, request.params.lib);
      const limit = trafficLimit(request);
      const parts = partNumbers(request);
      const { task, grant } = await deps.uploads.renew(ctx, request.params.space, confirmKeyOf(request), {
        ...(limit !== undefined ? { trafficLimit: limit } : {}),
        ...(parts ? { partNumbers: parts } : {}),
      });
      return {
        ...grantView(grant),
        uploadId: task.uploadId,
        confirmKey: task.confirmKey,
        availableDomainNum: 1,
      };
    }
    return begin(request, reply, flag(request, 'multipart') ? 'multipart' : 'form');
  };

  const get = async (request: Req, reply: FastifyReply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    if (flag(request, 'upload')) {
      const parts = partNumbers(request);
      const status = await deps.uploads.status(ctx, request.params.space, confirmKeyOf(request), {
        withPartInfo: !boolParam(request, 'no_upload_part_info'),
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
    }
    const segments = pathSegments(request, FILE_PATH_START);
    const { inode } = await deps.namespace.stat(ctx, request.params.space, segments, 'file');
    const file = inode!;
    const disposition = query(request, 'content_disposition') === 'attachment' ? 'attachment' : 'inline';
    const period = intParam(request, 'period', { min: 60, max: 7200 }) ?? 7200;
    if (flag(request, 'info')) {
      const cosUrl = boolParam(request, 'pre_check')
        ? undefined
        : await deps.namespace.downloadUrl(ctx, file, { expiresInSeconds: period, disposition });
      return infoView(file, segments, {
        withInode: boolParam(request, 'with_inode') ?? false,
        ...(cosUrl ? { cosUrl } : {}),
      });
    }
    if (await servePlaylist(deps, ctx, file, disposition, request, reply)) return reply;
    const url = await deps.namespace.downloadUrl(ctx, file, { expiresInSeconds: period, disposition });
    reply.headers(smhHeaders(file)).header('location', url).code(302).send();
    return reply;
  };

  const head = async (request: Req, reply: FastifyReply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const { inode } = await deps.namespace.stat(
      ctx,
      request.params.space,
      pathSegments(request, FILE_PATH_START),
      'file',
    );
    reply.headers(smhHeaders(inode!)).code(200).send();
  };

  const remove = async (request: Req, reply: FastifyReply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    if (flag(request, 'upload')) await deps.uploads.cancel(ctx, request.params.space, confirmKeyOf(request));
    else
      await deps.namespace.deleteEntry(
        ctx,
        request.params.space,
        pathSegments(request, FILE_PATH_START),
        'file',
      );
    reply.code(204).send();
  };

  app.get<{ Params: { lib: string; space: string; inode: string } }>(
    '/inode/:lib/:space/:inode',
    async (request) => {
      const ctx = await accessOf(deps, request, request.params.lib);
      const { inode, path } = await deps.namespace.byInode(ctx, request.params.space, request.params.inode);
      return {
        path,
        name: inode.name,
        type: inode.type,
        creationTime: new Date(inode.createdAt).toISOString(),
        modificationTime: new Date(inode.modifiedAt).toISOString(),
        ...(inode.type === 'file'
          ? { contentType: inode.contentType, size: String(inode.size), crc64: inode.crc64 ?? '' }
          : {}),
      };
    },
  );

  const url = '/file/:lib/:space/*';
  app.put(url, put);
  app.post(url, post);
  app.get(url, { exposeHeadRoute: false }, get);
  app.head(url, head);
  app.delete(url, remove);
}
