// `mediahost library create | list | delete | rotate-secret | rotate-keys`: the operator's handling of
// libraries, against the data dir (SQLite) or the PostgreSQL database of the servers, also while they
// run. Secrets are printed once (only hashes of library secrets are stored, so rotation is the only
// recovery); `--json` prints one JSON value for scripts.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { type Container, createContainer } from '../app/container.ts';
import { createLogger } from '../app/create-logger.ts';
import { AppError } from '../core/errors.ts';
import { checkDeletable, describeContents, type LibrarySummary } from '../core/libraries/library-service.ts';
import { configFrom, STORAGE_SETTINGS, STORE_SETTINGS, settingOptions } from './settings-options.ts';

type Options = Record<string, unknown>;

/** Opens the stores for one command and closes them afterwards; library commands log warnings only. */
async function withContainer<T>(options: Options, fn: (container: Container) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const container = await createContainer(config, {
    logger: createLogger({ logLevel: 'warn', logFormat: config.logFormat }),
  });
  try {
    return await fn(container);
  } finally {
    await container.close();
  }
}

function print(options: Options, value: unknown, lines: Record<string, unknown>): void {
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(value)}\n`);
    return;
  }
  for (const [k, v] of Object.entries(lines)) process.stdout.write(`${k.padEnd(20)} ${v}\n`);
}

const note = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

function summaryJson({ library, contents, accessKeyIds }: LibrarySummary) {
  return {
    libraryId: library.id,
    name: library.name,
    bucket: library.bucket,
    multiTenant: library.isMultiTenant,
    createdAt: new Date(library.createdAt).toISOString(),
    accessKeyIds,
    contents,
  };
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows)
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** On a terminal, the operator types the library's name; elsewhere --yes must say it. */
async function confirmDeletion(summary: LibrarySummary): Promise<void> {
  const { library, contents } = summary;
  if (!process.stdin.isTTY) {
    throw new AppError(
      'InvalidRequest',
      'library delete asks for confirmation, and stdin is not a terminal: confirm with --yes.',
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `Delete library ${library.name} (${library.id}) holding ${describeContents(contents)}? ` +
        'Type its name to confirm: ',
    );
    if (answer.trim() !== library.name)
      throw new AppError('InvalidRequest', 'Not confirmed: nothing was deleted.');
  } finally {
    rl.close();
  }
}

export function registerLibraryCommands(program: Command): void {
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
  ).action((options: Options) =>
    withContainer(options, async (container) => {
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
      print(options, out, out);
    }),
  );

  settingOptions(
    library
      .command('list')
      .description('List the libraries: id, name, bucket, mode, creation time, what each one holds.')
      .option('--json', 'print one JSON array', false),
    STORE_SETTINGS,
  ).action((options: Options) =>
    withContainer(options, async (container) => {
      const summaries = await container.libraries.summaries();
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(summaries.map(summaryJson))}\n`);
        return;
      }
      printTable([
        ['ID', 'NAME', 'BUCKET', 'MODE', 'CREATED', 'SPACES', 'FILES', 'OBJECTS'],
        ...summaries.map(({ library, contents }) => [
          library.id,
          library.name,
          library.bucket,
          library.isMultiTenant ? 'multi-space' : 'single-space',
          new Date(library.createdAt).toISOString(),
          String(contents.spaces),
          String(contents.files),
          String(contents.objects),
        ]),
      ]);
    }),
  );

  settingOptions(
    library
      .command('delete')
      .description(
        'Delete a library. One that holds anything is refused unless --force, which deletes it with its spaces, files, objects, uploads, tokens and keys.',
      )
      .argument('<library-id>', 'the library to delete')
      .option('--force', 'also when the library is not empty', false)
      .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)', false)
      .option('--json', 'print one JSON object', false),
    STORAGE_SETTINGS,
  ).action((id: string, options: Options) =>
    withContainer(options, async (container) => {
      const summary = await container.libraries.summary(id);
      const force = options.force === true;
      // Refused before asking: no answer to the question could make the deletion go ahead.
      checkDeletable(summary, force);
      if (options.yes !== true) await confirmDeletion(summary);
      const { library, contents } = await container.libraries.delete(id, { force });
      print(
        options,
        { libraryId: library.id, name: library.name, deleted: contents },
        { deleted: `${library.name} (${library.id})`, held: describeContents(contents) },
      );
      if (options.json !== true)
        note('The bytes of its objects are reclaimed by the sweeper of a running server (mediahost serve).');
    }),
  );

  settingOptions(
    library
      .command('rotate-secret')
      .description(
        'Replace the library secret: the new one is printed once, the old one stops working at once. Tokens made earlier stay valid unless --revoke-tokens.',
      )
      .argument('<library-id>', 'the library')
      .option(
        '--revoke-tokens',
        'also delete every access token of the library (a leaked secret may have made some)',
        false,
      )
      .option('--json', 'print one JSON object', false),
    STORE_SETTINGS,
  ).action((id: string, options: Options) =>
    withContainer(options, async (container) => {
      const rotated = await container.libraries.rotateSecret(id, {
        revokeTokens: options.revokeTokens === true,
      });
      const out = {
        libraryId: rotated.library.id,
        librarySecret: rotated.librarySecret,
        tokensRevoked: rotated.tokensRevoked,
      };
      print(options, out, out);
      if (options.json !== true && options.revokeTokens !== true)
        note('Access tokens made with the old secret stay valid until they expire (see --revoke-tokens).');
    }),
  );

  settingOptions(
    library
      .command('rotate-keys')
      .description(
        "Replace the library's object API key pair: the new pair is printed once, the old one stops working at once. Upload grants and SMH download URLs are not affected.",
      )
      .argument('<library-id>', 'the library')
      .option('--json', 'print one JSON object', false),
    STORE_SETTINGS,
  ).action((id: string, options: Options) =>
    withContainer(options, async (container) => {
      const rotated = await container.libraries.rotateKeys(id);
      const out = {
        libraryId: rotated.library.id,
        bucket: rotated.library.bucket,
        accessKeyId: rotated.accessKeyId,
        secretAccessKey: rotated.secretAccessKey,
        revokedAccessKeyIds: rotated.revokedAccessKeyIds,
      };
      print(options, out, { ...out, revokedAccessKeyIds: out.revokedAccessKeyIds.join(',') || '(none)' });
    }),
  );
}
