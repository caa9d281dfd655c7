// Errors of the file commands and how a command ends: exit 0 when it did its work, 1 when an
// operation failed (the server refused, the network broke), 2 for a wrong command line, 130 on Ctrl-C.
import type { Command } from 'commander';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** A failure the command names in one line; `exitCode` says whose fault it was. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_FAILED) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT_USAGE);

/** An SMH JSON error (spec smh §1.5), or an answer that was not one. */
export class SmhError extends CliError {
  override name = 'SmhError';
  readonly status: number;
  readonly code: string;
  readonly smhMessage: string;
  readonly requestId: string | undefined;

  constructor(status: number, code: string, smhMessage: string, requestId: string | undefined) {
    super(`${smhMessage} (SMH ${code}, HTTP ${status}${requestId ? `, request ${requestId}` : ''})`);
    this.status = status;
    this.code = code;
    this.smhMessage = smhMessage;
    this.requestId = requestId;
  }
}

/** What a JSON consumer learns about an error. */
export function errorJson(err: unknown): Record<string, unknown> {
  if (err instanceof SmhError)
    return { code: err.code, status: err.status, message: err.smhMessage, requestId: err.requestId };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** Writes, then exits once stdout and stderr took it (a pipe reader sees every line). */
export async function exit(code: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  process.exit(code);
}

/** `mediahost recycle-bin list`: the command as typed. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Runs a command's action: its errors become one line on stderr (and a JSON line with --json). */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<unknown>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args.at(-1) as Command;
    const json = command.opts().json === true;
    let code: number;
    try {
      const result = await fn(...args);
      code = typeof result === 'number' ? result : 0;
    } catch (caught) {
      // A local file system error (EACCES, ENOSPC…) names its path in its message.
      const err =
        caught instanceof Error &&
        !(caught instanceof CliError) &&
        typeof (caught as NodeJS.ErrnoException).code === 'string' &&
        (caught as NodeJS.ErrnoException).syscall
          ? new CliError(caught.message)
          : caught;
      if (!(err instanceof CliError)) throw err;
      if (json) process.stdout.write(`${JSON.stringify({ event: 'error', error: errorJson(err) })}\n`);
      process.stderr.write(`${commandPath(command)}: ${err.message}\n`);
      code = err.exitCode;
    }
    await exit(code);
  };
}

/** Commander's own usage errors (unknown option, missing argument) exit 2 like ours. */
export function usageExits(command: Command): Command {
  return command.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  });
}
