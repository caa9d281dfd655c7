// What every kysely repository shares: the handle (root or transaction), the dialect's traits, and the
// batching of long key lists. The only dialect difference the repositories know is whether rows can be
// locked (SELECT … FOR UPDATE); SQLite does not need it because its transactions take the write lock
// up front (BEGIN IMMEDIATE).
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../tables.ts';

export type Db = Kysely<Database> | Transaction<Database>;

export interface DialectTraits {
  /** SELECT … FOR UPDATE is available (PostgreSQL). */
  rowLocks: boolean;
}

/** Rows per INSERT statement: keeps every dialect below its bound-parameter limit. */
export const INSERT_CHUNK = 400;

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const json = (value: unknown): string => JSON.stringify(value);
