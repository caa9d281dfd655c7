// Which API surface a request belongs to, from its target and Host alone, so requests fastify never
// routes (parser errors, bad URLs, unknown paths) are still answered in their surface's dialect.
import { hostnameOf, virtualHostBucket } from '../surfaces/object/target.ts';

export type Surface = 'object' | 'smh' | 'vod' | 'health' | 'openapi';

/**
 * SMH under /api, VOD under /v1, /v1.0 and /v2; `/healthz` and `/openapi.json` are the server's only as
 * whole paths. No bucket can be named either: bucket names end in `-<APPID>` and hold no dot.
 */
const PATH_SURFACES: readonly [RegExp, Surface][] = [
  [/^\/healthz$/, 'health'],
  [/^\/openapi\.json$/, 'openapi'],
  [/^\/api(\/|$)/, 'smh'],
  [/^\/v(1|1\.0|2)(\/|$)/, 'vod'],
];

export function surfaceOf(
  target: string,
  host: string | undefined,
  vhostSuffixes: readonly string[],
): Surface {
  // A Host naming a bucket (virtual-host style) makes every path an object key.
  if (virtualHostBucket(hostnameOf(host), vhostSuffixes) !== undefined) return 'object';
  const path = target.split('?', 1)[0]!;
  for (const [pattern, surface] of PATH_SURFACES) if (pattern.test(path)) return surface;
  return 'object';
}
