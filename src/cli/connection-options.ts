// Where the file commands connect and as whom: flags, then MEDIAHOST_* variables (read by commander),
// then a JSON config file (`~/.config/mediahost/cli.json` or --config). ADR 0008 §2-4.
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { usageError } from './cli-error.ts';

/** What `mediahost serve` listens on without settings: the file commands' default server. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

export type Credential = { kind: 'token'; token: string } | { kind: 'secret'; librarySecret: string };

export interface Connection {
  url: string;
  libraryId: string;
  spaceId: string;
  /** Undefined when neither a token nor a secret was given (public-read spaces). */
  credential: Credential | undefined;
}

const CONFIG_KEYS = ['url', 'libraryId', 'librarySecret', 'token', 'spaceId'] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];
type ConfigFile = Partial<Record<ConfigKey, string>>;

/** The variables of the file commands (not settings of serve: src/config/load.ts knows them apart). */
export const CONNECTION_VARIABLES = {
  url: 'MEDIAHOST_URL',
  libraryId: 'MEDIAHOST_LIBRARY_ID',
  librarySecret: 'MEDIAHOST_LIBRARY_SECRET',
  token: 'MEDIAHOST_TOKEN',
  space: 'MEDIAHOST_SPACE_ID',
  config: 'MEDIAHOST_CLI_CONFIG',
} as const;

export const defaultConfigPath = (): string => join(homedir(), '.config', 'mediahost', 'cli.json');

export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--url <url>', `server URL (default: ${DEFAULT_URL}, where serve listens)`).env(
        CONNECTION_VARIABLES.url,
      ),
    )
    .addOption(new Option('--library-id <id>', 'library id').env(CONNECTION_VARIABLES.libraryId))
    .addOption(
      new Option(
        '--library-secret <secret>',
        'library secret (better from the variable: a flag shows in ps)',
      ).env(CONNECTION_VARIABLES.librarySecret),
    )
    .addOption(
      new Option('--token <token>', 'access token, instead of the library secret').env(
        CONNECTION_VARIABLES.token,
      ),
    )
    .addOption(
      new Option('--space <id>', 'tenant space of a multi-tenant library (default: -)').env(
        CONNECTION_VARIABLES.space,
      ),
    )
    .addOption(
      new Option('--config <path>', `config file (default: ${defaultConfigPath()})`).env(
        CONNECTION_VARIABLES.config,
      ),
    );
}

function readConfigFile(path: string, explicit: boolean): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return {};
    throw usageError(`config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw usageError(`config file ${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw usageError(`config file ${path} must hold a JSON object`);
  const out: ConfigFile = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key))
      throw usageError(`config file ${path}: unknown key "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
    if (typeof value !== 'string' || value === '')
      throw usageError(`config file ${path}: "${key}" must be a non-empty string`);
    out[key as ConfigKey] = value;
  }
  if (out.librarySecret !== undefined || out.token !== undefined) {
    // As ssh does with keys: a secret others can read is refused, not used.
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0)
      throw usageError(
        `config file ${path} holds a secret and others may read it (mode ${mode.toString(8)}): chmod 600 ${path}`,
      );
  }
  return out;
}

/** Flags (2) beat variables (1), which beat the config file (0). */
function rank(command: Command, key: string): number {
  const source = command.getOptionValueSource(key);
  return source === 'cli' ? 2 : source === 'env' ? 1 : 0;
}

function normalUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--url ${text} is not a URL; give e.g. ${DEFAULT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(`--url ${text}: only http and https are spoken`);
  if (url.search || url.hash || url.username)
    throw usageError(`--url ${text}: give the server's address without query, fragment or user`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The connection of a command, or a usage error naming what is missing. */
export function resolveConnection(
  command: Command,
  notice: (text: string) => void,
  options: { needCredential?: boolean } = {},
): Connection {
  // An empty variable counts as unset, as in `MEDIAHOST_URL= mediahost ls`.
  const opts = Object.fromEntries(
    Object.entries(command.opts()).filter(([, value]) => value !== ''),
  ) as Partial<Record<'url' | 'libraryId' | 'librarySecret' | 'token' | 'space' | 'config', string>>;
  const file = readConfigFile(opts.config ?? defaultConfigPath(), opts.config !== undefined);
  let url = opts.url ?? file.url;
  if (url === undefined) {
    url = DEFAULT_URL;
    notice(`no --url, MEDIAHOST_URL or config url: using ${DEFAULT_URL}, where mediahost serve listens`);
  }
  const libraryId = opts.libraryId ?? file.libraryId;
  if (!libraryId)
    throw usageError(
      'no library: give --library-id or MEDIAHOST_LIBRARY_ID (serve printed it at first start; mediahost library list shows them)',
    );
  const token = opts.token ?? file.token;
  const secret = opts.librarySecret ?? file.librarySecret;
  let credential: Credential | undefined;
  // The credential given at the higher level wins; at the same level the token (it grants less).
  if (
    token !== undefined &&
    (secret === undefined || rank(command, 'token') >= rank(command, 'librarySecret'))
  )
    credential = { kind: 'token', token };
  else if (secret !== undefined) credential = { kind: 'secret', librarySecret: secret };
  if (!credential && options.needCredential !== false)
    throw usageError(
      'no credential: give the library secret (MEDIAHOST_LIBRARY_SECRET) or an access token (--token, MEDIAHOST_TOKEN)',
    );
  return { url: normalUrl(url), libraryId, spaceId: opts.space ?? file.spaceId ?? '-', credential };
}
