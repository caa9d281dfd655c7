// The logger: ISO timestamps and level names in JSON, a readable line in pretty mode (chosen by
// --log-format, or by whether stdout is a terminal), secrets masked in both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLog } from '../../test/helpers/log-capture.ts';
import { createLogger, isPrettyFormat } from './create-logger.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('createLogger', () => {
  it('writes JSON lines with an ISO time, the level name and masked secrets', () => {
    const log = captureLog();
    const logger = createLogger({ logLevel: 'info', logFormat: 'json' }, { destination: log.destination });
    logger.warn({ url: '/api/v1/token?library_secret=hunter2', status: 400 }, 'request');
    const [record] = log.records();
    assert.ok(record, log.text());
    assert.match(String(record.time), ISO);
    assert.equal(record.level, 'warn');
    assert.equal(record.msg, 'request');
    assert.equal(record.url, '/api/v1/token?library_secret=[REDACTED]');
    assert.ok(!log.text().includes('hunter2'));
  });

  it('writes one readable line with an ISO time in pretty mode, secrets masked', () => {
    const log = captureLog();
    const logger = createLogger({ logLevel: 'info', logFormat: 'pretty' }, { destination: log.destination });
    logger.info({ url: '/b/k?X-Amz-Signature=deadbeef', status: 200 }, 'request');
    const text = log.text();
    assert.match(text, /^\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\] INFO: request /);
    assert.equal(text.trimEnd().split('\n').length, 1, text);
    assert.ok(!text.includes('deadbeef'), text);
    assert.throws(() => JSON.parse(text));
  });

  it('auto is pretty on a terminal and JSON elsewhere', () => {
    assert.equal(isPrettyFormat('auto', true), true);
    assert.equal(isPrettyFormat('auto', false), false);
    assert.equal(isPrettyFormat('json', true), false);
    assert.equal(isPrettyFormat('pretty', false), true);
    const log = captureLog();
    createLogger(
      { logLevel: 'info', logFormat: 'auto' },
      { destination: log.destination, isTerminal: false },
    ).info('plain');
    assert.equal(log.records()[0]?.msg, 'plain');
  });
});
