// How `serve` and `worker` are told to stop: SIGINT or SIGTERM starts a graceful stop; a second one
// forces a prompt exit; and under npm (`npm start`, `npx mediahost`) the exit of the launcher does
// what its SIGTERM should have done, since npm's shell does not pass that signal on.
import { startedByNpm } from '../config/load.ts';
import type { Logger } from '../ports/logger.ts';

/** Exit codes of a stop forced by a second signal: 128 + the signal's number, as shells report. */
const FORCED_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };
/**
 * A repeat within this window is the same stop delivered twice (Ctrl-C reaches npm and the server,
 * and npm passes it on again), not an operator insisting.
 */
const REPEAT_WINDOW_MS = 1000;
const LAUNCHER_POLL_MS = 500;

type StopSignal = 'SIGINT' | 'SIGTERM';

export interface StopOptions {
  /** Watch the parent process and stop when it goes (default: when started by npm). */
  watchLauncher?: boolean;
  now?: () => number;
}

/**
 * On the first SIGINT or SIGTERM (or the launcher's exit): log `message`, run `close`, and exit 0 (1
 * if closing failed). A second signal, later than the repeat window, exits at once with 130 or 143.
 */
export function onStopSignal(
  logger: Logger,
  message: string,
  close: () => Promise<void>,
  options: StopOptions = {},
): void {
  const now = options.now ?? Date.now;
  let stoppedAt: number | undefined;
  let launcherTimer: NodeJS.Timeout | undefined;
  const stop = (reason: Record<string, string>): void => {
    stoppedAt = now();
    clearInterval(launcherTimer);
    logger.info(reason, message);
    close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: StopSignal): void => {
    if (stoppedAt === undefined) {
      stop({ signal });
      return;
    }
    if (now() - stoppedAt < REPEAT_WINDOW_MS) return;
    logger.warn({ signal }, 'second stop signal: exiting now, without waiting for work in flight');
    process.exit(FORCED_EXIT[signal]);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  if (options.watchLauncher ?? startedByNpm()) {
    const launcher = process.ppid;
    launcherTimer = setInterval(() => {
      if (process.ppid !== launcher && stoppedAt === undefined) stop({ launcher: 'exited' });
    }, LAUNCHER_POLL_MS);
    launcherTimer.unref();
  }
}
