// Builds a validated Config from command-line flags, MEDIAHOST_* variables and defaults, in that
// order of precedence. The only module that reads process.env.
import { OutboundPolicy } from '../lib/outbound-policy.ts';
import { type Config, envName, SETTINGS, type SettingName, type SettingSpec } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseValue(name: string, spec: SettingSpec, raw: unknown): unknown {
  switch (spec.type) {
    case 'string': {
      const value = String(raw);
      if (spec.nonEmpty && value.trim() === '') throw new ConfigError(`${name}: must not be empty`);
      if (spec.choices && !spec.choices.includes(value)) {
        throw new ConfigError(`${name}: "${value}" is not one of ${spec.choices.join(', ')}`);
      }
      return value;
    }
    case 'integer': {
      const text = String(raw).trim();
      if (!/^-?\d+$/.test(text)) throw new ConfigError(`${name}: "${text}" is not an integer`);
      const value = Number(text);
      if (!Number.isSafeInteger(value)) throw new ConfigError(`${name}: ${text} is out of range`);
      if (spec.min !== undefined && value < spec.min)
        throw new ConfigError(`${name}: ${value} is below ${spec.min}`);
      if (spec.max !== undefined && value > spec.max)
        throw new ConfigError(`${name}: ${value} is above ${spec.max}`);
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(text)) return true;
      if (['0', 'false', 'no', 'off'].includes(text)) return false;
      throw new ConfigError(`${name}: "${raw}" is not a boolean (true or false)`);
    }
    case 'list': {
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    }
  }
}

/**
 * @param flags values given on the command line, keyed by setting name (undefined = not given)
 * @param env the environment to read MEDIAHOST_* from
 * @param warn told about settings that are accepted but probably not what the operator meant
 */
export function loadConfig(
  flags: Partial<Record<SettingName, unknown>> = {},
  env: Record<string, string | undefined> = process.env,
  warn: (message: string) => void = () => {},
): Config {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    const fromFlag = flags[name];
    const fromEnv = env[envName(spec)];
    if (fromFlag !== undefined) out[name] = parseValue(`--${spec.flag}`, spec, fromFlag);
    else if (fromEnv !== undefined) out[name] = parseValue(envName(spec), spec, fromEnv);
    else out[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  const config = out as Config;
  if (config.publicUrl !== '') config.publicUrl = httpOrigin('public-url', config.publicUrl);
  if (config.databaseUrl !== '' && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new ConfigError('--database-url: only postgres:// URLs are supported');
  }
  checkPartSizes(config);
  checkCorsOrigins(config.corsOrigins);
  checkS3Settings(config);
  outboundPolicy(config);
  for (const message of configWarnings(flags, env, config)) warn(message);
  return config;
}

/** The allow-list of --outbound-allow; a ConfigError names an entry that is no range, address or name. */
export function outboundPolicy(config: Pick<Config, 'outboundAllow'>): OutboundPolicy {
  try {
    return new OutboundPolicy(config.outboundAllow);
  } catch (err) {
    throw new ConfigError(`--outbound-allow: ${(err as Error).message}`);
  }
}

const label = (name: SettingName): string => `--${SETTINGS[name].flag} (${envName(SETTINGS[name])})`;

function checkPartSizes(config: Config): void {
  for (const name of ['minPartSizeCos', 'minPartSizeS3'] as const) {
    if (config[name] > config.maxPartSize) {
      throw new ConfigError(
        `${label(name)}: ${config[name]} is larger than ${label('maxPartSize')} ${config.maxPartSize}; no multipart upload could complete`,
      );
    }
  }
}

/** `*`, or origins as browsers send them: scheme://host[:port], no path (a `*` label matches any). */
function checkCorsOrigins(origins: readonly string[]): void {
  for (const origin of origins) {
    if (origin === '*') continue;
    if (!/^https?:\/\/(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i.test(origin)) {
      throw new ConfigError(
        `${label('corsOrigins')}: "${origin}" is not an origin; give scheme://host[:port] without a path or trailing slash, or *`,
      );
    }
  }
}

/** Variables mediahost reads that are not settings: the V8 switch and the file commands' connection. */
const OTHER_VARIABLES = new Set([
  'MEDIAHOST_NO_V8_FLAGS',
  ...['URL', 'LIBRARY_ID', 'LIBRARY_SECRET', 'TOKEN', 'SPACE_ID', 'CLI_CONFIG'].map((n) => `MEDIAHOST_${n}`),
]);

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/** Settings given that will be ignored or are misspelt: the start goes on, but the operator is told. */
function configWarnings(
  flags: Partial<Record<SettingName, unknown>>,
  env: Record<string, string | undefined>,
  config: Config,
): string[] {
  const warnings: string[] = [];
  const specs = Object.entries(SETTINGS) as [SettingName, SettingSpec][];
  const known = new Set([...specs.map(([, spec]) => envName(spec)), ...OTHER_VARIABLES]);
  for (const name of Object.keys(env)
    .filter((k) => k.startsWith('MEDIAHOST_') && !known.has(k))
    .sort()) {
    const nearest = [...known]
      .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
      .sort((a, b) => a.distance - b.distance)[0];
    const hint = nearest && nearest.distance <= 3 ? ` (did you mean ${nearest.candidate}?)` : '';
    warnings.push(`${name} is not a mediahost setting and is ignored${hint}`);
  }
  if (config.blob !== 's3') {
    const given = specs.filter(
      ([name, spec]) =>
        name.startsWith('s3') && (flags[name] !== undefined || env[envName(spec)] !== undefined),
    );
    if (given.length > 0) {
      warnings.push(
        `${given.map(([name]) => label(name)).join(', ')} ${given.length === 1 ? 'is' : 'are'} ignored with --blob ${config.blob}; add --blob s3 (MEDIAHOST_BLOB=s3) to use the store`,
      );
    }
  }
  return warnings;
}

function httpOrigin(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--${flag}: "${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`--${flag}: only http and https URLs are supported`);
  if (url.pathname !== '/' || url.search !== '')
    throw new ConfigError(`--${flag}: give scheme, host and port only, without a path`);
  return url.origin;
}

/**
 * With `--blob s3`, the settings the external store needs must be there and well-formed; endpoints are
 * normalised to their origin. Also run by the container, for configs built without loadConfig.
 */
export function checkS3Settings(config: Config): void {
  if (config.blob !== 's3') return;
  const missing = (['s3Bucket', 's3AccessKeyId', 's3SecretAccessKey'] as const)
    .filter((name) => config[name] === '')
    .map((name) => `--${SETTINGS[name].flag} (${envName(SETTINGS[name])})`);
  if (missing.length > 0) throw new ConfigError(`--blob s3 needs ${missing.join(', ')}`);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(config.s3Bucket))
    throw new ConfigError(`--s3-bucket: "${config.s3Bucket}" is not a valid bucket name`);
  // Region names of AWS, COS, MinIO and Ceph: lower-case words joined by hyphens (us-east-1, ap-guangzhou).
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(config.s3Region))
    throw new ConfigError(`--s3-region: "${config.s3Region}" is not a region name (such as us-east-1)`);
  if (config.s3Endpoint !== '') config.s3Endpoint = httpOrigin('s3-endpoint', config.s3Endpoint);
  if (config.s3PublicEndpoint !== '')
    config.s3PublicEndpoint = httpOrigin('s3-public-endpoint', config.s3PublicEndpoint);
  if (config.s3Prefix.startsWith('/') || config.s3Prefix.includes('//'))
    throw new ConfigError('--s3-prefix: must not start with "/" nor contain "//"');
}

/** Whether this process was started by an npm script or `npx` (whose shell would orphan it on SIGTERM). */
export function startedByNpm(env: Record<string, string | undefined> = process.env): boolean {
  return env.npm_lifecycle_event !== undefined || env.npm_command !== undefined;
}

/** Defaults only, with overrides: what tests and tools start from. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}, {}), ...overrides };
}
