// Acceptance over HTTP: CORS on the SMH API (/api/v1) and the VOD API (/v1/{project}), which browsers
// call too (spec smh §1.4 "CORS enabled"). One setting, --cors-origins, governs them and the object API:
// preflights are answered, and every response to an allowed origin, errors included, carries the
// allow header and exposes what clients read (request ids, file headers, Date).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { rawFetch } from '../helpers/sign.ts';
import { createToken, putSimple, type UploadInfo } from '../helpers/smh-client.ts';

const SUITE = { timeout: 240_000 };
const ORIGIN = 'https://app.example';

function preflight(
  server: TestServer,
  path: string,
  init: { origin: string; method: string; headers?: string },
): Promise<Response> {
  return rawFetch(`${server.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin: init.origin,
      'access-control-request-method': init.method,
      ...(init.headers === undefined ? {} : { 'access-control-request-headers': init.headers }),
    },
  });
}

function call(
  server: TestServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return rawFetch(`${server.url}${path}`, { method, headers: { origin: ORIGIN, ...headers } });
}

const exposed = (res: Response): string[] =>
  (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());

async function expectCode(res: Response, status: number, field: string, code: string): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal((JSON.parse(text) as Record<string, string>)[field], code, text);
}

describe('CORS on the SMH and VOD APIs, any origin (the default)', SUITE, () => {
  let server: TestServer;
  let token: string;
  const smh = (path: string, query = ''): string =>
    `/api/v1/${path}?access_token=${token}${query === '' ? '' : `&${query}`}`;

  before(async () => {
    server = await startTestServer();
    token = await createToken(server.url, server, { grant: 'admin' });
  });
  after(async () => {
    await server?.close();
  });

  it('SMH preflight: 204 with origin, methods, the requested headers and max-age', async () => {
    const requested = 'content-type,x-smh-meta-creation-date';
    const res = await preflight(
      server,
      `/api/v1/file/${server.libraryId}/-/${encodeURIComponent('a/b.txt')}`,
      {
        origin: ORIGIN,
        method: 'PUT',
        headers: requested,
      },
    );
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const methods = (res.headers.get('access-control-allow-methods') ?? '').split(',');
    for (const m of ['GET', 'PUT', 'POST', 'DELETE', 'HEAD']) assert.ok(methods.includes(m), m);
    assert.equal(res.headers.get('access-control-allow-headers'), requested);
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.ok(exposed(res).includes('x-smh-request-id'));
  });

  it('SMH responses, success and error, carry Allow-Origin and expose request ids, file headers and Date', async () => {
    const listing = await call(server, 'GET', smh(`directory/${server.libraryId}/-/%2F`));
    assert.equal(listing.status, 200, await listing.text());
    assert.equal(listing.headers.get('access-control-allow-origin'), '*');
    for (const h of [
      'x-smh-request-id',
      'x-request-id',
      'etag',
      'date',
      'location',
      'x-smh-size',
      'x-smh-crc64',
    ])
      assert.ok(exposed(listing).includes(h), h);

    const begin = await call(server, 'PUT', smh(`file/${server.libraryId}/-/cors.txt`));
    assert.equal(begin.headers.get('access-control-allow-origin'), '*');
    const grant = (await begin.json()) as UploadInfo;
    await putSimple(grant, Buffer.from('cors'));
    const confirm = await call(
      server,
      'POST',
      smh(`file/${server.libraryId}/-/${grant.confirmKey}`, 'confirm=1'),
    );
    assert.equal(confirm.status, 200, await confirm.text());
    const head = await call(server, 'HEAD', smh(`file/${server.libraryId}/-/cors.txt`));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('access-control-allow-origin'), '*');
    assert.equal(head.headers.get('x-smh-size'), '4');

    const errors: [Response, number, string][] = [
      [await call(server, 'GET', `/api/v1/directory/${server.libraryId}/-/`), 400, 'EmptyAccessToken'],
      [
        await call(server, 'GET', smh(`file/${server.libraryId}/-/missing.txt`, 'info=1')),
        404,
        'FileNotFound',
      ],
      [await call(server, 'GET', smh(`nowhere/${server.libraryId}`)), 404, 'RouteNotFound'],
    ];
    for (const [res, status, code] of errors) {
      assert.equal(res.headers.get('access-control-allow-origin'), '*', code);
      assert.ok(exposed(res).includes('x-smh-request-id'), code);
      await expectCode(res, status, 'code', code);
    }
  });

  it('VOD preflight and responses, success and error, carry the CORS headers', async () => {
    const tasks = `/v1/${server.libraryId}/asset/editing/tasks`;
    const pre = await preflight(server, tasks, {
      origin: ORIGIN,
      method: 'POST',
      headers: 'x-auth-token,content-type',
    });
    assert.equal(pre.status, 204, await pre.text());
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.equal(pre.headers.get('access-control-allow-headers'), 'x-auth-token,content-type');
    const v10 = await preflight(server, `/v1.0/${server.libraryId}/asset/process`, {
      origin: ORIGIN,
      method: 'DELETE',
    });
    assert.equal(v10.status, 204, await v10.text());

    const list = await call(server, 'GET', tasks, { 'x-auth-token': token });
    assert.equal(list.status, 200, await list.text());
    assert.equal(list.headers.get('access-control-allow-origin'), '*');
    assert.ok(exposed(list).includes('x-request-id'));
    assert.ok(exposed(list).includes('date'));

    const denied = await call(server, 'GET', tasks);
    assert.equal(denied.headers.get('access-control-allow-origin'), '*');
    assert.ok(denied.status >= 400 && denied.status < 500, `an error: ${denied.status}`);
    await denied.text();
    const unknown = await call(server, 'GET', `/v1/${server.libraryId}/nothing/here`);
    assert.equal(unknown.headers.get('access-control-allow-origin'), '*');
    await expectCode(unknown, 404, 'error_code', 'APIGW.0101');
  });

  it('the object API exposes Date too (clock-skew correction)', async () => {
    const res = await call(server, 'GET', `/${server.bucket}/missing.bin`);
    await res.text();
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.ok(exposed(res).includes('date'));
    assert.ok(exposed(res).includes('etag'));
  });
});

describe('CORS on the SMH and VOD APIs restricted to one origin', SUITE, () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer({ corsOrigins: [ORIGIN] });
    token = await createToken(server.url, server, { grant: 'admin' });
  });
  after(async () => {
    await server?.close();
  });

  it('the listed origin is echoed back, with Vary: Origin', async () => {
    const pre = await preflight(server, `/api/v1/directory/${server.libraryId}/-/%2F`, {
      origin: ORIGIN,
      method: 'GET',
    });
    assert.equal(pre.status, 204, await pre.text());
    assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
    const res = await call(
      server,
      'GET',
      `/api/v1/directory/${server.libraryId}/-/%2F?access_token=${token}`,
    );
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(res.headers.get('vary') ?? '', /Origin/);
  });

  it('another origin: preflight refused in each dialect, and no allow header on any response', async () => {
    const other = 'https://evil.example';
    const smhPre = await preflight(server, `/api/v1/directory/${server.libraryId}/-/%2F`, {
      origin: other,
      method: 'GET',
    });
    assert.equal(smhPre.headers.get('access-control-allow-origin'), null);
    assert.equal(smhPre.headers.get('access-control-allow-methods'), null);
    await expectCode(smhPre, 403, 'code', 'NoPermission');
    const vodPre = await preflight(server, `/v1/${server.libraryId}/asset/tasks`, {
      origin: other,
      method: 'GET',
    });
    assert.equal(vodPre.headers.get('access-control-allow-origin'), null);
    assert.equal(vodPre.status, 403, await vodPre.text());

    const res = await rawFetch(
      `${server.url}/api/v1/directory/${server.libraryId}/-/%2F?access_token=${token}`,
      {
        method: 'GET',
        headers: { origin: other },
      },
    );
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-expose-headers'), null);
  });

  it('a method the APIs do not serve: preflight refused, without allow headers', async () => {
    const res = await preflight(server, `/api/v1/directory/${server.libraryId}/-/%2F`, {
      origin: ORIGIN,
      method: 'PATCH',
    });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-allow-methods'), null);
    await expectCode(res, 403, 'code', 'NoPermission');
  });
});

describe('CORS switched off (--cors-origins empty)', SUITE, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ corsOrigins: [] });
  });
  after(async () => {
    await server?.close();
  });

  it('every preflight is refused and no response carries CORS headers', async () => {
    const pre = await preflight(server, `/api/v1/directory/${server.libraryId}/-/%2F`, {
      origin: ORIGIN,
      method: 'GET',
    });
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
    await expectCode(pre, 403, 'code', 'NoPermission');
    const res = await call(server, 'GET', `/api/v1/directory/${server.libraryId}/-/`);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    await expectCode(res, 400, 'code', 'EmptyAccessToken');
  });
});
