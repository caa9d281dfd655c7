// Failures at start that an operator fixes in a setting (the port is taken, the database does not
// answer, the data dir cannot be written) as one line naming that setting, instead of a stack trace.
import { resolve, sep } from 'node:path';
import { SchemaTooNewError } from '../adapters/metadata/migrations.ts';
import { isConnectionFailure } from '../adapters/metadata/postgres/unavailable-dialect.ts';
import { type Config, envName, SETTINGS, type SettingName } from '../config/schema.ts';

type SystemError = Error & {
  code?: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
};

const label = (name: SettingName, value?: string | number): string =>
  `--${SETTINGS[name].flag}${value === undefined ? '' : ` ${value}`} (${envName(SETTINGS[name])})`;

/** SQLSTATEs of a database that answers but will not have us: bad password, no such role or database. */
const REFUSED_SQLSTATE = new Set(['28000', '28P01', '3D000']);

const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a path component is not a directory',
  ENOSPC: 'no space left on the device',
  EEXIST: 'a file is in the way',
};

/** The database URL without its password, to show where mediahost tried to connect. */
function shownDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'the configured database';
  }
}

function innermost(err: unknown): SystemError | undefined {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  if (e instanceof AggregateError && e.errors[0] instanceof Error) e = e.errors[0];
  return e instanceof Error ? (e as SystemError) : undefined;
}

/** One line naming the setting behind `err`, or undefined when no setting explains it. */
export function describeStartFailure(err: unknown, config: Config): string | undefined {
  const e = innermost(err);
  if (!e) return undefined;
  if (e.syscall === 'listen' || e.syscall === 'bind') {
    const where = `${config.host}:${config.port}`;
    if (e.code === 'EADDRINUSE') return `${label('port', config.port)}: address ${where} is already in use`;
    if (e.code === 'EACCES')
      return `${label('port', config.port)}: no permission to listen on ${where} (ports below 1024 need privileges)`;
    if (e.code === 'EADDRNOTAVAIL')
      return `${label('host', config.host)}: ${config.host} is not an address of this machine`;
  }
  if (e.syscall === 'getaddrinfo' && config.databaseUrl === '')
    return `${label('host', config.host)}: cannot resolve ${config.host} (${e.code})`;
  if (config.databaseUrl !== '' && (isConnectionFailure(e) || REFUSED_SQLSTATE.has(e.code ?? ''))) {
    return `${label('databaseUrl')}: cannot use the database at ${shownDatabase(config.databaseUrl)}: ${e.message}`;
  }
  // Migrated by a newer release (docs/deploy.md, "Upgrading"): no setting of this one can fix it.
  if (e instanceof SchemaTooNewError) {
    return config.databaseUrl === ''
      ? `${label('dataDir', config.dataDir)}: ${e.message}`
      : `${label('databaseUrl')}: ${shownDatabase(config.databaseUrl)}: ${e.message}`;
  }
  const dataDir = resolve(config.dataDir);
  const path = e.path === undefined ? undefined : resolve(e.path);
  // The failing path is in the data dir, or is one of its parents (a file where a directory should be).
  const inDataDir =
    path !== undefined && ((path + sep).startsWith(dataDir + sep) || (dataDir + sep).startsWith(path + sep));
  const fsReason = e.code !== undefined ? FS_REASONS[e.code] : undefined;
  if (inDataDir && fsReason) return `${label('dataDir', config.dataDir)}: ${fsReason}: ${e.path}`;
  if (e.code === 'ERR_SQLITE_ERROR' && config.databaseUrl === '')
    return `${label('dataDir', config.dataDir)}: cannot open the SQLite database there: ${e.message}`;
  return undefined;
}
