// `mediahost upload | download | ls | mv | rm | restore | token`: a library's files from the command
// line, through the SMH API of a running server like any client (ADR 0008). Nothing here opens the
// data dir: without --url the commands talk to http://127.0.0.1:8080, where serve listens by default.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { action, CliError, EXIT_FAILED, errorJson, SmhError, usageError, usageExits } from './cli-error.ts';
import { addConnectionOptions, resolveConnection } from './connection-options.ts';
import { runDownload } from './download-command.ts';
import { formatBytes } from './progress.ts';
import { listRecycled, restoreRecycled } from './recycle-bin-commands.ts';
import { parseRemotePath, type RemotePath, showPath } from './remote-path.ts';
import { SmhHttpClient } from './smh-http-client.ts';
import { runUpload } from './upload-command.ts';

type Opts = Record<string, unknown>;

const MiB = 1024 * 1024;

export function parseSize(text: string): number {
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError('give bytes, or a number with K, M or G (8M, 16MiB)');
  const factor = { '': 1, k: 1024, m: MiB, g: 1024 * MiB }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const bytes = Number(m[1]) * factor;
  if (bytes < MiB || bytes > 5 * 1024 * MiB)
    throw new InvalidArgumentError(
      'parts are 1 MiB to 5 GiB (the smallest part a store completes, and the largest it takes)',
    );
  return bytes;
}

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('give a whole number from 1 to 64');
  return n;
}

const conflictOption = (defaultValue: string, description: string) =>
  new Option('--conflict <strategy>', description)
    .choices(['ask', 'rename', 'overwrite'])
    .default(defaultValue);

const jsonLine = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const note = (text: string) => process.stderr.write(`mediahost: ${text}\n`);

function clientOf(command: Command, needCredential = true): SmhHttpClient {
  return new SmhHttpClient(resolveConnection(command, note, { needCredential }));
}

/** Runs `fn` with a client whose own token is deleted afterwards. */
async function withClient<T>(
  command: Command,
  fn: (client: SmhHttpClient) => Promise<T>,
  needCredential = true,
): Promise<T> {
  const client = clientOf(command, needCredential);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

interface Entry {
  name: string;
  type: string;
  size?: string;
  modificationTime: string;
}

/** A path without a trailing slash is whatever is there: the server says which (or why nothing). */
async function typeOf(
  client: SmhHttpClient,
  path: RemotePath,
  options: { missingIsFine?: boolean } = {},
): Promise<'dir' | 'file' | undefined> {
  if (path.segments.length === 0) return 'dir';
  try {
    const { body } = await client.request<{ type: string }>('GET', client.path('directory', path.segments), {
      query: { info: true },
    });
    return body.type === 'dir' ? 'dir' : 'file';
  } catch (err) {
    if (options.missingIsFine && err instanceof SmhError && err.status === 404) return undefined;
    throw err;
  }
}

function printEntries(entries: Entry[], parent: string[], json: boolean): void {
  for (const e of entries) {
    if (json) jsonLine({ ...e, path: showPath([...parent, e.name], e.type === 'dir') });
    else {
      const size = e.type === 'dir' ? 'dir' : formatBytes(Number(e.size ?? 0));
      process.stdout.write(
        `${size.padStart(10)}  ${e.modificationTime.slice(0, 19).replace('T', ' ')}  ${e.name}${e.type === 'dir' ? '/' : ''}\n`,
      );
    }
  }
}

async function list(client: SmhHttpClient, segments: string[], json: boolean): Promise<void> {
  let marker: string | undefined;
  do {
    const { body } = await client.request<{ contents: Entry[]; nextMarker?: string }>(
      'GET',
      client.path('directory', segments),
      { query: { 'by-marker': true, limit: 1000, marker } },
    );
    printEntries(body.contents, segments, json);
    marker = body.nextMarker || undefined;
  } while (marker);
}

async function remove(client: SmhHttpClient, text: string, opts: Opts): Promise<void> {
  const path = parseRemotePath(text);
  if (path.segments.length === 0) throw usageError('the root is not removed; name what is in it');
  const type = path.isDirectory ? 'dir' : await typeOf(client, path);
  const query = {
    permanent: opts.permanent === true ? 1 : undefined,
    // Without -r only an empty directory goes (ADR 0002 §33), as rmdir.
    directory_only: type === 'dir' && opts.recursive !== true ? 1 : undefined,
  };
  let res: { status: number; body: { recycledItemId?: number } | undefined };
  try {
    res = await client.request<{ recycledItemId?: number }>(
      'DELETE',
      client.path(type === 'dir' ? 'directory' : 'file', path.segments),
      { query },
    );
  } catch (err) {
    if (err instanceof SmhError && err.code === 'DirectoryNotEmpty')
      throw new CliError(`${err.message}; add -r to remove it with its contents`);
    throw err;
  }
  const shown = showPath(path.segments, type === 'dir');
  const recycled = res.body?.recycledItemId;
  if (opts.json === true)
    jsonLine({
      event: 'removed',
      path: shown,
      type,
      ...(recycled !== undefined ? { recycledItemId: recycled } : {}),
    });
  else
    process.stdout.write(
      recycled !== undefined
        ? `moved ${shown} to the recycle bin (item ${recycled})\n`
        : `removed ${shown}\n`,
    );
}

export function registerFileCommands(program: Command): void {
  const command = (name: string, description: string, parent: Command = program) =>
    usageExits(addConnectionOptions(parent.command(name).description(description))).option(
      '--json',
      'one JSON object per line on stdout, for scripts',
    );

  command('upload', 'Upload files and directories into a remote directory; run again to resume.')
    .argument('<paths...>', 'local files or directories, then the remote directory (e.g. /photos/2026/)')
    .addOption(new Option('--parallel <n>', 'files and parts sent at once').argParser(parseCount).default(4))
    .addOption(
      new Option('--part-size <size>', 'multipart part size, 1M to 5G (more for files of over 10000 parts)')
        .argParser(parseSize)
        .default(8 * MiB, '8M'),
    )
    .addOption(
      conflictOption(
        'ask',
        'when the remote name exists: ask (fail), rename, or overwrite; an identical file is skipped',
      ),
    )
    .action(
      action(async (paths: string[], opts: Opts, cmd: Command) => {
        if (paths.length < 2)
          throw usageError('upload takes one or more local paths, then the remote directory');
        return runUpload(paths.slice(0, -1), paths.at(-1)!, opts as never, cmd);
      }),
    );

  command('download', 'Download a remote file to a local file or directory.')
    .argument('<remote-file>', 'e.g. /photos/2026/a.jpg')
    .argument('<local-path>', 'a file to write, or a directory to write into')
    .option('--force', 'replace an existing local file')
    .action(
      action((remote: string, local: string, opts: Opts, cmd: Command) =>
        runDownload(remote, local, opts, cmd),
      ),
    );

  command('ls', 'List a remote directory (or show a file).')
    .argument('[remote-path]', 'a directory (default /) or a file', '/')
    .action(
      action(async (text: string, opts: Opts, cmd: Command) =>
        withClient(
          cmd,
          async (client) => {
            const path = parseRemotePath(text);
            if (path.isDirectory) return list(client, path.segments, opts.json === true);
            const { body } = await client.request<Entry & { path: string[] }>(
              'GET',
              client.path('directory', path.segments),
              { query: { info: true } },
            );
            if (body.type === 'dir') return list(client, path.segments, opts.json === true);
            printEntries([body], path.segments.slice(0, -1), opts.json === true);
          },
          false,
        ),
      ),
    );

  command('mv', 'Move or rename a remote file or directory (into a directory when the target is one).')
    .argument('<from>', 'e.g. /photos/a.jpg or /photos/2025/')
    .argument('<to>', 'a new path, or a directory to move into (e.g. /archive/)')
    .addOption(conflictOption('ask', 'when the target exists: ask (fail), rename, or overwrite (files only)'))
    .action(
      action(async (fromText: string, toText: string, opts: Opts, cmd: Command) =>
        withClient(cmd, async (client) => {
          const from = parseRemotePath(fromText);
          const to = parseRemotePath(toText);
          if (from.segments.length === 0) throw usageError('the root does not move');
          const type = await typeOf(client, from);
          if (from.isDirectory && type !== 'dir')
            throw new CliError(`${fromText} is a file, not a directory`);
          const into = to.isDirectory || (await typeOf(client, to, { missingIsFine: true })) === 'dir';
          const target = into ? [...to.segments, from.segments.at(-1)!] : to.segments;
          const strategy = String(opts.conflict);
          if (type === 'dir' && strategy === 'overwrite')
            throw usageError('a directory is never overwritten; use --conflict ask or rename');
          const res = await client.request<{ path?: string[] | null } | undefined>(
            'PUT',
            client.path(type === 'dir' ? 'directory' : 'file', target),
            {
              query: { conflict_resolution_strategy: strategy },
              body: { from: showPath(from.segments) },
            },
          );
          const shown = showPath(res.body?.path ?? target, type === 'dir');
          if (opts.json === true)
            jsonLine({ event: 'moved', from: showPath(from.segments, type === 'dir'), to: shown, type });
          else process.stdout.write(`moved ${showPath(from.segments, type === 'dir')} -> ${shown}\n`);
        }),
      ),
    );

  command('rm', 'Remove remote files, and directories (their contents too with -r).')
    .argument('<remote-paths...>', 'e.g. /photos/a.jpg /photos/old/')
    .option('-r, --recursive', 'remove directories with everything in them')
    .option('--permanent', 'skip the recycle bin where the library has one')
    .action(
      action(async (paths: string[], opts: Opts, cmd: Command) =>
        withClient(cmd, async (client) => {
          let failed = 0;
          for (const text of paths) {
            try {
              await remove(client, text, opts);
            } catch (err) {
              if (!(err instanceof CliError) || err.exitCode !== EXIT_FAILED || paths.length === 1) throw err;
              failed++;
              if (opts.json === true) jsonLine({ event: 'error', path: text, error: errorJson(err) });
              process.stderr.write(`mediahost rm: ${text}: ${err.message}\n`);
            }
          }
          return failed > 0 ? EXIT_FAILED : 0;
        }),
      ),
    );

  // `mediahost restore` restores backups (operator-commands.ts): the bin has a command of its own.
  const bin = program.command('recycle-bin').description('List and restore items of the recycle bin.');
  command('list', 'List the recycle bin.', bin).action(
    action((opts: Opts, cmd: Command) => withClient(cmd, (client) => listRecycled(client, opts))),
  );
  command('restore', 'Restore items of the recycle bin by item id or original path.', bin)
    .argument('<items...>', 'recycled item ids, or original paths (/photos/a.jpg)')
    .option('--to-root', 'restore into the root when the original directory is gone')
    .addOption(conflictOption('ask', 'when the name is taken again: ask (fail), rename, or overwrite'))
    .action(
      action((items: string[], opts: Opts, cmd: Command) =>
        withClient(cmd, (client) => restoreRecycled(client, items, opts)),
      ),
    );

  command('token', 'Create an access token from the library secret (read-only unless --grant says more).')
    .option('--grant <grants>', 'comma-separated SMH grants, e.g. admin or upload_file,delete_file', '')
    .addOption(
      new Option(
        '--period <seconds>',
        'validity, renewed by each use (SMH clamps it to 300..315360000)',
      ).argParser((text) => {
        if (!/^\d+$/.test(text)) throw new InvalidArgumentError('give whole seconds');
        return Number(text);
      }),
    )
    .option('--user-id <id>', 'the user the token acts for')
    .action(
      action(async (opts: Opts, cmd: Command) => {
        const client = clientOf(cmd);
        const { spaceId } = client.connection;
        const token = await client.mintToken({
          grant: String(opts.grant),
          period: opts.period === undefined ? undefined : Number(opts.period),
          userId: opts.userId as string | undefined,
          spaceIds: spaceId === '-' ? undefined : spaceId,
        });
        if (opts.json === true) jsonLine(token);
        else process.stdout.write(`${token.accessToken}\n`);
      }),
    );
}
