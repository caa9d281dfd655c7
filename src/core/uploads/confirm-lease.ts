// The lease a confirm holds on its task (ADR 0002 §21): the process that moved the task to
// `confirming` renews it while it works; once it runs out, any process may hand the task back to
// `uploading`, so a confirmer that died blocks nobody for longer than the lease.
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { randomString } from '../ids.ts';

/** How long a confirm's lease lasts without renewal. */
export const CONFIRM_LEASE_MS = 20_000;
/** How often a running confirm renews it: several renewals fit in one lease, so a slow write is no loss. */
const RENEW_EVERY_MS = 5_000;
const LOWER36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * Who holds a lease: the node (stable across restarts of one data dir) and this run of it. A restarted
 * node knows that leases of its node with another run are left over from a run that died.
 */
export interface LeaseOwner {
  node: string;
  /** `node/run`, the value stored with the lease. */
  id: string;
}

export function leaseOwner(node: string): LeaseOwner {
  return { node, id: `${node}/${randomString(12, LOWER36)}` };
}

/** The prefix of every lease a node's runs hold. */
export const nodePrefix = (owner: LeaseOwner): string => `${owner.node}/`;

/** Renews the lease of `confirmKey` until the returned function is called. */
export function keepLease(
  deps: { store: MetadataStore; clock: Clock; logger: Logger; owner: LeaseOwner },
  confirmKey: string,
): () => void {
  const timer = setInterval(() => {
    const now = deps.clock.now();
    deps.store.uploadTasks
      .update(confirmKey, 'confirming', { leaseUntil: now + CONFIRM_LEASE_MS }, now, {
        owner: deps.owner.id,
      })
      .catch((err: unknown) => deps.logger.warn({ err, confirmKey }, 'could not renew a confirm lease'));
  }, RENEW_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
