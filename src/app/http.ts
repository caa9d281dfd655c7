// The HTTP application: one fastify instance, one port, one encapsulated plugin per API surface.
// Requests are sent to the object API when their Host names a bucket (virtual-host style) or their
// path is not one of the other surfaces' prefixes (path style), before fastify's router sees them.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { AppError } from '../core/errors.ts';
import { diskHealth } from '../core/free-space.ts';
import { newRequestId } from '../core/ids.ts';
import { corsOptions } from '../surfaces/cors.ts';
import { OBJECT_ROUTE, objectApiPlugin, rejectUnroutedMethod } from '../surfaces/object/plugin.ts';
import { renderOpenApi } from '../surfaces/openapi.ts';
import { smhApiPlugin } from '../surfaces/smh/plugin.ts';
import { vodApiPlugin, vodNotFound } from '../surfaces/vod/plugin.ts';
import { bodyTimeoutHook } from './body-timeout.ts';
import type { Container } from './container.ts';
import { probeDatabase } from './database-health.ts';
import { requestLogger } from './request-log.ts';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  rootErrorHandler,
  sendSurfaceError,
} from './surface-errors.ts';
import { surfaceOf } from './surface-of.ts';
import { mediahostVersion } from './version.ts';

export async function buildHttpApp(container: Container): Promise<FastifyInstance> {
  const { config } = container;
  const cors = corsOptions(config);
  const newId = (): string => newRequestId(container.clock.now());
  const logRequest = requestLogger({
    logHealthChecks: config.logHealthChecks,
    vhostSuffixes: config.vhostSuffixes,
  });
  const onFrameworkError = frameworkErrorHandler({ vhostSuffixes: config.vhostSuffixes, logRequest });
  const app = Fastify({
    loggerInstance: container.logger as FastifyBaseLogger,
    // The request log is ours (request-log.ts): one line per answer, with the error's code and reason.
    logController: new LogController({ disableRequestLogging: true }),
    // One id per request: the log's reqId and every surface's request-id header and error body.
    genReqId: newId,
    // Large uploads may take longer than any fixed request timeout.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    forceCloseConnections: 'idle',
    bodyLimit: 4 * 1024 * 1024,
    clientErrorHandler: clientErrorHandler({
      vhostSuffixes: config.vhostSuffixes,
      logger: container.logger,
      newRequestId: newId,
    }),
    frameworkErrors: (err, request, reply) => onFrameworkError(err, request, reply),
    rewriteUrl: (req) =>
      surfaceOf(req.url ?? '/', req.headers.host, config.vhostSuffixes) === 'object'
        ? OBJECT_ROUTE
        : (req.url ?? '/'),
  });
  app.addHook('onResponse', async (request, reply) => logRequest(request, reply));
  app.addHook('preParsing', bodyTimeoutHook(config.bodyTimeoutSeconds));
  app.setErrorHandler(rootErrorHandler(config.vhostSuffixes));

  app.get('/healthz', async (_request, reply) => {
    const db = await probeDatabase(container.store);
    const database = db.status;
    const objectStore = await container.objectStore.health();
    // Below the reserve uploads are refused: the node is not ready for them (docs/adr/0001 §18).
    const disk = await diskHealth(container.disk);
    const healthy = database === 'ok' && objectStore.status === 'ok' && disk.status === 'ok';
    // Without ffmpeg everything but media tasks works: say so, without failing the check.
    const tools = await container.mediaRunner.status();
    reply.code(healthy ? 200 : 503);
    return {
      status: healthy ? 'ok' : 'degraded',
      version: mediahostVersion(),
      database,
      ...(db.status === 'ok' ? {} : { databaseReason: db.reason }),
      metadata: container.store.kind,
      objectStore,
      disk,
      media: tools.available
        ? { status: 'ok', ffmpeg: tools.ffmpeg, workers: config.workerConcurrency }
        : { status: 'unavailable', reason: tools.reason, workers: config.workerConcurrency },
    };
  });

  // The operation tables as OpenAPI 3.1, rendered once: they do not change while the server runs.
  const openApi = JSON.stringify(renderOpenApi({ version: mediahostVersion() }));
  app.get('/openapi.json', async (_request, reply) => {
    reply.header('content-type', 'application/json; charset=utf-8');
    return openApi;
  });

  app.setNotFoundHandler((request, reply) => {
    if (request.url === OBJECT_ROUTE) {
      rejectUnroutedMethod(request, reply);
      return;
    }
    const surface = surfaceOf(request.url, request.headers.host, config.vhostSuffixes);
    if (surface === 'vod') {
      vodNotFound(request, reply, cors);
      return;
    }
    const path = request.url.split('?', 1)[0];
    sendSurfaceError(
      request,
      reply,
      surface,
      new AppError('RouteNotFound', `No route for ${request.method} ${path}.`),
    );
  });

  await app.register(
    smhApiPlugin({
      config,
      tokens: container.tokens,
      spaces: container.spaces,
      namespace: container.namespace,
      uploads: container.uploads,
    }),
    { prefix: '/api/v1' },
  );
  await app.register(vodApiPlugin({ tokens: container.tokens, media: container.media, cors }));
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
