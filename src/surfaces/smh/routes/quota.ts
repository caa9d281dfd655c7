// Quotas (spec smh §2.6) and usage (§2.2): create, read and change a quota by space or by quota id, a
// space's quota, the library's usage and the usage of listed spaces.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../../core/errors.ts';
import type { QuotaPatch } from '../../../core/spaces/space-service.ts';
import { accessOf, body, type SmhDeps } from '../context.ts';

type Req = FastifyRequest<{ Params: { lib: string; id: string } }>;

/** Space ids a batch usage call may list at once. */
const MAX_USAGE_SPACES = 1000;

function bytesField(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new AppError(
      'InvalidArgument',
      `${field} must be a non-negative number of bytes (string or number).`,
    );
  }
  return n;
}

function typed<T>(b: Record<string, unknown>, field: string, kind: 'boolean' | 'number'): T | undefined {
  const value = b[field];
  if (value === undefined) return undefined;
  const ok =
    kind === 'number' ? Number.isSafeInteger(value) && (value as number) >= 0 : typeof value === kind;
  if (!ok)
    throw new AppError(
      'InvalidArgument',
      `${field} must be ${kind === 'number' ? 'a whole number' : 'a boolean'}.`,
    );
  return value as T;
}

function quotaPatchOf(b: Record<string, unknown>): QuotaPatch {
  const removeWhenExceed = typed<boolean>(b, 'removeWhenExceed', 'boolean');
  const removeAfterDays = typed<number>(b, 'removeAfterDays', 'number');
  const removeNewest = typed<boolean>(b, 'removeNewest', 'boolean');
  return {
    ...(b.capacity !== undefined ? { capacity: bytesField(b.capacity, 'capacity') } : {}),
    ...(removeWhenExceed !== undefined ? { removeWhenExceed } : {}),
    ...(removeAfterDays !== undefined ? { removeAfterDays } : {}),
    ...(removeNewest !== undefined ? { removeNewest } : {}),
  };
}

function spaceList(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string'))
    throw new AppError('InvalidArgument', 'spaces must be a list of space ids.');
  return value as string[];
}

/** SMH §2.6: the last segment of /quota/{lib}/{id} is a quota id when all digits, else a space id. */
function quotaIdOf(id: string): number | undefined {
  if (!/^\d+$/.test(id)) return undefined;
  const n = Number(id);
  if (!Number.isSafeInteger(n)) throw new AppError('QuotaNotFound', `Quota ${id} does not exist.`);
  return n;
}

export function quotaRoutes(app: FastifyInstance, deps: SmhDeps): void {
  app.post<{ Params: { lib: string } }>('/quota/:lib', async (request, reply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const b = body(request);
    const quotaId = await deps.spaces.createQuota(ctx, {
      spaces: b.spaces === undefined ? [] : spaceList(b.spaces),
      capacity: bytesField(b.capacity, 'capacity'),
      removeWhenExceed: b.removeWhenExceed === true,
      removeAfterDays: typeof b.removeAfterDays === 'number' ? b.removeAfterDays : 0,
      removeNewest: b.removeNewest === true,
    });
    reply.code(201);
    return { quotaId };
  });

  app.get('/quota/:lib/:id', async (request: Req) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const quotaId = quotaIdOf(request.params.id);
    if (quotaId !== undefined) {
      const { quota, spaces } = await deps.spaces.getQuotaById(ctx, quotaId);
      return { spaces: spaces.map((s) => s.id), capacity: String(quota.capacity) };
    }
    const quota = await deps.spaces.getQuota(ctx, request.params.id);
    return { id: quota.id, capacity: String(quota.capacity) };
  });

  app.put('/quota/:lib/:id', async (request: Req, reply) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const b = body(request);
    const quotaId = quotaIdOf(request.params.id);
    if (quotaId !== undefined) {
      await deps.spaces.updateQuotaById(ctx, quotaId, {
        ...quotaPatchOf(b),
        ...(b.spaces !== undefined ? { spaces: spaceList(b.spaces) } : {}),
      });
    } else {
      if (b.spaces !== undefined)
        throw new AppError('InvalidArgument', 'spaces can only be changed through the quota id.');
      await deps.spaces.updateQuota(ctx, request.params.id, quotaPatchOf(b));
    }
    reply.code(204).send();
  });

  // The space's quota under a path of its own: a space id of digits only cannot use /quota/{lib}/{id}.
  app.get<{ Params: { lib: string; space: string } }>('/space-quota/:lib/:space', async (request) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    const quota = await deps.spaces.getQuota(ctx, request.params.space);
    return { id: quota.id, capacity: String(quota.capacity) };
  });

  app.get<{ Params: { lib: string } }>('/usage/:lib', async (request) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    return { totalFileSize: String(await deps.spaces.libraryUsage(ctx)) };
  });

  app.get<{ Params: { lib: string; spaces: string } }>('/usage/:lib/:spaces', async (request) => {
    const ctx = await accessOf(deps, request, request.params.lib);
    // The SDK sends the comma list through encodeURIComponent (%2C); fastify has decoded it.
    const ids = [...new Set(request.params.spaces.split(',').filter((s) => s !== ''))];
    if (ids.length === 0) throw new AppError('InvalidArgument', 'List at least one space id.');
    if (ids.length > MAX_USAGE_SPACES)
      throw new AppError('InvalidArgument', `At most ${MAX_USAGE_SPACES} space ids can be listed at once.`);
    const usage = await deps.spaces.usage(ctx, ids);
    return usage.map((u) => ({
      spaceId: u.space.id,
      capacity: u.capacity === null ? null : String(u.capacity),
      availableSpace: u.available === null ? null : String(u.available),
      size: String(u.space.usedBytes),
    }));
  });
}
