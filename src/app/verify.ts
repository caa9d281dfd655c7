// `mediahost verify`: compares the database with the blob store. Rows whose blob is missing lose
// data (exit code 1); blobs no row knows are only wasted space (the sweeper's orphans, or a write
// still in flight when they are recent). Safe while the server runs: a candidate is reported only
// after a second look confirms it, since a blob key no row points to is never pointed to again.
import type { BlobKey } from '../core/ids.ts';
import type { BlobRef } from '../core/objects/model.ts';
import type { Container } from './container.ts';
import { DEPLOYMENT_ID, databaseDescription } from './deployment.ts';

const PAGE = 1000;

export interface VerifyReport {
  database: string;
  blobStore: string;
  /** Whose marker the store carries: this database's, another's, or none. */
  marker: { state: 'this-database' | 'another-database' | 'absent'; deploymentId?: string };
  /** Rows that point to a blob, and blobs in the store. */
  rows: number;
  blobs: number;
  missing: BlobRef[];
  strays: { blobKey: BlobKey; modifiedAt: string }[];
}

export async function verify(container: Container): Promise<VerifyReport> {
  const { blobs, store, config, deployment } = container;
  const inStore = new Map<BlobKey, number>();
  for await (const blob of blobs.list()) inStore.set(blob.key, blob.modifiedAt);

  const known = new Set<BlobKey>();
  const candidates: BlobRef[] = [];
  let rows = 0;
  for (let after = ''; ; ) {
    const page = await store.blobRefs.list(after, PAGE);
    if (page.length === 0) break;
    rows += page.length;
    for (const ref of page) {
      known.add(ref.blobKey);
      if (!inStore.has(ref.blobKey)) candidates.push(ref);
    }
    after = page.at(-1)!.blobKey;
  }
  const missing: BlobRef[] = [];
  for (const ref of candidates) {
    // Pointed to, then absent, then still pointed to: pointed to all along, so never deleted by us.
    if (!(await store.blobRefs.referenced([ref.blobKey])).has(ref.blobKey)) continue;
    if ((await blobs.size(ref.blobKey)) !== undefined) continue;
    if ((await store.blobRefs.referenced([ref.blobKey])).has(ref.blobKey)) missing.push(ref);
  }

  const unknown = [...inStore.keys()].filter((k) => !known.has(k));
  const strays: VerifyReport['strays'] = [];
  for (let i = 0; i < unknown.length; i += PAGE) {
    const batch = unknown.slice(i, i + PAGE);
    // A write that committed its row since the listing is not a stray.
    const referenced = await store.blobRefs.referenced(batch);
    for (const key of batch)
      if (!referenced.has(key))
        strays.push({ blobKey: key, modifiedAt: new Date(inStore.get(key)!).toISOString() });
  }

  const id = await store.settings.get(DEPLOYMENT_ID);
  const text = await deployment.marker.read();
  let marker: VerifyReport['marker'] = { state: 'absent' };
  if (text !== undefined) {
    let found: string | undefined;
    try {
      found = (JSON.parse(text) as { deploymentId?: string }).deploymentId;
    } catch {
      found = undefined;
    }
    marker = {
      state: found !== undefined && found === id ? 'this-database' : 'another-database',
      ...(found !== undefined ? { deploymentId: found } : {}),
    };
  }
  return {
    database: databaseDescription(config),
    blobStore: deployment.marker.location,
    marker,
    rows,
    blobs: inStore.size,
    missing,
    strays,
  };
}

/** The report as lines for a terminal. */
export function formatVerifyReport(report: VerifyReport): string {
  const owner =
    report.marker.state === 'this-database'
      ? "marked as this database's"
      : report.marker.state === 'absent'
        ? 'not marked yet'
        : `marked as ANOTHER database's (deployment ${report.marker.deploymentId ?? 'unknown'})`;
  const lines = [
    `database    ${report.database}`,
    `blob store  ${report.blobStore} (${owner})`,
    `rows        ${report.rows} point to blobs; the store holds ${report.blobs}`,
    `missing     ${report.missing.length} rows whose blob is gone`,
    ...report.missing.map(
      (r) =>
        `  ${r.bucket}/${r.key}${r.part ? ` part ${r.part.partNumber} of upload ${r.part.uploadId}` : ''}: blob ${r.blobKey} (${r.size} bytes)`,
    ),
    `strays      ${report.strays.length} blobs no row knows (the sweeper removes them after --orphan-grace-seconds)`,
    ...report.strays.map((s) => `  ${s.blobKey} (modified ${s.modifiedAt})`),
  ];
  return `${lines.join('\n')}\n`;
}
