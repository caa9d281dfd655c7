// Tenant spaces (spec smh §2.2): create, list, count, delete, attributes, size and file count.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../../core/errors.ts';
import type { SpaceExtension } from '../../../core/spaces/model.ts';
import { accessOf, body, boolParam, intParam, query, type SmhDeps } from '../context.ts';

const EXTENSION_FIELDS = {
  isPublicRead: 'boolean',
  isMultiAlbum: 'boolean',
  allowPhoto: 'boolean',
  allowVideo: 'boolean',
  allowPhotoExtname: 'array',
  allowVideoExtname: 'array',
  allowFileExtname: 'array',
  recognizeSensitiveContent: 'boolean',
  spaceTag: 'string',
} as const;

function extensionOf(input: Record<string, unknown>): SpaceExtension {
  const out: Record<string, unknown> = {};
  for (const [field, kind] of Object.entries(EXTENSION_FIELDS)) {
    const value = input[field];
    if (value === undefined || value === null) continue;
    const ok =
      kind === 'array'
        ? Array.isArray(value) && value.every((v) => typeof v === 'string')
        : typeof value === kind;
    if (!ok)
      throw new AppError(
        'InvalidArgument',
        `${field} must be ${kind === 'array' ? 'a list of strings' : `a ${kind}`}.`,
      );
    out[field] = value;
  }
  return out as SpaceExtension;
}

export function spaceRoutes(app: FastifyInstance, deps: SmhDeps): void {
  app.post<{ Params: { lib: string } }>('/space/:lib', async (request, reply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const spaceId = query(request, 'space_id');
    const space = await deps.spaces.create(ctx, {
      ...(spaceId ? { spaceId } : {}),
      extension: extensionOf(body(request)),
    });
    reply.code(201);
    return { spaceId: space.id };
  });

  app.get<{ Params: { lib: string } }>('/space/:lib/list', async (request) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const limit = intParam(request, 'limit', { min: 1, max: 1000 });
    const prefix = query(request, 'prefix');
    const marker = query(request, 'marker') ?? query(request, 'start_name');
    const result = await deps.spaces.list(ctx, {
      ...(limit ? { limit } : {}),
      ...(marker ? { marker } : {}),
      ...(prefix ? { prefix } : {}),
    });
    return {
      list: result.list.map((s) => ({
        spaceId: s.id,
        userId: s.userId,
        creationTime: new Date(s.createdAt).toISOString(),
      })),
      ...(result.nextMarker ? { nextMarker: result.nextMarker, marker: result.nextMarker } : {}),
    };
  });

  app.get<{ Params: { lib: string } }>('/space/:lib/count', async (request) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    return { total: (await deps.spaces.list(ctx, { limit: 1000 })).list.length };
  });

  app.delete<{ Params: { lib: string; space: string } }>('/space/:lib/:space', async (request, reply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    await deps.spaces.delete(ctx, request.params.space, boolParam(request, 'force') ?? false);
    reply.code(204).send();
  });

  app.get<{ Params: { lib: string; space: string } }>('/space/:lib/:space/extension', async (request) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const space = await deps.spaces.require(ctx, request.params.space);
    const e = space.extension;
    return {
      isPublicRead: e.isPublicRead ?? false,
      allowPhoto: e.allowPhoto ?? false,
      allowVideo: e.allowVideo ?? false,
      allowPhotoExtname: e.allowPhotoExtname ?? [],
      allowVideoExtname: e.allowVideoExtname ?? [],
      recognizeSensitiveContent: e.recognizeSensitiveContent ?? false,
      ...(e.spaceTag !== undefined ? { spaceTag: e.spaceTag } : {}),
    };
  });

  app.post<{ Params: { lib: string; space: string } }>(
    '/space/:lib/:space/extension',
    async (request, reply) => {
      const ctx = await accessOf(deps, request, request.params.lib);
      const b = body(request);
      // SMH: `spaceTag: null` clears the tag (extensionOf drops nulls, which elsewhere mean "absent").
      await deps.spaces.setExtension(ctx, request.params.space, {
        ...extensionOf(b),
        ...(b.spaceTag === null ? { spaceTag: null } : {}),
      });
      reply.code(204).send();
    },
  );

  app.get<{ Params: { lib: string; space: string } }>('/space/:lib/:space/size', async (request) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    return { size: String((await deps.spaces.require(ctx, request.params.space)).usedBytes) };
  });

  app.get<{ Params: { lib: string; space: string } }>('/space/:lib/:space/file-count', async (request) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const { dirs, files } = await deps.spaces.fileCount(ctx, request.params.space);
    // No recycle bin and no history (ADR 0002 §16): their counts are zero, and the totals include them.
    return {
      fileNum: String(files),
      dirNum: String(dirs),
      recycledFileNum: '0',
      recycledDirNum: '0',
      historyFileNum: '0',
    };
  });
}
