// Every error a path can produce comes in that path's dialect: COS/S3 XML for object paths, SMH JSON
// `{code, message, requestId}` under /api, VOD `{error_code, error_msg}` under /v1, /v1.0 and /v2,
// whichever layer refuses the request (Node's HTTP parser, fastify's router, a surface). A seeded
// generator sends malformed requests over raw sockets; /healthz is the health check only as a
// whole path, so a bucket whose name starts with "healthz" is reachable path-style.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectClient } from '../helpers/object-client.ts';
import { exchangeUntilClosed, type RawAnswer } from '../helpers/raw-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

type Dialect = 'xml' | 'smh' | 'vod';

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertDialect(answer: RawAnswer, dialect: Dialect, what: string): void {
  const context = `${what}\n→ ${answer.status} ${JSON.stringify(answer.headers)}\n${answer.body.slice(0, 400)}`;
  assert.ok(answer.status >= 400, `an error status: ${context}`);
  if (dialect === 'xml') {
    assert.match(answer.headers['content-type'] ?? '', /xml/, context);
    assert.match(answer.body, /^<\?xml[^>]*>\s*<Error>[\s\S]*<Code>[^<]+<\/Code>[\s\S]*<\/Error>$/, context);
    const id = answer.headers['x-cos-request-id'];
    assert.ok(id, `x-cos-request-id: ${context}`);
    assert.equal(answer.headers['x-amz-request-id'], id, context);
    assert.equal(/<RequestId>([^<]*)<\/RequestId>/.exec(answer.body)?.[1], id, context);
    return;
  }
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/, context);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  if (dialect === 'smh') {
    assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'requestId'], context);
    assert.equal(typeof body.code, 'string', context);
    assert.equal(typeof body.message, 'string', context);
    assert.equal(answer.headers['x-smh-request-id'], body.requestId, context);
    assert.equal(answer.headers['x-request-id'], body.requestId, context);
  } else {
    assert.deepEqual(Object.keys(body).sort(), ['error_code', 'error_msg'], context);
    assert.match(String(body.error_code), /^[A-Z]+\.\d+$/, context);
    assert.equal(typeof body.error_msg, 'string', context);
    assert.ok(answer.headers['x-request-id'], `X-Request-Id: ${context}`);
  }
}

interface Malformation {
  name: string;
  /** Whether it adds path segments (which can move /healthz to the object API). */
  extendsPath: boolean;
  build(path: string, pick: <T>(items: readonly T[]) => T, int: (min: number, max: number) => number): string;
}

const HEAD = 'Host: 127.0.0.1\r\nConnection: close\r\n';

const MALFORMATIONS: Malformation[] = [
  {
    name: 'a path segment longer than the router allows',
    extendsPath: true,
    build: (path, _pick, int) => `GET ${path}/${'s'.repeat(int(101, 600))}/x HTTP/1.1\r\n${HEAD}\r\n`,
  },
  {
    name: 'a URL longer than the header section allows',
    extendsPath: false,
    build: (path, _pick, int) => `GET ${path}?q=${'u'.repeat(int(17_000, 40_000))} HTTP/1.1\r\n${HEAD}\r\n`,
  },
  {
    name: 'bad percent-encoding',
    extendsPath: true,
    build: (path, pick) =>
      `GET ${path}/${pick(['%zz', '%', '%e9', '%c3%28', '%GG%', 'a%ff%fe'])} HTTP/1.1\r\n${HEAD}\r\n`,
  },
  {
    name: 'a method no route serves, or HTTP does not know',
    extendsPath: false,
    build: (path, pick) =>
      `${pick(['FOO', 'BREW', 'PROPFIND', 'TRACE', 'MKCOL', 'PATCH'])} ${path} HTTP/1.1\r\n${HEAD}\r\n`,
  },
  {
    name: 'a bad request line',
    extendsPath: false,
    build: (path, pick) =>
      pick([`GET ${path} HTTP/1.x\r\n`, `GET ${path} HTTX/1.1\r\n`, `GET ${path} HTTP/1.1 extra\r\n`]) +
      `${HEAD}\r\n`,
  },
  {
    name: 'a malformed header',
    extendsPath: false,
    build: (path, pick) =>
      `GET ${path} HTTP/1.1\r\n${HEAD}${pick(['Bad Header\r\n', 'Bad(Name): x\r\n', ': no-name\r\n', 'X-Ctl: a\x01b\r\n'])}\r\n`,
  },
  {
    name: 'an oversized header',
    extendsPath: false,
    build: (path, _pick, int) =>
      `GET ${path} HTTP/1.1\r\n${HEAD}X-Big: ${'h'.repeat(int(17_000, 40_000))}\r\n\r\n`,
  },
  {
    name: 'a body that is not JSON',
    extendsPath: false,
    build: (path, pick) => {
      const body = pick(['{"a":', '[1,2', 'not json', '{"x":1}}']);
      return `POST ${path} HTTP/1.1\r\n${HEAD}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    },
  },
  {
    name: 'a declared body above every limit',
    extendsPath: false,
    build: (path) =>
      `POST ${path} HTTP/1.1\r\n${HEAD}Content-Type: application/json\r\nContent-Length: ${6 * 1024 * 1024 * 1024}\r\n\r\n`,
  },
  {
    name: 'a bad Content-Length',
    extendsPath: false,
    build: (path, pick) =>
      `POST ${path} HTTP/1.1\r\n${HEAD}${pick(['Content-Length: abc\r\n', 'Content-Length: 1\r\nContent-Length: 2\r\n', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'])}\r\nhello`,
  },
  {
    name: 'a malformed chunked body',
    extendsPath: false,
    build: (path, pick) =>
      `PUT ${path} HTTP/1.1\r\n${HEAD}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${pick(['zz\r\n', '5\r\nabcdeXX\r\n', '-1\r\n', '3;\x01=x\r\nabc\r\n'])}`,
  },
];

describe('error dialects', { timeout: 600_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server.close();
  });

  it('malformed requests to every surface are answered in that surface dialect (seeded)', async () => {
    const paths: [string, Dialect | 'health'][] = [
      [`/${server.bucket}/fuzz/key.txt`, 'xml'],
      ['/', 'xml'],
      ['/other-1250000000/x', 'xml'],
      ['/apix/y', 'xml'],
      ['/api', 'smh'],
      ['/api/', 'smh'],
      ['/api/v1', 'smh'],
      [`/api/v1/directory/${server.libraryId}/-/a`, 'smh'],
      ['/api/v2/x', 'smh'],
      ['/v1', 'vod'],
      ['/v1.0', 'vod'],
      ['/v2', 'vod'],
      [`/v1/${server.libraryId}/asset/tasks`, 'vod'],
      [`/v1.0/${server.libraryId}/asset/process`, 'vod'],
      ['/healthz', 'health'],
    ];
    const random = seeded(Number(process.env.MEDIAHOST_FUZZ_SEED ?? 20_241_212));
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
    const ROUNDS = 2;
    let sent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [path, surface] of paths) {
        for (const malformation of MALFORMATIONS) {
          const bytes = malformation.build(path, pick, int);
          // The health check answers in the SMH dialect; a longer path is an object key.
          const dialect: Dialect =
            surface === 'health' ? (malformation.extendsPath ? 'xml' : 'smh') : surface;
          const what = `${malformation.name}: ${JSON.stringify(bytes.slice(0, 160))}`;
          assertDialect(await exchangeUntilClosed(server.port, bytes), dialect, what);
          sent++;
        }
      }
    }
    assert.equal(sent, ROUNDS * paths.length * MALFORMATIONS.length);
    // And the server still serves.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('a library whose bucket starts with healthz is reachable path-style; /healthz stays the health check', async () => {
    const created = await server.server.container.libraries.create({
      name: 'healthz-media',
      multiTenant: false,
    });
    assert.match(created.library.bucket, /^healthz-media-/);
    const client = new ObjectClient({
      url: server.url,
      bucket: created.library.bucket,
      credentials: { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey },
    });
    assert.equal((await client.put('probe.txt', Buffer.from('alive'))).status, 200);
    const got = await client.get('probe.txt');
    assert.equal(got.status, 200);
    assert.equal(got.body.toString(), 'alive');
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const query = await fetch(`${server.url}/healthz?verbose=1`);
    assert.equal(query.status, 200);
    await query.text();
  });
});
