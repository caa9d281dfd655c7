// Renders docs/configuration.md from the settings table, so the documentation cannot drift from the
// code (a test compares the file with this output; `npm run docs` rewrites it).
import { envName, SETTINGS, type SettingSpec } from './schema.ts';

function shownDefault(spec: SettingSpec): string {
  if (Array.isArray(spec.default))
    return spec.default.length === 0 ? '(empty)' : `\`${spec.default.join(',')}\``;
  if (spec.default === '') return '(empty)';
  return `\`${String(spec.default)}\``;
}

/** The accepted range of an integer, or that a string must not be empty. */
function bounds(spec: SettingSpec): string {
  if (spec.nonEmpty) return ' Must not be empty.';
  if (spec.type !== 'integer') return '';
  if (spec.min !== undefined && spec.max !== undefined) return ` Range: ${spec.min} to ${spec.max}.`;
  if (spec.min !== undefined) return ` Minimum: ${spec.min}.`;
  return '';
}

export function renderConfigurationDoc(): string {
  const rows = Object.values(SETTINGS as Record<string, SettingSpec>).map((spec) => {
    const choices = spec.choices ? ` One of: ${spec.choices.map((c) => `\`${c}\``).join(', ')}.` : '';
    const secret = spec.secret ? ' Secret: logged as `[REDACTED]`.' : '';
    return `| \`--${spec.flag}\` | \`${envName(spec)}\` | ${spec.type} | ${shownDefault(spec)} | ${spec.description}${choices}${bounds(spec)}${secret} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs`; edit the schema, not this file. -->',
    '',
    'Every setting can be given as a command-line flag or as an environment variable. A flag wins over',
    'the variable, and the variable over the default. Booleans accept `true/false`, `1/0`, `yes/no`',
    '(an empty value is an error); lists are comma-separated. `mediahost serve --help` prints the same',
    'table. A value out of range stops the start with a message naming the setting; a `MEDIAHOST_*`',
    'variable that is no setting, and `s3-*` settings given without `--blob s3`, are warned about.',
    '',
    '`serve` and `worker` log their version and the effective configuration when they start; settings',
    'marked secret are logged as `[REDACTED]` (a URL keeps its scheme, user, host, port and path, without its',
    'password and query).',
    '',
    'With no settings at all, `mediahost serve` (what `npm start` runs) listens on 127.0.0.1:8080, keeps',
    'its SQLite database and the stored bytes under `./data`, and creates a default library on first start.',
    '',
    '| flag | variable | type | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    '## Garbage collector flags',
    '',
    '`mediahost serve` starts Node with `--max-semi-space-size=1` (it replaces itself once at start, keeping',
    "its process id) and sets V8's `--external-memory-accounted-in-global-limit`: a server that streams",
    "request bodies allocates one buffer per socket read, and with V8's defaults those buffers were",
    'reclaimed by full collections instead of young-generation ones (bench/README.md has the figures).',
    'The restart also sets `MALLOC_ARENA_MAX=2` unless the variable is already set. A young-generation',
    'size given in `NODE_OPTIONS` or on the node command line is kept as given (and there is no restart).',
    "`MEDIAHOST_NO_V8_FLAGS=1` starts with V8's defaults.",
    '',
    '## File commands',
    '',
    '`mediahost upload`, `download`, `ls`, `mv`, `rm`, `recycle-bin` and `token` are clients of a running',
    'server and take none of the settings above. They read `MEDIAHOST_URL`, `MEDIAHOST_LIBRARY_ID`,',
    '`MEDIAHOST_LIBRARY_SECRET`, `MEDIAHOST_TOKEN`, `MEDIAHOST_SPACE_ID` and `MEDIAHOST_CLI_CONFIG` (or the',
    'flags of the same names, or `~/.config/mediahost/cli.json`); `serve` does not warn about them.',
    'See [adr/0008-file-cli.md](adr/0008-file-cli.md).',
    '',
  ].join('\n');
}
