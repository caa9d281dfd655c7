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
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(text)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(text)) return false;
      throw new ConfigError(`${name}: "${raw}" is not a boolean`);
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
 */
export function loadConfig(
  flags: Partial<Record<SettingName, unknown>> = {},
  env: Record<string, string | undefined> = process.env,
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
  checkS3Settings(config);
  outboundPolicy(config);
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
  if (config.s3Endpoint !== '') config.s3Endpoint = httpOrigin('s3-endpoint', config.s3Endpoint);
  if (config.s3PublicEndpoint !== '')
    config.s3PublicEndpoint = httpOrigin('s3-public-endpoint', config.s3PublicEndpoint);
  if (config.s3Prefix.startsWith('/') || config.s3Prefix.includes('//'))
    throw new ConfigError('--s3-prefix: must not start with "/" nor contain "//"');
}

/** Defaults only, with overrides: what tests and tools start from. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}, {}), ...overrides };
}
