// The VOD media-task API (spec vod-tasks §1) as a fastify plugin: editing tasks, asset processing
// (transcode, snapshot) and the task list, authenticated by an SMH access token in X-Auth-Token. Every
// response carries X-Request-Id; errors are `{error_code, error_msg}`. The operations the family has and
// we do not implement get routes from the operation table that answer 501.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import type { MediaKind, MediaService } from '../../core/media/media-service.ts';
import type { AccessContext } from '../../core/tokens/access.ts';
import type { TokenService } from '../../core/tokens/token-service.ts';
import type { JobRecord } from '../../ports/metadata-store.ts';
import { applyCors, type CorsOptions, registerCors } from '../cors.ts';
import { sendError } from '../dialect.ts';
import { registerJsonBody } from '../json-body.ts';
import { VOD_REQUEST_ID_HEADERS, vodDialect } from './errors.ts';
import { routePathOf, VOD_OPERATIONS } from './operations.ts';

export interface VodDeps {
  tokens: TokenService;
  media: MediaService;
  cors: CorsOptions;
}

/** What VOD clients read: the request id, and Date (clock skew). */
const EXPOSE = ['X-Request-Id', 'Content-Length', 'Date'];

type Req = FastifyRequest<{ Params: { project: string }; Querystring: Record<string, string | undefined> }>;

/** RFC 3339 UTC without milliseconds, as VOD's editing APIs write times. */
const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function intQuery(request: Req, name: string, range: { min: number; max: number; fallback: number }): number {
  const raw = request.query[name];
  if (raw === undefined || raw === '') return range.fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    throw new AppError(
      'InvalidArgument',
      `The request parameter is illegal, illegal field: ${name} (an integer from ${range.min} to ${range.max}).`,
    );
  }
  return n;
}

function editTaskView(job: JobRecord): Record<string, unknown> {
  return {
    task_id: job.id,
    asset_id: job.assetId,
    status: job.state,
    progress:
      job.state === 'SUCCEED' ? 100 : job.state === 'WAITING' || job.state === 'CANCEL' ? 0 : job.progress,
    create_time: rfc3339(job.createdAt),
    ...(job.endedAt !== null ? { end_time: rfc3339(job.endedAt) } : {}),
    ...(job.state === 'FAILED' ? { error_code: job.errorCode, error_msg: job.errorMsg } : {}),
    ...(job.state === 'SUCCEED' && job.result ? { result: job.result } : {}),
  };
}

const TASK_TYPES: Record<string, MediaKind> = { TRANSCODE: 'transcode', THUMBNAIL: 'snapshot', EDIT: 'edit' };

/** 404 in VOD's shape, for the HTTP layer's not-found handler (paths under /v1/ and /v1.0/). */
export function vodNotFound(request: FastifyRequest, reply: FastifyReply, cors: CorsOptions): void {
  applyCors(cors, request, reply, EXPOSE.join(','));
  const path = request.url.split('?')[0];
  const message = `The API does not exist or has not been published: ${request.method} ${path}`;
  sendError(vodDialect, request, reply, new AppError('RouteNotFound', message));
}

export function vodApiPlugin(deps: VodDeps): (app: FastifyInstance) => Promise<void> {
  const access = (request: Req): Promise<AccessContext> => {
    const token = request.headers['x-auth-token'];
    return deps.tokens.authenticate({
      libraryId: request.params.project,
      accessToken: Array.isArray(token) ? token[0] : token,
      librarySecret: undefined,
      userId: undefined,
    });
  };
  return async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      for (const name of VOD_REQUEST_ID_HEADERS) reply.header(name, request.id);
    });
    registerCors(app, deps.cors, { expose: EXPOSE, preflightPaths: ['/v1/*', '/v1.0/*'] });
    registerJsonBody(
      app,
      () =>
        new AppError('InvalidArgument', 'The request parameter is illegal, illegal field: body (not JSON).'),
    );
    app.setErrorHandler((err, request, reply) => sendError(vodDialect, request, reply, err));
    app.post('/v1/:project/asset/editing/tasks', async (request: Req) => {
      const ctx = await access(request);
      const created = await deps.media.createEdit(ctx, request.body);
      return { task_id: created.taskId, asset_id: created.assetId };
    });

    app.get('/v1/:project/asset/editing/tasks', async (request: Req) => {
      const ctx = await access(request);
      const limit = intQuery(request, 'limit', { min: 1, max: 100, fallback: 10 });
      const offset = intQuery(request, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
      const taskId = request.query.task_id;
      const { total, jobs } = await deps.media.list(ctx, {
        kinds: ['edit'],
        offset,
        limit,
        ...(taskId ? { taskId } : {}),
      });
      return { total, tasks: jobs.map(editTaskView) };
    });

    app.delete('/v1/:project/asset/editing/tasks', async (request: Req, reply) => {
      const ctx = await access(request);
      const taskId = request.query.task_id;
      if (!taskId)
        throw new AppError(
          'InvalidArgument',
          'The request parameter is illegal, illegal field: task_id (required).',
        );
      const force = request.query.force === 'true' || request.query.force === '1';
      await deps.media.cancel(ctx, taskId, { force, kinds: ['edit'] });
      reply.code(204).send();
    });

    app.post('/v1.0/:project/asset/process', async (request: Req, reply) => {
      const ctx = await access(request);
      const created = await deps.media.createProcess(ctx, request.body);
      reply.code(202);
      return {
        asset_id: created.assetId,
        ...(created.thumbnailTaskId ? { thumbnail_task_id: created.thumbnailTaskId } : {}),
        task_ids: created.taskIds,
      };
    });

    app.delete('/v1.0/:project/asset/process', async (request: Req, reply) => {
      const ctx = await access(request);
      const assetId = request.query.asset_id;
      if (!assetId)
        throw new AppError(
          'InvalidArgument',
          'The request parameter is illegal, illegal field: asset_id (required).',
        );
      await deps.media.cancelProcess(ctx, assetId);
      reply.code(204).send();
    });

    app.get('/v1/:project/asset/tasks', async (request: Req) => {
      const ctx = await access(request);
      const type = request.query.type;
      const kinds: MediaKind[] = type
        ? [TASK_TYPES[type.toUpperCase()] ?? 'edit']
        : ['transcode', 'snapshot', 'edit'];
      if (type && !TASK_TYPES[type.toUpperCase()]) {
        throw new AppError(
          'InvalidArgument',
          'The request parameter is illegal, illegal field: type (TRANSCODE, THUMBNAIL or EDIT).',
        );
      }
      const limit = intQuery(request, 'limit', { min: 1, max: 100, fallback: 10 });
      const offset = intQuery(request, 'marker', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
      const { total, jobs } = await deps.media.list(ctx, {
        kinds,
        offset,
        limit,
        ...(request.query.task_id ? { taskId: request.query.task_id } : {}),
      });
      const kindNames = Object.fromEntries(Object.entries(TASK_TYPES).map(([k, v]) => [v, k]));
      return {
        results: jobs.map((job) => ({ type: kindNames[job.kind], ...editTaskView(job) })),
        count: total,
        ...(offset + jobs.length < total ? { next_marker: String(offset + jobs.length) } : {}),
      };
    });

    for (const operation of VOD_OPERATIONS) {
      const url = routePathOf(operation);
      if (operation.implemented) {
        // An implemented row without a route would answer 404: refuse to start instead.
        if (!app.hasRoute({ method: operation.method, url }))
          throw new Error(`VOD operation ${operation.name} is marked implemented but has no route ${url}`);
        continue;
      }
      app.route({
        method: operation.method,
        url,
        handler: async () => {
          throw new AppError(
            'NotImplemented',
            `${operation.name} (${operation.method} ${operation.path}) is not implemented by this server.`,
          );
        },
      });
    }
  };
}
