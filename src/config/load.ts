// Builds a validated Config from command-line flags, MEDIAHOST_* variables and defaults, in that
// order of precedence. The only module that reads process.env.
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
  if (config.publicUrl !== '') {
    let url: URL;
    try {
      url = new URL(config.publicUrl);
    } catch {
      throw new ConfigError(`--public-url: "${config.publicUrl}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('--public-url: only http and https URLs are supported');
    }
    config.publicUrl = url.origin;
  }
  if (config.databaseUrl !== '' && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new ConfigError('--database-url: only postgres:// URLs are supported');
  }
  return config;
}

/** Defaults only, with overrides: what tests and tools start from. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}, {}), ...overrides };
}
