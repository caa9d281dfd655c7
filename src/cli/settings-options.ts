// Settings as command-line options: every setting of src/config/schema.ts is a flag and a MEDIAHOST_*
// variable; flags win over variables, variables over defaults.
import { type Command, Option } from 'commander';
import { loadConfig } from '../config/load.ts';
import { type Config, envName, SETTINGS, type SettingName, type SettingSpec } from '../config/schema.ts';

export function settingOptions(command: Command, names: readonly SettingName[]): Command {
  for (const name of names) {
    const spec: SettingSpec = SETTINGS[name];
    const shown = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
    const option = new Option(
      `--${spec.flag} <${spec.type === 'boolean' ? 'true|false' : 'value'}>`,
      `${spec.description} (default: ${shown === '' ? '""' : shown}; env ${envName(spec)})`,
    );
    if (spec.choices) option.choices(spec.choices);
    command.addOption(option);
  }
  return command;
}

export const ALL_SETTINGS = Object.keys(SETTINGS) as SettingName[];
/** What commands that only read and write the metadata database take. */
export const STORE_SETTINGS: SettingName[] = ['dataDir', 'databaseUrl', 'logLevel', 'logFormat'];
/** The metadata database and where bytes live: for commands that also remove stored files. */
export const STORAGE_SETTINGS: SettingName[] = [
  ...STORE_SETTINGS,
  ...ALL_SETTINGS.filter((name) => name === 'blob' || name.startsWith('s3')),
];

/** The settings of the command being run, for naming the one behind a failure at start. */
let lastConfig: Config | undefined;

export const activeConfig = (): Config | undefined => lastConfig;

export function configFrom(options: Record<string, unknown>): Config {
  const flags: Partial<Record<SettingName, unknown>> = {};
  for (const name of ALL_SETTINGS) if (options[name] !== undefined) flags[name] = options[name];
  lastConfig = loadConfig(flags, undefined, (message) =>
    process.stderr.write(`mediahost: warning: ${message}\n`),
  );
  return lastConfig;
}
