// Request helpers of the SMH surface: valueless action flags (`?upload`, `?confirm`…), 0/1 and
// true/false booleans, paths taken from the raw URL, and the caller's access context.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { AppError } from '../../core/errors.ts';
import type { NamespaceService } from '../../core/namespace/namespace-service.ts';
import type { SpaceService } from '../../core/spaces/space-service.ts';
import type { AccessContext } from '../../core/tokens/access.ts';
import type { TokenService } from '../../core/tokens/token-service.ts';
import type { UploadService } from '../../core/uploads/upload-service.ts';
import type { Clock } from '../../ports/clock.ts';

export interface SmhDeps {
  config: Config;
  clock: Clock;
  tokens: TokenService;
  spaces: SpaceService;
  namespace: NamespaceService;
  uploads: UploadService;
}

type Query = Record<string, string | string[] | undefined>;

export function query(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Query)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** SMH action flags: the key's presence is the flag, whatever its value (the JS SDK sends `flag=1`). */
export function flag(request: FastifyRequest, name: string): boolean {
  return Object.hasOwn(request.query as Query, name);
}

/** Booleans arrive as 0/1 or true/false; anything else is a 400 naming the parameter. */
export function boolParam(request: FastifyRequest, name: string): boolean | undefined {
  const raw = query(request, name);
  if (raw === undefined || raw === '') return undefined;
  if (raw === '1' || raw.toLowerCase() === 'true') return true;
  if (raw === '0' || raw.toLowerCase() === 'false') return false;
  throw new AppError('InvalidArgument', `${name} must be 0, 1, true or false.`);
}

export function intParam(
  request: FastifyRequest,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const raw = query(request, name);
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    throw new AppError('InvalidArgument', `${name} must be an integer from ${range.min} to ${range.max}.`);
  }
  return n;
}

export function listParam(request: FastifyRequest, name: string): string[] {
  const raw = query(request, name);
  return raw === undefined
    ? []
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

/**
 * The path after the first `skip` segments of the raw URL path: percent-decoded, then split on `/`
 * with empty segments dropped. The JS SDK sends `encodeURIComponent(path)` (`a%2Fb%2Fc.txt`, root
 * `%2F`, `%2Fdir`), and SMH reads an encoded slash as a separator (ADR 0002 §27).
 */
export function pathSegments(request: FastifyRequest, skip: number): string[] {
  const raw = request.url.split('?', 1)[0]!;
  return raw
    .split('/')
    .slice(skip + 1)
    .flatMap((s) => {
      try {
        return decodeURIComponent(s).split('/');
      } catch {
        throw new AppError('InvalidArgument', 'The path is not valid percent-encoded UTF-8.');
      }
    })
    .filter((s) => s !== '');
}

/** Parses a slash-separated path from a body field (`from`, `copyFrom`). */
export function splitPath(path: unknown, field: string): string[] {
  if (typeof path !== 'string') throw new AppError('InvalidArgument', `${field} must be a path string.`);
  return path.split('/').filter((s) => s !== '');
}

export async function accessOf(
  deps: SmhDeps,
  request: FastifyRequest,
  libraryId: string,
): Promise<AccessContext> {
  return deps.tokens.authenticate({
    libraryId,
    accessToken: query(request, 'access_token'),
    librarySecret: query(request, 'library_secret'),
    userId: query(request, 'user_id'),
  });
}

export function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b))
    throw new AppError('InvalidArgument', 'The request body must be a JSON object.');
  return b as Record<string, unknown>;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AppError('InvalidArgument', `${field} must be a string.`);
  return value;
}

export function strategyParam<T extends string>(
  request: FastifyRequest,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = query(request, 'conflict_resolution_strategy');
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new AppError(
      'InvalidConflictResolutionStrategy',
      `conflict_resolution_strategy must be one of ${allowed.join(', ')}.`,
    );
  }
  return raw as T;
}
