// A log destination that keeps every line in memory, for tests that read what the server logged.
import { Writable } from 'node:stream';

export interface LogCapture {
  destination: Writable;
  text(): string;
  /** The lines parsed as JSON (lines that are not JSON are skipped). */
  records(): Record<string, unknown>[];
}

export function captureLog(): LogCapture {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    destination,
    text: () => chunks.join(''),
    records: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
