// The effective configuration as it may be logged: settings marked `secret` in the schema are hidden,
// so a start log shows what a process runs with and never a password or key.
import { type Config, SETTINGS, type SettingName, type SettingSpec } from './schema.ts';

/** The mask of a hidden value, the same in the start log and in every other log line (app/redact.ts). */
export const REDACTED = '[REDACTED]';

/** Schemes of service URLs, whose locating parts are worth seeing; any other secret is hidden whole. */
const URL_SCHEMES = new Set(['postgres:', 'postgresql:', 'http:', 'https:']);

/** A service URL keeps what locates it (scheme, user, host, port, path); anything else is hidden. */
function redactSecret(value: string): string {
  if (value === '') return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return REDACTED;
  }
  if (!URL_SCHEMES.has(url.protocol) || url.host === '') return REDACTED;
  if (url.password !== '') url.password = REDACTED;
  const query = url.search === '' ? '' : `?${REDACTED}`;
  const hash = url.hash === '' ? '' : `#${REDACTED}`;
  url.search = '';
  url.hash = '';
  // The URL class percent-encodes the mask it was given; show it as written.
  return `${url.href.replace(encodeURIComponent(REDACTED), REDACTED)}${query}${hash}`;
}

export function loggableConfig(config: Config): Record<SettingName, unknown> {
  const out = {} as Record<SettingName, unknown>;
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    const value = config[name];
    out[name] = spec.secret ? redactSecret(String(value)) : value;
  }
  return out;
}
