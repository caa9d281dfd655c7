// HTTP/1.1 over a bare socket, for requests no client library would send (malformed lines, bodies
// that stall) and for seeing when the server closes the connection.
import assert from 'node:assert/strict';
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** Parses a whole response (chunked bodies decoded). */
export function parseAnswer(raw: Buffer): RawAnswer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, `no complete response: ${JSON.stringify(text.slice(0, 300))}`);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine!)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (let at = 0; ; ) {
      const lineEnd = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, headers, body: body.toString('utf8') };
}

/**
 * Writes `bytes` on a new connection (ending our side only when `end`), and resolves with what the
 * server answered once it has closed the connection; rejects if it has not within `deadlineMs`.
 */
export function exchangeUntilClosed(
  port: number,
  bytes: string | Buffer,
  options: { end?: boolean; deadlineMs?: number } = {},
): Promise<RawAnswer> {
  const deadlineMs = options.deadlineMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    const socket = connect(port, '127.0.0.1', () => {
      if (options.end ?? true) socket.end(data);
      else socket.write(data);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${deadlineMs} ms`));
    }, deadlineMs);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const settle = (err?: Error): void => {
      clearTimeout(timer);
      // A reset after the answer arrived still leaves the answer to check.
      if (chunks.length === 0 && err) {
        reject(err);
        return;
      }
      try {
        resolve(parseAnswer(Buffer.concat(chunks)));
      } catch (parseError) {
        reject(parseError);
      }
    };
    socket.on('error', settle);
    socket.on('close', () => settle());
  });
}
