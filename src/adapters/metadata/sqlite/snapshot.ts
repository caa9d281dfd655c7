// Consistent copies of a live SQLite database for `mediahost backup`: VACUUM INTO reads one snapshot
// of the database (WAL lets the server keep writing meanwhile) into a new, compact file.
import { DatabaseSync } from 'node:sqlite';

/** Writes a snapshot of the database at `path` to `target` (which must not exist). */
export function vacuumInto(path: string, target: string, busyTimeoutMs = 10_000): void {
  const db = new DatabaseSync(path, { timeout: busyTimeoutMs });
  try {
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
}

/** Every blob key a part or an object segment of the database at `path` points to. */
export function blobKeysIn(path: string): Set<string> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db
      .prepare('SELECT blob_key FROM object_segments UNION SELECT blob_key FROM parts')
      .all() as { blob_key: string }[];
    return new Set(rows.map((r) => r.blob_key));
  } finally {
    db.close();
  }
}

/** A setting stored in the database at `path`. */
export function settingIn(path: string, name: string): string | undefined {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare('SELECT value FROM settings WHERE name = ?').get(name) as
      | { value: string }
      | undefined;
    return row?.value;
  } finally {
    db.close();
  }
}
