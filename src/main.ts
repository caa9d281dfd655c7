// The mediahost command line: serve, worker, migrate, library. Every setting is a flag and a
// MEDIAHOST_* variable (src/config/schema.ts); flags win over variables, variables over defaults.
import { Command } from 'commander';
import { type Container, createContainer, openMetadataStore } from './app/container.ts';
import { createLogger } from './app/create-logger.ts';
import { claimBlobStore, startServer } from './app/lifecycle.ts';
import { redactSecrets } from './app/redact.ts';
import { describeStartFailure } from './app/start-failure.ts';
import { onStopSignal } from './app/stop-signals.ts';
import { mediahostVersion } from './app/version.ts';
import { registerFileCommands } from './cli/file-commands.ts';
import { registerLibraryCommands } from './cli/library-commands.ts';
import { registerOperatorCommands } from './cli/operator-commands.ts';
import {
  ALL_SETTINGS,
  activeConfig,
  configFrom,
  STORE_SETTINGS,
  settingOptions,
} from './cli/settings-options.ts';
import { ConfigError } from './config/load.ts';
import { loggableConfig } from './config/loggable-config.ts';
import { isAppError } from './core/errors.ts';
import type { CreatedLibrary } from './core/libraries/library-service.ts';

/** Resolves once the lines are handed to stdout, so that a log line written after them follows them. */
function printCreatedLibrary(created: CreatedLibrary, url: string, region: string): Promise<void> {
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
    `    .putObject({ Bucket: '${library.bucket}', Region: '${region}', Key: 'photo.jpg', Body: fs.createReadStream('photo.jpg') }, console.log)`,
    '',
  ];
  return new Promise((resolve) => process.stdout.write(`${lines.join('\n')}\n`, () => resolve()));
}

/** Exit 2 for a wrong setting or request, 1 for a failure at start (named in one line when a setting explains it). */
function fail(err: unknown): never {
  const config = activeConfig();
  const described = config && describeStartFailure(err, config);
  if (described) {
    process.stderr.write(`mediahost: ${described}\n`);
    process.exit(1);
  }
  const message =
    err instanceof ConfigError || isAppError(err) ? err.message : ((err as Error)?.stack ?? String(err));
  // A failed start may quote a database URL or a signed request: the same masking as the log.
  process.stderr.write(`mediahost: ${redactSecrets(message)}\n`);
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

const program = new Command()
  .name('mediahost')
  .description(
    'Self-hostable media hosting server: SMH business API, COS/S3 object API and VOD media tasks on one port.',
  )
  .version(mediahostVersion(), '-V, --version', 'print the version of mediahost')
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
  logger.info({ version: mediahostVersion(), config: loggableConfig(config) }, 'mediahost is starting');
  const server = await startServer(config, { logger });
  // Before "listening": whoever waits for that line (a supervisor, a test) has the credentials by then.
  if (server.createdLibrary) await printCreatedLibrary(server.createdLibrary, server.url, config.region);
  logger.info(
    {
      url: server.url,
      version: mediahostVersion(),
      dataDir: config.dataDir,
      metadata: server.container.store.kind,
      pid: process.pid,
    },
    'mediahost is listening',
  );
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
  logger.info(
    { version: mediahostVersion(), config: loggableConfig(config) },
    'mediahost worker is starting',
  );
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
      version: mediahostVersion(),
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
  for (const name of store.migrationsApplied) process.stdout.write(`applied ${name}\n`);
  process.stdout.write(
    store.migrationsApplied.length > 0
      ? 'mediahost: the database schema is up to date\n'
      : 'mediahost: the database schema was already up to date; nothing to apply\n',
  );
});

registerLibraryCommands(program);
registerOperatorCommands(program);
registerFileCommands(program);

program.parseAsync(process.argv).catch(fail);
