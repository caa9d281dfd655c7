// Directories (spec smh §2.4): create with missing parents, list in marker and page modes, info,
// existence (HEAD), rename/move, delete with contents (or, with directory_only, only when empty).
import { Type } from '@sinclair/typebox';
import { AppError } from '../../../core/errors.ts';
import type { ListOptions } from '../../../core/namespace/namespace-service.ts';
import { smhOperation } from '../operation.ts';
import {
  ATTRIBUTE_FIELDS,
  attributesOf,
  Bool01,
  Flag,
  intIn,
  noEffect,
  offOnly,
  oneOf,
  PathText,
  splitPath,
  strategy,
} from '../params.ts';
import { entryView, infoView } from '../views.ts';

export const DIR = 'directory/{lib}/{space}/{path*}';

const ORDERS = ['name', 'modificationTime', 'size', 'creationTime'] as const;
const NO_FAVORITES = offOnly('favorites are not implemented');
const NO_CONTENT_CAS = offOnly('content tags are not implemented');

export const moveDirectory = smhOperation({
  name: 'MoveDirectory',
  method: 'PUT',
  path: DIR,
  bodyField: 'from',
  query: {
    conflict_resolution_strategy: Type.Optional(strategy(['ask', 'rename'])),
    // There are no per-directory ACLs to move.
    move_authority: Type.Optional(Bool01),
  },
  body: { from: PathText },
  summary: 'rename or move; missing target parents are created',
  async handle({ deps, access, params, query, body, reply }) {
    const strategy = query.conflict_resolution_strategy ?? 'ask';
    const path = await deps.namespace.move(
      access,
      params.space,
      splitPath(body.from),
      params.path,
      strategy,
      'dir',
    );
    // SMH §2.4: 200 {path} when renamed; with ask the path is the one requested, so 204.
    if (strategy === 'ask') return reply.code(204).send();
    reply.code(200);
    return { path };
  },
});

export const createDirectory = smhOperation({
  name: 'CreateDirectory',
  method: 'PUT',
  path: DIR,
  query: {
    conflict_resolution_strategy: Type.Optional(strategy(['ask', 'rename'])),
    with_inode: Type.Optional(Bool01),
  },
  body: {
    metaData: Type.Optional(Type.Record(Type.String(), Type.String(), { expects: 'an object of strings' })),
    ...ATTRIBUTE_FIELDS,
  },
  summary: 'with missing parents; `metaData`, `labels`',
  async handle({ deps, access, params, query, body, reply }) {
    const { inode, path } = await deps.namespace.createDirectory(access, params.space, params.path, {
      strategy: query.conflict_resolution_strategy ?? 'ask',
      attributes: attributesOf(body),
      meta: body.metaData ?? {},
    });
    reply.code(201);
    return {
      path,
      ...(query.with_inode ? { inode: inode.id } : {}),
      creationTime: new Date(inode.createdAt).toISOString(),
      ...(Object.keys(inode.meta).length > 0 ? { metaData: inode.meta } : {}),
      ...(inode.attributes.labels ? { labels: inode.attributes.labels } : {}),
    };
  },
});

export const getEntryInfo = smhOperation({
  name: 'GetEntryInfo',
  method: 'GET',
  path: DIR,
  flag: 'info',
  query: {
    info: Flag,
    with_inode: Type.Optional(Bool01),
    with_favorite_status: Type.Optional(NO_FAVORITES),
    with_content_cas: Type.Optional(NO_CONTENT_CAS),
  },
  summary: 'a directory or a file',
  async handle({ deps, access, params, query }) {
    const { inode } = await deps.namespace.stat(access, params.space, params.path, 'any');
    return infoView(inode, params.path, { withInode: query.with_inode ?? false });
  },
});

export const listDirectory = smhOperation({
  name: 'ListDirectory',
  method: 'GET',
  path: DIR,
  query: {
    'by-marker': Type.Optional(Flag),
    'by-page': Type.Optional(Flag),
    marker: Type.Optional(Type.String({ description: 'the nextMarker of the previous page' })),
    limit: Type.Optional(intIn(1, 1000)),
    page: Type.Optional(intIn(1, 10_000)),
    page_size: Type.Optional(intIn(1, 1000)),
    order_by: Type.Optional(oneOf(ORDERS)),
    order_by_type: Type.Optional(oneOf(['asc', 'desc'], 'asc or desc')),
    filter: Type.Optional(oneOf(['onlyDir', 'onlyFile'], 'onlyDir or onlyFile')),
    sort_type: Type.Optional(oneOf(['union'], 'union (directories and files sorted together) or absent')),
    with_inode: Type.Optional(Bool01),
    with_favorite_status: Type.Optional(NO_FAVORITES),
    with_content_cas: Type.Optional(NO_CONTENT_CAS),
  },
  summary: 'marker or page mode; `order_by`, `order_by_type`, `filter`, `sort_type`',
  async handle({ deps, access, params, query }) {
    const withInode = query.with_inode ?? false;
    // SMH: by-page, or legacy clients sending page/page_size, get page mode; everyone else markers.
    const pageMode =
      'by-page' in query || (!('by-marker' in query) && ('page' in query || 'page_size' in query));
    const common = {
      orderBy: query.order_by ?? 'name',
      descending: query.order_by_type === 'desc',
      union: query.sort_type === 'union',
      ...(query.filter ? { filter: query.filter } : {}),
    };
    let options: ListOptions;
    if (pageMode) {
      const page = query.page ?? 1;
      const pageSize = query.page_size ?? 20;
      if (page * pageSize > 10_000)
        throw new AppError('InvalidArgument', 'page * page_size must not exceed 10000.');
      options = { ...common, limit: pageSize, page };
    } else {
      options = { ...common, limit: query.limit ?? 20, ...(query.marker ? { marker: query.marker } : {}) };
    }
    const listing = await deps.namespace.list(access, params.space, params.path, options);
    const contents = listing.entries.map((e) => entryView(e, { withInode }));
    const eTag = `"${listing.directory?.etag ?? '0'}"`;
    if (listing.counts) {
      const { files, dirs } = listing.counts;
      return {
        path: listing.path,
        fileCount: files,
        subDirCount: dirs,
        // totalNum is what the pages hold, so a filtered page walk knows where it ends.
        totalNum: options.filter === 'onlyDir' ? dirs : options.filter === 'onlyFile' ? files : files + dirs,
        eTag,
        contents,
      };
    }
    return {
      path: listing.path,
      ...(listing.nextMarker ? { nextMarker: listing.nextMarker } : {}),
      eTag,
      contents,
    };
  },
});

export const deleteDirectory = smhOperation({
  name: 'DeleteDirectory',
  method: 'DELETE',
  path: DIR,
  query: {
    directory_only: Type.Optional(Bool01),
    permanent: Type.Optional(noEffect('there is no recycle bin; deletes are permanent')),
  },
  summary: 'with its contents; with `directory_only=1` only when empty (else `409 DirectoryNotEmpty`)',
  async handle({ deps, access, params, query, reply }) {
    await deps.namespace.deleteEntry(access, params.space, params.path, 'dir', {
      directoryOnly: query.directory_only ?? false,
    });
    reply.code(204).send();
  },
});

export const headDirectory = smhOperation({
  name: 'HeadDirectory',
  method: 'HEAD',
  path: DIR,
  async handle({ deps, access, params, reply }) {
    const { inode } = await deps.namespace.stat(access, params.space, params.path, 'any');
    if (inode && inode.type !== 'dir') throw new AppError('DirectoryNotFound', 'The path is a file.');
    reply.code(200).send();
  },
});
