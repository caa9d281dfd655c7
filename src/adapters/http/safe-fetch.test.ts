// safeFetch against a real HTTP server on loopback: refused by default (by literal address and by a
// name that resolves to loopback), allowed when allow-listed, redirects returned and not followed,
// the response cap and the time limit enforced.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OutboundPolicy } from '../../lib/outbound-policy.ts';
import { OutboundRefusedError, ResponseTooLargeError } from '../../ports/outbound-http.ts';
import { safeFetch } from './safe-fetch.ts';

const LIMITS = { timeoutMs: 30_000, maxResponseBytes: 1024 };

describe('safeFetch', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/target` }).end();
      } else if (req.url === '/big') {
        res.end(Buffer.alloc(4096, 1));
      } else if (req.url === '/slow') {
        res.writeHead(200).write('x'); // never ends
      } else {
        let body = '';
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => res.end(`${req.method} ${body}`));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('refuses loopback by default, whether given as an address or a name, without connecting', async () => {
    const policy = new OutboundPolicy();
    const before = hits.length;
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]', '[::1]']) {
      await assert.rejects(safeFetch(policy, `http://${host}:${port}/x`, LIMITS), (err: Error) => {
        assert.ok(err instanceof OutboundRefusedError, `${host}: ${err}`);
        assert.match(err.message, /not a public address \(loopback\)/);
        return true;
      });
    }
    assert.equal(hits.length, before, 'nothing reached the server');
  });

  it('refuses what is not an http URL', async () => {
    const policy = new OutboundPolicy(['127.0.0.1']);
    await assert.rejects(safeFetch(policy, 'file:///etc/passwd', LIMITS), OutboundRefusedError);
    await assert.rejects(safeFetch(policy, 'not a url', LIMITS), OutboundRefusedError);
  });

  it('sends to an allow-listed address or name', async () => {
    for (const allow of ['127.0.0.0/8', 'localhost']) {
      const policy = new OutboundPolicy([allow]);
      const res = await safeFetch(policy, `http://localhost:${port}/echo`, {
        ...LIMITS,
        method: 'POST',
        body: 'hello',
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'POST hello');
    }
  });

  it('returns a redirect as it is, never following it', async () => {
    const policy = new OutboundPolicy(['127.0.0.1']);
    const before = hits.length;
    const res = await safeFetch(policy, `http://127.0.0.1:${port}/redirect`, LIMITS);
    assert.equal(res.status, 302);
    assert.deepEqual(hits.slice(before), ['/redirect'], 'the target was not requested');
  });

  it('caps the response and limits the time', async () => {
    const policy = new OutboundPolicy(['127.0.0.1']);
    await assert.rejects(safeFetch(policy, `http://127.0.0.1:${port}/big`, LIMITS), ResponseTooLargeError);
    const started = Date.now();
    await assert.rejects(
      safeFetch(policy, `http://127.0.0.1:${port}/slow`, { ...LIMITS, timeoutMs: 300 }),
      (err: Error) => err.name === 'TimeoutError' || err.name === 'AbortError',
    );
    assert.ok(Date.now() - started < 20_000, 'the time limit stopped it');
  });
});
