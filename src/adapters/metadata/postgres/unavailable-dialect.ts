// Connection failures of PostgreSQL (a restart, a terminated backend, a refused or timed-out connect)
// become AppError 'ServiceUnavailable': every surface answers them with its 503, and workers back off
// and retry. Other database errors pass through unchanged.
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { AppError } from '../../../core/errors.ts';

/** SQLSTATEs of a lost or refused connection: class 08, admin/crash shutdown, starting up, full. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// The pg driver reports a dead socket or an exhausted connect wait with plain Errors.
const UNAVAILABLE_MESSAGE =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Query read timeout/i;

export const DATABASE_UNAVAILABLE_MESSAGE = 'The metadata database is unavailable; retry later.';

/** Whether `err` says the database cannot be reached now (rather than that a statement was wrong). */
export function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code)))
    return true;
  if (err instanceof AggregateError && err.errors.some(isConnectionFailure)) return true;
  return UNAVAILABLE_MESSAGE.test(err.message);
}

function mapped(err: unknown): unknown {
  return isConnectionFailure(err)
    ? new AppError('ServiceUnavailable', DATABASE_UNAVAILABLE_MESSAGE, { cause: err })
    : err;
}

async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw mapped(err);
  }
}

class GuardedConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;

  constructor(inner: DatabaseConnection) {
    this.inner = inner;
  }

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return guard(() => this.inner.executeQuery<R>(compiled));
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiled, chunkSize);
    } catch (err) {
      throw mapped(err);
    }
  }
}

const innerOf = (c: DatabaseConnection): DatabaseConnection => (c as GuardedConnection).inner;

class GuardedDriver implements Driver {
  readonly #d: Driver;

  constructor(inner: Driver) {
    this.#d = inner;
  }

  init(): Promise<void> {
    return guard(() => this.#d.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new GuardedConnection(await guard(() => this.#d.acquireConnection()));
  }

  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return guard(() => this.#d.beginTransaction(innerOf(c), settings));
  }

  commitTransaction(c: DatabaseConnection): Promise<void> {
    return guard(() => this.#d.commitTransaction(innerOf(c)));
  }

  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return guard(() => this.#d.rollbackTransaction(innerOf(c)));
  }

  savepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return guard(async () => this.#d.savepoint!(innerOf(c), name, compile));
  }

  rollbackToSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return guard(async () => this.#d.rollbackToSavepoint!(innerOf(c), name, compile));
  }

  releaseSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return guard(async () => this.#d.releaseSavepoint!(innerOf(c), name, compile));
  }

  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.#d.releaseConnection(innerOf(c));
  }

  destroy(): Promise<void> {
    return this.#d.destroy();
  }
}

/** `dialect` whose connection failures surface as AppError 'ServiceUnavailable'. */
export function unavailableAware(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new GuardedDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}
