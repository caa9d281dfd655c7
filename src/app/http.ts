// The HTTP application: one fastify instance, one port, one encapsulated plugin per API surface.
// Requests are sent to the object API when their Host names a bucket (virtual-host style) or their
// path is not one of the other surfaces' prefixes (path style), before fastify's router sees them.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { newRequestId } from '../core/ids.ts';
import { OBJECT_ROUTE, objectApiPlugin, rejectUnroutedMethod } from '../surfaces/object/plugin.ts';
import { hostnameOf, virtualHostBucket } from '../surfaces/object/target.ts';
import { renderXml } from '../surfaces/object/xml.ts';
import { smhApiPlugin } from '../surfaces/smh/plugin.ts';
import { vodApiPlugin, vodNotFound } from '../surfaces/vod/plugin.ts';
import type { Container } from './container.ts';
import { probeDatabase } from './database-health.ts';

/** Path prefixes served by other surfaces; everything else in path style is the object API. */
const OTHER_SURFACES = ['/healthz', '/api/', '/v1/', '/v1.0/', '/v2/'];

export function isObjectApiRequest(req: IncomingMessage, vhostSuffixes: readonly string[]): boolean {
  if (virtualHostBucket(hostnameOf(req.headers.host), vhostSuffixes) !== undefined) return true;
  const url = req.url ?? '/';
  const path = url.split('?', 1)[0]!;
  return !OTHER_SURFACES.some((p) => path === p.replace(/\/$/, '') || path.startsWith(p));
}

/** Malformed requests Node rejects before any handler (oversized headers, bad request lines). */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return;
  const requestId = newRequestId(Date.now());
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.']
      : [400, 'BadRequest', 'The request could not be parsed.'];
  const body = renderXml('Error', { Code: code, Message: message, RequestId: requestId });
  socket.end(
    `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `Date: ${new Date().toUTCString()}\r\nConnection: close\r\nContent-Type: application/xml\r\n` +
      `x-cos-request-id: ${requestId}\r\nx-amz-request-id: ${requestId}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function buildHttpApp(container: Container): Promise<FastifyInstance> {
  const { config } = container;
  const app = Fastify({
    loggerInstance: container.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Large uploads may take longer than any fixed request timeout.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    forceCloseConnections: 'idle',
    bodyLimit: 4 * 1024 * 1024,
    clientErrorHandler,
    rewriteUrl: (req) => (isObjectApiRequest(req, config.vhostSuffixes) ? OBJECT_ROUTE : (req.url ?? '/')),
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.originalUrl,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  app.get('/healthz', async (_request, reply) => {
    const db = await probeDatabase(container.store);
    const database = db.status;
    const objectStore = await container.objectStore.health();
    const healthy = database === 'ok' && objectStore.status === 'ok';
    // Without ffmpeg everything but media tasks works: say so, without failing the check.
    const tools = await container.mediaRunner.status();
    reply.code(healthy ? 200 : 503);
    return {
      status: healthy ? 'ok' : 'degraded',
      database,
      ...(db.status === 'ok' ? {} : { databaseReason: db.reason }),
      metadata: container.store.kind,
      objectStore,
      media: tools.available
        ? { status: 'ok', ffmpeg: tools.ffmpeg, workers: config.workerConcurrency }
        : { status: 'unavailable', reason: tools.reason, workers: config.workerConcurrency },
    };
  });

  app.setNotFoundHandler((request, reply) => {
    if (request.url === OBJECT_ROUTE) {
      rejectUnroutedMethod(container, request, reply);
      return;
    }
    if (/^\/v[12](\.0)?\//.test(request.url)) {
      vodNotFound(request, reply);
      return;
    }
    reply
      .code(404)
      .send({ code: 'RouteNotFound', message: `No route for ${request.method} ${request.url}.` });
  });

  await app.register(
    smhApiPlugin({
      config,
      clock: container.clock,
      tokens: container.tokens,
      spaces: container.spaces,
      namespace: container.namespace,
      uploads: container.uploads,
    }),
    { prefix: '/api/v1' },
  );
  await app.register(
    vodApiPlugin({ clock: container.clock, tokens: container.tokens, media: container.media }),
  );
  await app.register(
    objectApiPlugin({
      config,
      clock: container.clock,
      objects: container.objects,
      multipart: container.multipart,
      credentials: container.credentials,
      region: config.region,
      ownerId: container.ownerId,
    }),
  );
  return app;
}
