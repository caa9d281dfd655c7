// The request line: level by who is at fault (server faults at error with the stack, client errors
// and 501 at warn without one, the rest at info), and /healthz left out while healthy unless asked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { captureLog } from '../../test/helpers/log-capture.ts';
import { AppError } from '../core/errors.ts';
import { noteFailure } from '../surfaces/request-outcome.ts';
import { createLogger } from './create-logger.ts';
import { requestLogger } from './request-log.ts';

async function serve(logHealthChecks: boolean) {
  const log = captureLog();
  const app = Fastify({
    loggerInstance: createLogger(
      { logLevel: 'info', logFormat: 'json' },
      { destination: log.destination },
    ) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const logRequest = requestLogger({ logHealthChecks, vhostSuffixes: [] });
  app.addHook('onResponse', async (request, reply) => logRequest(request, reply));
  app.get('/fault', async (request, reply) => {
    const err = new Error('the disk is on fire');
    noteFailure(request, {
      status: 500,
      code: 'InternalError',
      message: 'We encountered an internal error.',
      err,
    });
    return reply.code(500).send('fault');
  });
  app.get('/unsupported', async (request, reply) => {
    const err = new AppError('NotImplemented', 'The acl sub-resource is not implemented.');
    noteFailure(request, { status: 501, code: 'NotImplemented', message: err.message, err });
    return reply.code(501).send('no');
  });
  app.get('/healthz', async (request, reply) =>
    reply.code((request.query as { status?: string }).status === 'bad' ? 503 : 200).send({}),
  );
  app.get('/fine', async () => 'ok');
  const lines = () => log.records().filter((r) => r.msg === 'request');
  return { app, lines };
}

describe('the request log', () => {
  it('logs a server fault at error with its stack, a 501 at warn without, a success at info', async () => {
    const { app, lines } = await serve(false);
    await app.inject('/fault');
    await app.inject('/unsupported');
    await app.inject('/fine');
    const [fault, unsupported, fine] = lines();
    assert.ok(fault && unsupported && fine);
    assert.equal(fault.level, 'error');
    assert.equal(fault?.code, 'InternalError');
    assert.match(String((fault.err as { stack?: string }).stack), /the disk is on fire/);
    assert.equal(unsupported?.level, 'warn');
    assert.equal(unsupported?.code, 'NotImplemented');
    assert.equal(unsupported?.reason, 'The acl sub-resource is not implemented.');
    assert.equal(unsupported?.err, undefined);
    assert.equal(fine?.level, 'info');
    assert.equal(fine?.status, 200);
    assert.equal(typeof fine?.reqId, 'string');
    await app.close();
  });

  it('leaves healthy /healthz probes out unless --log-health-checks, and logs unhealthy ones', async () => {
    const quiet = await serve(false);
    await quiet.app.inject('/healthz');
    await quiet.app.inject('/healthz?status=bad');
    await quiet.app.inject('/fine');
    assert.deepEqual(
      quiet.lines().map((r) => [r.url, r.status]),
      [
        ['/healthz?status=bad', 503],
        ['/fine', 200],
      ],
    );
    await quiet.app.close();
    const chatty = await serve(true);
    await chatty.app.inject('/healthz');
    assert.deepEqual(
      chatty.lines().map((r) => [r.url, r.status, r.level]),
      [['/healthz', 200, 'info']],
    );
    await chatty.app.close();
  });
});
