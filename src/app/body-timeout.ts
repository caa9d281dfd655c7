// --body-timeout-seconds for the JSON surfaces (SMH, VOD), whose bodies fastify reads: the body is
// wrapped before parsing, so a stall fails the parse with RequestTimeout, which the surface's error
// handler renders; the connection is then closed, as the rest of the body will not be read.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { idleTimeout } from '../lib/streams.ts';
import { OBJECT_ROUTE } from '../surfaces/object/plugin.ts';

/** How long an answered connection may keep sending the body we stopped reading. */
const LINGER_MS = 2000;

export function bodyTimeoutHook(seconds: number) {
  return async (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: NodeJS.ReadableStream,
  ): Promise<NodeJS.ReadableStream> => {
    // The object API reads its bodies itself (surfaces/object/body.ts applies the same limit).
    if (seconds <= 0 || request.url === OBJECT_ROUTE) return payload;
    const socket = request.raw.socket;
    const body = Readable.from(
      idleTimeout(payload as AsyncIterable<Buffer>, seconds * 1000, () => {
        // Answered already (fastify gave up on the body): nothing is left to say on this connection.
        if (reply.raw.writableFinished) socket.destroy();
        else {
          if (!reply.raw.headersSent) reply.header('connection', 'close');
          reply.raw.once('finish', () => setTimeout(() => socket.destroy(), LINGER_MS).unref());
        }
        return new AppError('RequestTimeout', `No byte of the request body arrived for ${seconds} s.`);
      }),
      { objectMode: false },
    );
    // fastify's body reader listens for errors only while it reads: a body it gave up on (too large,
    // or answered already) that stalls later must not crash the process.
    body.on('error', () => {});
    return body;
  };
}
