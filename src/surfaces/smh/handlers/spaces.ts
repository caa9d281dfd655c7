// Tenant spaces (spec smh §2.2): create, list, count, delete, attributes, size and file count.
import { type Static, Type } from '@sinclair/typebox';
import type { SpaceService } from '../../../core/spaces/space-service.ts';
import { smhOperation } from '../operation.ts';
import { Bool01, intIn } from '../params.ts';

type SpaceExtension = Parameters<SpaceService['create']>[1]['extension'];

const BOOLEAN = Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { expects: 'a boolean' }));
const NAMES = Type.Optional(
  Type.Union([Type.Array(Type.String()), Type.Null()], { expects: 'a list of strings' }),
);

// Spec smh §2.2: the "extension" of a space; null means absent, except that it clears spaceTag on update.
const EXTENSION_FIELDS = {
  isPublicRead: BOOLEAN,
  isMultiAlbum: BOOLEAN,
  allowPhoto: BOOLEAN,
  allowVideo: BOOLEAN,
  allowPhotoExtname: NAMES,
  allowVideoExtname: NAMES,
  allowFileExtname: NAMES,
  recognizeSensitiveContent: BOOLEAN,
  spaceTag: Type.Optional(Type.Union([Type.String(), Type.Null()], { expects: 'a string' })),
};

const EXTENSION_OBJECT = Type.Object(EXTENSION_FIELDS);

/** The extension fields given, nulls dropped. */
function extensionOf(body: Static<typeof EXTENSION_OBJECT>): SpaceExtension {
  return Object.fromEntries(
    Object.entries(body).filter(([, value]) => value !== undefined && value !== null),
  ) as SpaceExtension;
}

export const createSpace = smhOperation({
  name: 'CreateSpace',
  method: 'POST',
  path: 'space/{lib}',
  query: { space_id: Type.Optional(Type.String({ description: 'the id to give the space' })) },
  body: EXTENSION_FIELDS,
  async handle({ deps, access, query, body, reply }) {
    const space = await deps.spaces.create(access, {
      ...(query.space_id ? { spaceId: query.space_id } : {}),
      extension: extensionOf(body),
    });
    reply.code(201);
    return { spaceId: space.id };
  },
});

export const listSpaces = smhOperation({
  name: 'ListSpaces',
  method: 'GET',
  path: 'space/{lib}/list',
  query: {
    limit: Type.Optional(intIn(1, 1000)),
    marker: Type.Optional(Type.String()),
    prefix: Type.Optional(Type.String()),
    start_name: Type.Optional(Type.String({ description: 'exclusive lower bound; marker wins' })),
    // Spaces are always listed by id, so both values are honoured.
    ordered: Type.Optional(Bool01),
  },
  async handle({ deps, access, query }) {
    const marker = query.marker ?? query.start_name;
    const result = await deps.spaces.list(access, {
      ...(query.limit ? { limit: query.limit } : {}),
      ...(marker ? { marker } : {}),
      ...(query.prefix ? { prefix: query.prefix } : {}),
    });
    return {
      list: result.list.map((s) => ({
        spaceId: s.id,
        userId: s.userId,
        creationTime: new Date(s.createdAt).toISOString(),
      })),
      ...(result.nextMarker ? { nextMarker: result.nextMarker, marker: result.nextMarker } : {}),
    };
  },
});

export const countSpaces = smhOperation({
  name: 'CountSpaces',
  method: 'GET',
  path: 'space/{lib}/count',
  handle: async ({ deps, access }) => ({
    total: (await deps.spaces.list(access, { limit: 1000 })).list.length,
  }),
});

export const deleteSpace = smhOperation({
  name: 'DeleteSpace',
  method: 'DELETE',
  path: 'space/{lib}/{space}',
  query: { force: Type.Optional(Bool01) },
  summary: 'a non-empty space only with `force=1`',
  async handle({ deps, access, params, query, reply }) {
    await deps.spaces.delete(access, params.space, query.force ?? false);
    reply.code(204).send();
  },
});

export const getSpaceExtension = smhOperation({
  name: 'GetSpaceExtension',
  method: 'GET',
  path: 'space/{lib}/{space}/extension',
  async handle({ deps, access, params }) {
    const e = (await deps.spaces.require(access, params.space)).extension;
    return {
      isPublicRead: e.isPublicRead ?? false,
      allowPhoto: e.allowPhoto ?? false,
      allowVideo: e.allowVideo ?? false,
      allowPhotoExtname: e.allowPhotoExtname ?? [],
      allowVideoExtname: e.allowVideoExtname ?? [],
      recognizeSensitiveContent: e.recognizeSensitiveContent ?? false,
      ...(e.spaceTag !== undefined ? { spaceTag: e.spaceTag } : {}),
    };
  },
});

export const updateSpaceExtension = smhOperation({
  name: 'UpdateSpaceExtension',
  method: 'POST',
  path: 'space/{lib}/{space}/extension',
  body: EXTENSION_FIELDS,
  async handle({ deps, access, params, body, reply }) {
    // SMH: `spaceTag: null` clears the tag (extensionOf drops nulls, which elsewhere mean "absent").
    await deps.spaces.setExtension(access, params.space, {
      ...extensionOf(body),
      ...(body.spaceTag === null ? { spaceTag: null } : {}),
    });
    reply.code(204).send();
  },
});

export const getSpaceSize = smhOperation({
  name: 'GetSpaceSize',
  method: 'GET',
  path: 'space/{lib}/{space}/size',
  handle: async ({ deps, access, params }) => ({
    size: String((await deps.spaces.require(access, params.space)).usedBytes),
  }),
});

export const getSpaceFileCount = smhOperation({
  name: 'GetSpaceFileCount',
  method: 'GET',
  path: 'space/{lib}/{space}/file-count',
  summary: 'files and directories of the space (recycled and history counts are 0)',
  async handle({ deps, access, params }) {
    const { dirs, files } = await deps.spaces.fileCount(access, params.space);
    // No recycle bin and no history (ADR 0002 §16): their counts are zero, and the totals include them.
    return {
      fileNum: String(files),
      dirNum: String(dirs),
      recycledFileNum: '0',
      recycledDirNum: '0',
      historyFileNum: '0',
    };
  },
});
