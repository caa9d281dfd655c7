// kysely dialect over Node's built-in node:sqlite (no native addon). One connection guarded by a FIFO
// mutex; transactions are BEGIN IMMEDIATE so a second process (the CLI) waits on the busy timeout
// instead of failing on a read-to-write upgrade. Prepared statements are cached by SQL text. A full
// disk ("database or disk is full") becomes AppError InsufficientStorage.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { insufficientStorage } from '../../../core/free-space.ts';
import { ConnectionMutex } from '../connection-mutex.ts';

const STATEMENT_CACHE_SIZE = 512;
/** SQLite's result code for "database or disk is full" (it has no extended codes). */
const SQLITE_FULL = 13;

function toSqliteValue(value: unknown): SQLInputValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`unsupported SQLite parameter of type ${typeof value}`);
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #prepare(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (stmt) {
      // refresh LRU position
      this.#statements.delete(sql);
      this.#statements.set(sql, stmt);
      return stmt;
    }
    stmt = this.#db.prepare(sql);
    this.#statements.set(sql, stmt);
    if (this.#statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) this.#statements.delete(oldest);
    }
    return stmt;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const stmt = this.#prepare(compiled.sql);
      const params = compiled.parameters.map(toSqliteValue);
      if (stmt.columns().length > 0) {
        return { rows: stmt.all(...params) as R[] };
      }
      const { changes, lastInsertRowid } = stmt.run(...params);
      return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
    } catch (err) {
      throw (err as { errcode?: number }).errcode === SQLITE_FULL ? insufficientStorage(err) : err;
    }
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered by this driver
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported by the node:sqlite driver');
  }

  clearCache(): void {
    this.#statements.clear();
  }
}

class NodeSqliteDriver implements Driver {
  readonly #db: DatabaseSync;
  readonly #mutex = new ConnectionMutex();
  readonly #connection: NodeSqliteConnection;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#connection = new NodeSqliteConnection(db);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // SQLite may have rolled back already (SQLITE_FULL can end the transaction): a ROLLBACK then
    // fails and its error would hide the one that matters. (isTransaction is undefined before Node 22.16.)
    if (this.#db.isTransaction === false) return;
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    this.#connection.clearCache();
    if (this.#db.isOpen) this.#db.close();
  }
}

export class NodeSqliteDialect implements Dialect {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#db);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  // biome-ignore lint/suspicious/noExplicitAny: kysely's introspector takes any schema
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
