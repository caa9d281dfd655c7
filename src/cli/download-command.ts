// `mediahost download <remote-file> <local-path>`: through SMH's download redirect (spec smh §2.3.10)
// into a temporary file beside the target, checked against the size and CRC-64 the server names.
import { renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT_INTERRUPTED, usageError } from './cli-error.ts';
import { resolveConnection } from './connection-options.ts';
import { getToFile } from './http-transfer.ts';
import { onInterrupt } from './interrupt.ts';
import { formatBytes, Progress, progressMode } from './progress.ts';
import { parseRemotePath, showPath } from './remote-path.ts';
import { SmhHttpClient } from './smh-http-client.ts';

/** The local file to write: into `local` when it is a directory (or ends with a slash). */
function destination(local: string, name: string, force: boolean): string {
  const stat = statSync(local, { throwIfNoEntry: false });
  const path = stat?.isDirectory() || local.endsWith('/') ? join(local, name) : local;
  const existing = path === local ? stat : statSync(path, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw usageError(`${path} is a directory`);
  if (existing && !force) throw usageError(`${path} exists; add --force to replace it`);
  if (!statSync(dirname(path), { throwIfNoEntry: false })?.isDirectory())
    throw usageError(`${dirname(path)}: no such directory`);
  return path;
}

export async function runDownload(
  remoteText: string,
  local: string,
  options: { force?: boolean; json?: boolean },
  command: Command,
): Promise<number> {
  const remote = parseRemotePath(remoteText);
  if (remote.isDirectory) throw usageError(`${remoteText} names a directory; download takes a file`);
  const to = destination(local, remote.segments.at(-1)!, options.force === true);
  const progress = new Progress(progressMode(options.json === true), 'downloading');
  const client = new SmhHttpClient(
    resolveConnection(command, (text) => progress.note(text), { needCredential: false }),
  );
  const interrupt = onInterrupt(() => progress.note('stopping: the partial download is removed'));
  const temp = `${to}.mediahost-${process.pid}.part`;
  try {
    const res = await client.request('GET', client.path('file', remote.segments), {
      manualRedirect: true,
      signal: interrupt.signal,
    });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location)
      throw new CliError(
        `${showPath(remote.segments)}: the server answered ${res.status} without a redirect to the bytes`,
      );
    const size = Number(res.headers.get('x-smh-size'));
    const expectedCrc = res.headers.get('x-smh-crc64') ?? '';
    progress.start(1, size);
    const bar = progress.file(showPath(remote.segments), size);
    const got = await getToFile({
      url: new URL(location, client.connection.url).toString(),
      to: temp,
      signal: interrupt.signal,
      onBytes: (n) => bar.moved(n),
    }).finally(() => bar.close());
    if (got.size !== size)
      throw new CliError(
        `${showPath(remote.segments)}: received ${got.size} bytes of ${size}; nothing was written`,
      );
    if (expectedCrc !== '' && got.crc64.toString() !== expectedCrc)
      throw new CliError(
        `${showPath(remote.segments)}: the bytes received do not match the file's CRC-64; nothing was written`,
      );
    renameSync(temp, to);
    progress.fileFinished();
    progress.stop();
    progress.event({ event: 'file', remote: showPath(remote.segments), local: to, size, crc64: expectedCrc });
    progress.say(`downloaded ${showPath(remote.segments)} -> ${to} (${formatBytes(size)})`);
    return 0;
  } catch (err) {
    if (interrupt.signal.aborted) return EXIT_INTERRUPTED;
    throw err;
  } finally {
    progress.stop();
    rmSync(temp, { force: true });
    interrupt.dispose();
    await client.close();
  }
}
