// The process logger: pino with ISO timestamps and level names, one JSON object a line (or a
// readable line when stdout is a terminal or --log-format pretty), every line stripped of secrets.
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config/schema.ts';
import { redactSecrets } from './redact.ts';

export interface LoggerOptions {
  /** Where lines go; stdout when absent. */
  destination?: DestinationStream;
  /** Whether the destination is a terminal, for `auto`; stdout's when absent. */
  isTerminal?: boolean;
}

export function isPrettyFormat(format: string, isTerminal: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTerminal);
}

export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  options: LoggerOptions = {},
): PinoLogger {
  const settings: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'mediahost' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // The last step before a line leaves the process, so nothing logged anywhere escapes it.
    hooks: { streamWrite: redactSecrets },
  };
  if (isPrettyFormat(config.logFormat, options.isTerminal ?? process.stdout.isTTY === true)) {
    return pino(
      settings,
      pretty({
        destination: options.destination ?? 1,
        colorize: options.destination === undefined && process.stdout.isTTY === true,
        singleLine: true,
        ignore: 'service',
        translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'",
        sync: true,
      }),
    );
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
