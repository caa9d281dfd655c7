// Directories (spec smh §2.4): create with missing parents, list in marker and page modes, info,
// existence (HEAD), rename/move, delete with contents (or, with directory_only, only when empty).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../core/errors.ts';
import type { InodeAttributes, InodeOrder } from '../../../core/namespace/model.ts';
import type { ListOptions } from '../../../core/namespace/namespace-service.ts';
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
import { entryView, infoView } from '../views.ts';

type Req = FastifyRequest<{ Params: { lib: string; space: string } }>;

/** labels, category and client times of a create/update body. */
export function attributesOf(b: Record<string, unknown>): InodeAttributes {
  const labels = b.labels;
  if (labels !== undefined && (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string'))) {
    throw new AppError('InvalidArgument', 'labels must be a list of strings.');
  }
  const category = optionalString(b.category, 'category');
  const created = optionalString(b.localCreationTime, 'localCreationTime');
  const modified = optionalString(b.localModificationTime, 'localModificationTime');
  return {
    ...(labels ? { labels: labels as string[] } : {}),
    ...(category !== undefined ? { category } : {}),
    ...(created !== undefined ? { localCreationTime: created } : {}),
    ...(modified !== undefined ? { localModificationTime: modified } : {}),
  };
}

const ORDERS: readonly InodeOrder[] = ['name', 'modificationTime', 'size', 'creationTime'];

export function listOptions(request: FastifyRequest): ListOptions {
  const orderBy = (query(request, 'order_by') ?? 'name') as InodeOrder;
  if (!ORDERS.includes(orderBy))
    throw new AppError('InvalidArgument', `order_by must be one of ${ORDERS.join(', ')}.`);
  const direction = query(request, 'order_by_type') ?? 'asc';
  if (direction !== 'asc' && direction !== 'desc')
    throw new AppError('InvalidArgument', 'order_by_type must be asc or desc.');
  const rawFilter = query(request, 'filter');
  if (rawFilter !== undefined && rawFilter !== 'onlyDir' && rawFilter !== 'onlyFile') {
    throw new AppError('InvalidArgument', 'filter must be onlyDir or onlyFile.');
  }
  const filter: ListOptions['filter'] = rawFilter;
  // SMH: by-page, or legacy clients sending page/page_size, get page mode; everyone else markers.
  const pageMode =
    flag(request, 'by-page') ||
    (!flag(request, 'by-marker') && (flag(request, 'page') || flag(request, 'page_size')));
  const common = {
    orderBy,
    descending: direction === 'desc',
    union: query(request, 'sort_type') === 'union',
    ...(filter ? { filter } : {}),
  };
  if (pageMode) {
    const page = intParam(request, 'page', { min: 1, max: 10_000 }) ?? 1;
    const pageSize = intParam(request, 'page_size', { min: 1, max: 1000 }) ?? 20;
    if (page * pageSize > 10_000)
      throw new AppError('InvalidArgument', 'page * page_size must not exceed 10000.');
    return { ...common, limit: pageSize, page };
  }
  const marker = query(request, 'marker');
  return {
    ...common,
    limit: intParam(request, 'limit', { min: 1, max: 1000 }) ?? 20,
    ...(marker ? { marker } : {}),
  };
}

export function directoryRoutes(app: FastifyInstance, deps: SmhDeps): void {
  const create = async (request: Req, reply: FastifyReply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const segments = pathSegments(request, 5);
    const b = body(request);
    if (b.from !== undefined) {
      const strategy = strategyParam(request, ['ask', 'rename'], 'ask');
      const path = await deps.namespace.move(
        ctx,
        request.params.space,
        splitPath(b.from, 'from'),
        segments,
        strategy,
        'dir',
      );
      // SMH §2.4: 200 {path} when renamed; with ask the path is the one requested, so 204.
      if (strategy === 'ask') return reply.code(204).send();
      reply.code(200);
      return { path };
    }
    const meta = b.metaData;
    if (meta !== undefined && (typeof meta !== 'object' || meta === null || Array.isArray(meta))) {
      throw new AppError('InvalidArgument', 'metaData must be an object of strings.');
    }
    const { inode, path } = await deps.namespace.createDirectory(ctx, request.params.space, segments, {
      strategy: strategyParam(request, ['ask', 'rename'], 'ask'),
      attributes: attributesOf(b),
      meta: (meta ?? {}) as Record<string, string>,
    });
    reply.code(201);
    return {
      path,
      ...(boolParam(request, 'with_inode') ? { inode: inode.id } : {}),
      creationTime: new Date(inode.createdAt).toISOString(),
      ...(Object.keys(inode.meta).length > 0 ? { metaData: inode.meta } : {}),
      ...(inode.attributes.labels ? { labels: inode.attributes.labels } : {}),
    };
  };

  const get = async (request: Req) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const segments = pathSegments(request, 5);
    const withInode = boolParam(request, 'with_inode') ?? false;
    if (flag(request, 'info')) {
      const { inode } = await deps.namespace.stat(ctx, request.params.space, segments, 'any');
      return infoView(inode, segments, { withInode });
    }
    const options = listOptions(request);
    const listing = await deps.namespace.list(ctx, request.params.space, segments, options);
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
  };

  const head = async (request: Req, reply: FastifyReply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const { inode } = await deps.namespace.stat(ctx, request.params.space, pathSegments(request, 5), 'any');
    if (inode && inode.type !== 'dir') throw new AppError('DirectoryNotFound', 'The path is a file.');
    reply.code(200).send();
  };

  const remove = async (request: Req, reply: FastifyReply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const directoryOnly = boolParam(request, 'directory_only') ?? false;
    await deps.namespace.deleteEntry(ctx, request.params.space, pathSegments(request, 5), 'dir', {
      directoryOnly,
    });
    reply.code(204).send();
  };

  for (const url of ['/directory/:lib/:space', '/directory/:lib/:space/*']) {
    app.put(url, create);
    app.get(url, { exposeHeadRoute: false }, get);
    app.head(url, head);
    app.delete(url, remove);
  }
}
