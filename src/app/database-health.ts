// The database check of /healthz: one cheap read with a deadline, so a load balancer's probe gets an
// answer (and the reason) in seconds even when the database hangs instead of refusing.
import type { MetadataStore } from '../ports/metadata-store.ts';

export type DatabaseHealth = { status: 'ok' } | { status: 'unavailable'; reason: string };

const PROBE_TIMEOUT_MS = 3000;

/** The innermost message of an error chain: the driver's words, not the 503 that wraps them. */
function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  if (e instanceof AggregateError && e.errors[0] instanceof Error) e = e.errors[0];
  return e instanceof Error ? e.message || String((e as { code?: unknown }).code ?? e.name) : String(e);
}

export async function probeDatabase(
  store: MetadataStore,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<DatabaseHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.settings.get('appId'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok' };
  } catch (err) {
    return { status: 'unavailable', reason: rootMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}
