// Operator commands of a deployment: backup, restore, verify, and pausing the sweeper
// (docs/deploy.md, "Backups and restores"; ADR 0001 §22, ADR 0004 §22-23).
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { sqlitePathFor } from '../adapters/metadata/sqlite/store.ts';
import { backup, restore } from '../app/backup.ts';
import { createContainer, openMetadataStore } from '../app/container.ts';
import { createLogger } from '../app/create-logger.ts';
import { SWEEPER_PAUSED } from '../app/deployment.ts';
import { formatVerifyReport, verify } from '../app/verify.ts';
import { ConfigError } from '../config/load.ts';
import type { Config, SettingName } from '../config/schema.ts';
import { ALL_SETTINGS, configFrom, STORE_SETTINGS, settingOptions } from './settings-options.ts';

const BACKUP_SETTINGS: SettingName[] = ['dataDir', 'databaseUrl', 'blob', 'logLevel', 'logFormat'];

/** Commands that inspect a deployment must not create an empty one at a mistyped --data-dir. */
function requireDatabase(config: Config, command: string): Config {
  const path = sqlitePathFor(config.dataDir);
  if (config.databaseUrl === '' && !existsSync(path))
    throw new ConfigError(`${command}: there is no database at ${path} (--data-dir)`);
  return config;
}

export function registerOperatorCommands(program: Command): void {
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
    const container = await createContainer(config, {
      logger: createLogger({ logLevel: 'warn', logFormat: config.logFormat }),
    });
    try {
      const report = await verify(container);
      process.stdout.write(
        options.json === true ? `${JSON.stringify(report)}\n` : formatVerifyReport(report),
      );
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
}
