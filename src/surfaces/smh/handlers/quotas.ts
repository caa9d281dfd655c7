// Quotas (spec smh §2.6) and usage (§2.2): create, read and change a quota by quota id or by space, a
// space's quota, the library's usage and the usage of listed spaces.
import { Type } from '@sinclair/typebox';
import { AppError } from '../../../core/errors.ts';
import type { QuotaPatch } from '../../../core/spaces/space-service.ts';
import { refuse } from '../../schema-types.ts';
import { smhOperation } from '../operation.ts';

/** Space ids a batch usage call may list at once. */
const MAX_USAGE_SPACES = 1000;

/** Sizes are strings of decimal bytes; numbers are accepted too (spec smh §1.4). */
const Bytes = Type.Transform(Type.Unknown({ expects: 'a non-negative number of bytes (string or number)' }))
  .Decode((value): number => {
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : refuse();
  })
  .Encode((n) => String(n));

const SPACES = Type.Array(Type.String(), { expects: 'a list of space ids' });

const POLICY_FIELDS = {
  removeWhenExceed: Type.Optional(Type.Boolean({ expects: 'a boolean' })),
  removeAfterDays: Type.Optional(
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, expects: 'a whole number' }),
  ),
  removeNewest: Type.Optional(Type.Boolean({ expects: 'a boolean' })),
};

const PATCH_FIELDS = { capacity: Type.Optional(Bytes), ...POLICY_FIELDS };

function patchOf(b: {
  capacity?: number | undefined;
  removeWhenExceed?: boolean | undefined;
  removeAfterDays?: number | undefined;
  removeNewest?: boolean | undefined;
}): QuotaPatch {
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) as QuotaPatch;
}

const quotaView = (quota: { id: number; capacity: number }) => ({
  id: quota.id,
  capacity: String(quota.capacity),
});

/** An all-digit id too large to be one is no quota. */
function quotaIdOf(id: string): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n)) throw new AppError('QuotaNotFound', `Quota ${id} does not exist.`);
  return n;
}

export const createQuota = smhOperation({
  name: 'CreateQuota',
  method: 'POST',
  path: 'quota/{lib}',
  body: { spaces: Type.Optional(SPACES), capacity: Bytes, ...POLICY_FIELDS },
  summary: 'gates uploads; `removeWhenExceed` is stored, not enforced',
  async handle({ deps, access, body, reply }) {
    const quotaId = await deps.spaces.createQuota(access, {
      spaces: body.spaces ?? [],
      capacity: body.capacity,
      removeWhenExceed: body.removeWhenExceed ?? false,
      removeAfterDays: body.removeAfterDays ?? 0,
      removeNewest: body.removeNewest ?? false,
    });
    reply.code(201);
    return { quotaId };
  },
});

export const getQuotaById = smhOperation({
  name: 'GetQuotaById',
  method: 'GET',
  path: 'quota/{lib}/{quota:digits}',
  async handle({ deps, access, params }) {
    const { quota, spaces } = await deps.spaces.getQuotaById(access, quotaIdOf(params.quota));
    return { spaces: spaces.map((s) => s.id), capacity: String(quota.capacity) };
  },
});

export const updateQuotaById = smhOperation({
  name: 'UpdateQuotaById',
  method: 'PUT',
  path: 'quota/{lib}/{quota:digits}',
  body: { ...PATCH_FIELDS, spaces: Type.Optional(SPACES) },
  async handle({ deps, access, params, body, reply }) {
    const { spaces, ...patch } = body;
    await deps.spaces.updateQuotaById(access, quotaIdOf(params.quota), {
      ...patchOf(patch),
      ...(spaces !== undefined ? { spaces } : {}),
    });
    reply.code(204).send();
  },
});

export const getSpaceQuota = smhOperation({
  name: 'GetSpaceQuota',
  method: 'GET',
  path: 'quota/{lib}/{space}',
  handle: async ({ deps, access, params }) => quotaView(await deps.spaces.getQuota(access, params.space)),
});

export const updateSpaceQuota = smhOperation({
  name: 'UpdateSpaceQuota',
  method: 'PUT',
  path: 'quota/{lib}/{space}',
  body: { ...PATCH_FIELDS, spaces: Type.Optional(Type.Unknown()) },
  async handle({ deps, access, params, body, reply }) {
    const { spaces, ...patch } = body;
    if (spaces !== undefined)
      throw new AppError('InvalidArgument', 'spaces can only be changed through the quota id.');
    await deps.spaces.updateQuota(access, params.space, patchOf(patch));
    reply.code(204).send();
  },
});

// The space's quota under a path of its own: a space id of digits only cannot use quota/{lib}/{space}.
export const getSpaceQuotaOfSpace = smhOperation({
  name: 'GetSpaceQuotaOfSpace',
  method: 'GET',
  path: 'space-quota/{lib}/{space}',
  handle: async ({ deps, access, params }) => quotaView(await deps.spaces.getQuota(access, params.space)),
});

export const getLibraryUsage = smhOperation({
  name: 'GetLibraryUsage',
  method: 'GET',
  path: 'usage/{lib}',
  summary: 'admin',
  handle: async ({ deps, access }) => ({ totalFileSize: String(await deps.spaces.libraryUsage(access)) }),
});

export const getSpacesUsage = smhOperation({
  name: 'GetSpacesUsage',
  method: 'GET',
  path: 'usage/{lib}/{spaceIds}',
  summary: 'per space, with its quota capacity and what is left',
  async handle({ deps, access, params }) {
    // The SDK sends the comma list through encodeURIComponent (%2C); the params are decoded.
    const ids = [...new Set(params.spaceIds.split(',').filter((s) => s !== ''))];
    if (ids.length === 0) throw new AppError('InvalidArgument', 'List at least one space id.');
    if (ids.length > MAX_USAGE_SPACES)
      throw new AppError('InvalidArgument', `At most ${MAX_USAGE_SPACES} space ids can be listed at once.`);
    const usage = await deps.spaces.usage(access, ids);
    return usage.map((u) => ({
      spaceId: u.space.id,
      capacity: u.capacity === null ? null : String(u.capacity),
      availableSpace: u.available === null ? null : String(u.available),
      size: String(u.space.usedBytes),
    }));
  },
});
