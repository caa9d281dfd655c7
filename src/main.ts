// The mediahost command line: serve, worker, migrate, library create. Every setting is a flag and a
// MEDIAHOST_* variable (src/config/schema.ts); flags win over variables, variables over defaults.
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { sqlitePathFor } from './adapters/metadata/sqlite/store.ts';
import { backup, restore } from './app/backup.ts';
import { type Container, createContainer, createLogger, openMetadataStore } from './app/container.ts';
import { SWEEPER_PAUSED } from './app/deployment.ts';
import { claimBlobStore, startServer } from './app/lifecycle.ts';
import { formatVerifyReport, verify } from './app/verify.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { type Config, envName, SETTINGS, type SettingName, type SettingSpec } from './config/schema.ts';
import { isAppError } from './core/errors.ts';
import type { CreatedLibrary } from './core/libraries/library-service.ts';

function settingOptions(command: Command, names: readonly SettingName[]): Command {
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

const ALL_SETTINGS = Object.keys(SETTINGS) as SettingName[];
const STORE_SETTINGS: SettingName[] = ['dataDir', 'databaseUrl', 'logLevel'];

function configFrom(options: Record<string, unknown>): Config {
  const flags: Partial<Record<SettingName, unknown>> = {};
  for (const name of ALL_SETTINGS) if (options[name] !== undefined) flags[name] = options[name];
  return loadConfig(flags);
}

function printCreatedLibrary(created: CreatedLibrary, url: string): void {
  const { library, librarySecret, accessKeyId, secretAccessKey } = created;
  const lines = [
    '',
    'mediahost created the default library. These secrets are shown once; keep them safe.',
    '',
    `  libraryId        ${library.id}`,
    `  librarySecret    ${librarySecret}`,
    `  bucket           ${library.bucket}`,
    `  accessKeyId      ${accessKeyId}`,
    `  secretAccessKey  ${secretAccessKey}`,
    '',
    'Try it with the AWS CLI (any S3 client works the same way):',
    '',
    `  AWS_ACCESS_KEY_ID=${accessKeyId} AWS_SECRET_ACCESS_KEY=${secretAccessKey} AWS_DEFAULT_REGION=local \\`,
    `    aws --endpoint-url ${url} s3 cp ./photo.jpg s3://${library.bucket}/photo.jpg`,
    '',
    'or with the COS Node SDK:',
    '',
    `  new COS({ SecretId: '${accessKeyId}', SecretKey: '${secretAccessKey}', Protocol: 'http:', Ip: '${new URL(url).host}' })`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function fail(err: unknown): never {
  const message =
    err instanceof ConfigError || isAppError(err) ? err.message : ((err as Error)?.stack ?? String(err));
  process.stderr.write(`mediahost: ${message}\n`);
  process.exit(err instanceof ConfigError || isAppError(err) ? 2 : 1);
}

/** A store that does not answer at start is worth a line in the log (it may come up later). */
async function warnIfStoreUnavailable(
  logger: ReturnType<typeof createLogger>,
  container: Container,
): Promise<void> {
  const health = await container.objectStore.health();
  if (health.status !== 'ok') logger.warn({ reason: health.reason }, 'the object store does not answer');
}

/** On the first SIGINT or SIGTERM: log `message`, run `close`, and exit 0 (1 if closing failed). */
function onStopSignal(
  logger: ReturnType<typeof createLogger>,
  message: string,
  close: () => Promise<void>,
): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, message);
    close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const program = new Command()
  .name('mediahost')
  .description(
    'Self-hostable media hosting server: SMH business API, COS/S3 object API and VOD media tasks on one port.',
  )
  .showHelpAfterError();

settingOptions(
  program
    .command('serve')
    .description(
      'Run the HTTP server (and its background jobs) on the embedded defaults or the given settings.',
    ),
  ALL_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const config = configFrom(options);
  const logger = createLogger(config);
  const server = await startServer(config, { logger });
  logger.info(
    { url: server.url, dataDir: config.dataDir, metadata: server.container.store.kind },
    'mediahost is listening',
  );
  if (server.createdLibrary) printCreatedLibrary(server.createdLibrary, server.url);
  await warnIfStoreUnavailable(logger, server.container);
  onStopSignal(logger, 'shutting down: finishing in-flight requests', () => server.close());
});

settingOptions(
  program
    .command('worker')
    .description(
      'Run media-task workers (ffmpeg) without the HTTP server, on the data dir or database of a `serve`.',
    ),
  // Every setting of `serve`: a worker reads and writes the same stores, so it takes the same command line.
  ALL_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const config = configFrom(options);
  if (config.workerConcurrency < 1) {
    throw new ConfigError('worker: --worker-concurrency must be at least 1 (0 would run no task)');
  }
  const logger = createLogger(config);
  const container = await createContainer(config, { logger });
  await claimBlobStore(container).catch(async (err: unknown) => {
    await container.close();
    throw err;
  });
  const tools = await container.mediaRunner.status();
  if (!tools.available) logger.warn({ reason: tools.reason }, 'ffmpeg cannot run: media tasks will fail');
  await warnIfStoreUnavailable(logger, container);
  container.jobs.start();
  logger.info(
    {
      workerId: container.jobs.workerId,
      concurrency: config.workerConcurrency,
      dataDir: config.dataDir,
      metadata: container.store.kind,
    },
    'mediahost worker is running',
  );
  // ADR 0003 §13: running ffmpeg processes are stopped and their tasks handed back to WAITING.
  onStopSignal(logger, 'shutting down: handing running tasks back to the queue', () => container.close());
});

settingOptions(
  program.command('migrate').description('Apply database migrations and exit.'),
  STORE_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const store = await openMetadataStore(configFrom(options));
  await store.close();
  process.stdout.write('mediahost: the database schema is up to date\n');
});

const library = program.command('library').description('Manage libraries.');
settingOptions(
  library
    .command('create')
    .description('Create a library with its bucket and object API key pair (works while the server runs).')
    .requiredOption(
      '--name <name>',
      'library name: lower-case letters, digits and hyphens (the bucket is NAME-APPID)',
    )
    .option('--multi-tenant', 'tenant spaces instead of the single space "-"', false)
    .option('--json', 'print one JSON object', false),
  STORE_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const config = configFrom(options);
  const container = await createContainer(config, { logger: createLogger({ logLevel: 'warn' }) });
  try {
    const created = await container.libraries.create({
      name: String(options.name),
      multiTenant: options.multiTenant === true,
    });
    const out = {
      libraryId: created.library.id,
      librarySecret: created.librarySecret,
      bucket: created.library.bucket,
      accessKeyId: created.accessKeyId,
      secretAccessKey: created.secretAccessKey,
      multiTenant: created.library.isMultiTenant,
    };
    if (options.json === true) process.stdout.write(`${JSON.stringify(out)}\n`);
    else for (const [k, v] of Object.entries(out)) process.stdout.write(`${k.padEnd(16)} ${v}\n`);
  } finally {
    await container.close();
  }
});

// --- Operators: backup, restore, verify, sweeper pause (docs/deploy.md, "Backups and restores") ---

const BACKUP_SETTINGS: SettingName[] = ['dataDir', 'databaseUrl', 'blob', 'logLevel'];

/** Commands that inspect a deployment must not create an empty one at a mistyped --data-dir. */
function requireDatabase(config: Config, command: string): Config {
  const path = sqlitePathFor(config.dataDir);
  if (config.databaseUrl === '' && !existsSync(path))
    throw new ConfigError(`${command}: there is no database at ${path} (--data-dir)`);
  return config;
}

settingOptions(
  program
    .command('backup')
    .description(
      'Copy the embedded deployment (SQLite snapshot and blob files) into a new directory while the server runs.',
    )
    .requiredOption('--to <dir>', 'an absent or empty directory (hard links on the same filesystem)'),
  BACKUP_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const manifest = await backup(configFrom(options), String(options.to));
  process.stdout.write(
    `mediahost: backed up ${manifest.blobs} blobs (${manifest.bytes} bytes) and the database into ${String(options.to)}\n`,
  );
  if (manifest.missing.length > 0) {
    process.stderr.write(
      `mediahost: ${manifest.missing.length} blobs the database points to were already missing (see backup.json, or mediahost verify)\n`,
    );
    process.exitCode = 1;
  }
});

settingOptions(
  program
    .command('restore')
    .description(
      'Restore a backup into the data dir of a stopped embedded deployment; the sweeper stays paused until `sweeper resume`.',
    )
    .requiredOption('--from <dir>', 'a directory written by mediahost backup')
    .option(
      '--force',
      'move what the data dir holds aside (into pre-restore-TIME/) instead of refusing',
      false,
    ),
  BACKUP_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const config = configFrom(options);
  const report = await restore(config, String(options.from), { force: options.force === true });
  if (report.setAside)
    process.stdout.write(`mediahost: moved the previous data aside into ${report.setAside}\n`);
  process.stdout.write(
    `mediahost: restored ${report.blobs} blobs and the database into ${config.dataDir}; the sweeper is paused: check with mediahost verify, then run mediahost sweeper resume\n`,
  );
});

settingOptions(
  program
    .command('verify')
    .description(
      'List rows whose blob is missing (exit code 1) and blobs no row knows; safe while the server runs.',
    )
    .option('--json', 'print one JSON object', false),
  ALL_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const config = requireDatabase(configFrom(options), 'verify');
  const container = await createContainer(config, { logger: createLogger({ logLevel: 'warn' }) });
  try {
    const report = await verify(container);
    process.stdout.write(options.json === true ? `${JSON.stringify(report)}\n` : formatVerifyReport(report));
    if (report.missing.length > 0) process.exitCode = 1;
  } finally {
    await container.close();
  }
});

const sweeper = program
  .command('sweeper')
  .description('Pause or resume the sweeper of every process of a database.');
settingOptions(
  sweeper
    .command('pause')
    .description('Keep every sweeper of this database from deleting anything until `sweeper resume`.')
    .option('--reason <text>', 'shown in the logs while paused', 'paused by an operator'),
  STORE_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const store = await openMetadataStore(requireDatabase(configFrom(options), 'sweeper pause'));
  try {
    await store.settings.put(SWEEPER_PAUSED, String(options.reason));
  } finally {
    await store.close();
  }
  process.stdout.write('mediahost: the sweeper is paused on every process of this database\n');
});
settingOptions(
  sweeper.command('resume').description('Let the sweepers of this database reclaim storage again.'),
  STORE_SETTINGS,
).action(async (options: Record<string, unknown>) => {
  const store = await openMetadataStore(requireDatabase(configFrom(options), 'sweeper resume'));
  try {
    await store.settings.delete(SWEEPER_PAUSED);
  } finally {
    await store.close();
  }
  process.stdout.write(
    'mediahost: the sweeper runs again (processes started with --sweeper-paused stay paused)\n',
  );
});

program.parseAsync(process.argv).catch(fail);
