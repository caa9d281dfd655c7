// Walks every operation the wire specs (../shared/spec) list against a real server: each one the
// operation tables mark as not implemented must answer that API's not-implemented error (never 2xx or
// 3xx), each one they mark implemented must reach a route, and a spec operation missing from the
// tables fails the test. The operations are read from the spec text, so the list cannot drift.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isAppError } from '../../src/core/errors.ts';
import { resolveOperation } from '../../src/surfaces/object/router.ts';
import { resolveTarget } from '../../src/surfaces/object/target.ts';
import { SMH_METHODS } from '../../src/surfaces/smh/operation.ts';
import { resolveSmhOperation } from '../../src/surfaces/smh/resolve.ts';
import { VOD_OPERATIONS } from '../../src/surfaces/vod/operations.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createToken, SmhClient, uploadFile } from '../helpers/smh-client.ts';
import {
  extractCosSpec,
  extractOperations,
  readSpec,
  type SpecOperation,
} from '../helpers/spec-operations.ts';

const SUITE = { timeout: 240_000 };

let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.close();
});

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown> | undefined;
  headers: Headers;
}

async function send(
  method: string,
  url: string,
  init: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

const shown = (op: SpecOperation): string =>
  `${op.method} ${op.path}${op.anySuffix ? '/…' : ''}${op.flags.length > 0 ? `?${op.flags.join('&')}` : ''}${
    op.bodyField ? ` body {${op.bodyField}}` : ''
  } (spec: "${op.source}")`;

function isSuccess(status: number): boolean {
  return status >= 200 && status < 400;
}

describe('every operation of the specs', SUITE, () => {
  it('SMH (smh-api §2): not implemented → 400 FunctionNotEnabled; implemented → routed', async () => {
    const ops = extractOperations(readSpec('smh-api.md'), {
      from: /^## 2\. Endpoints/,
      to: /^## 3\. /,
      prefix: '/api/v1/',
    });
    assert.ok(
      ops.length >= 100,
      `only ${ops.length} SMH operations read from the spec: is the extractor broken?`,
    );
    const lib = server.libraryId;
    const smh = new SmhClient({
      url: server.url,
      libraryId: lib,
      token: await createToken(server.url, server, { grant: 'admin' }),
    });
    // Every request meets the same entries (directory walk/sub, file walk/entry.txt), so an
    // operation routed into the wrong handler would succeed and be caught.
    const resetFixture = async (): Promise<void> => {
      await (await smh.request('DELETE', 'directory', 'walk')).arrayBuffer();
      assert.equal((await smh.request('PUT', 'directory', 'walk/sub')).status, 201);
      await uploadFile(smh, 'walk/entry.txt', Buffer.from('walk'));
    };
    const fill = (path: string, method: string): string => {
      const isDirectory = /^\/api\/v1\/(directory|cross-space)\//.test(path);
      return path.replace(/\{(\w+)\}/g, (_, name: string) => {
        if (/^Lib(raryId)?$/.test(name)) return lib;
        if (/^(Space|SpaceId|SpaceIds|TargetSpace)$/.test(name)) return '-';
        // A directory PUT names a new entry (create, move or copy target), anything else an existing one.
        if (name.endsWith('Path'))
          return isDirectory ? (method === 'PUT' ? 'walk/new' : 'walk/sub') : 'walk/entry.txt';
        if (name === 'ConfirmKey') return 'walkconfirmkey';
        if (name === 'AccessToken') return 'acctkwalk';
        return '7';
      });
    };
    let notImplemented = 0;
    const problems: string[] = [];
    const check = (ok: boolean, problem: string): void => {
      if (!ok) problems.push(problem);
    };
    for (const op of ops) {
      for (const method of op.method === 'ANY' ? SMH_METHODS : [op.method]) {
        const path = fill(op.path, method) + (op.anySuffix ? '/walk' : '');
        const query = Object.fromEntries(op.flags.map((f) => [f, '']));
        const source = path.startsWith('/api/v1/file/') ? 'walk/entry.txt' : 'walk/sub';
        const body = op.bodyField ? { [op.bodyField]: source } : undefined;
        const row = resolveSmhOperation({ method, path: path.slice('/api/v1'.length), query, body });
        if (!row && op.method !== 'ANY')
          problems.push(`${shown(op)} matches no row of src/surfaces/smh/operations.ts`);
        await resetFixture();
        const search = [...op.flags, `library_secret=${server.librarySecret}`].join('&');
        const answer = await send(method, `${server.url}${path}?${search}`, body ? { body } : {});
        const what = `${method} ${path}?${op.flags.join('&')} for ${shown(op)}: ${answer.status} ${answer.text}`;
        check(answer.status < 500, `server error: ${what}`);
        if (!row?.implemented) check(!isSuccess(answer.status), `not implemented, yet ${what}`);
        if (row && !row.implemented) {
          notImplemented++;
          const message = String(answer.json?.message);
          const expected =
            answer.status === 400 &&
            (method === 'HEAD' || (answer.json?.code === 'FunctionNotEnabled' && message.includes(row.name)));
          check(expected, `expected 400 FunctionNotEnabled naming ${row.name}: ${what}`);
        }
        if (row?.implemented && method !== 'HEAD')
          check(
            !['RouteNotFound', 'FunctionNotEnabled'].includes(String(answer.json?.code)),
            `not routed: ${what}`,
          );
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(notImplemented >= 50, `only ${notImplemented} unimplemented SMH operations walked`);
  });

  it('COS/S3 (cos-api §2): the routing table is routed; the sub-resources it names answer 501', async () => {
    const { routes, notImplemented } = extractCosSpec(readSpec('cos-api.md'));
    assert.ok(routes.length >= 12, `only ${routes.length} COS routes read from the spec`);
    assert.ok(
      notImplemented.length >= 9,
      `only ${notImplemented.length} COS sub-resources read from the spec`,
    );
    const bucket = server.bucket;
    const host = new URL(server.url).host;
    const expectation = (method: string, path: string, headers: Record<string, string>) => {
      try {
        resolveOperation(method, resolveTarget(path, host, []), headers);
        return 'implemented';
      } catch (err) {
        if (isAppError(err) && err.code === 'NotImplemented') return 'missing';
        throw err;
      }
    };
    const problems: string[] = [];
    const check = (ok: boolean, problem: string): void => {
      if (!ok) problems.push(problem);
    };
    for (const route of routes) {
      const query = route.query.map((q) => `${q}=${q === 'partNumber' ? '1' : 'walk'}`).join('&');
      const path = `/${bucket}${route.target === 'B' ? '' : '/walk/key'}${query ? `?${query}` : ''}`;
      const headers: Record<string, string> = {
        ...(route.headers[0]
          ? { [route.headers[0]]: `${bucket}.cos.ap-guangzhou.myqcloud.com/walk/source` }
          : {}),
        ...(route.contentType ? { 'content-type': `${route.contentType}; boundary=walk` } : {}),
        ...(route.method === 'OPTIONS'
          ? { origin: 'http://walk.test', 'access-control-request-method': 'PUT' }
          : {}),
      };
      const answer = await send(route.method, `${server.url}${path}`, { headers });
      const what = `${route.operation}: ${route.method} ${path} → ${answer.status} ${answer.text}`;
      check(expectation(route.method, path, headers) === 'implemented', `no implemented row: ${what}`);
      check(answer.status !== 501 && answer.status < 500, `not routed: ${what}`);
    }
    for (const name of notImplemented) {
      for (const method of ['GET', 'PUT', 'POST', 'DELETE', 'HEAD']) {
        for (const path of [`/${bucket}?${name}`, `/${bucket}/walk/key?${name}`]) {
          const answer = await send(method, `${server.url}${path}`);
          const what = `${method} ${path} → ${answer.status} ${answer.text}`;
          check(expectation(method, path, {}) === 'missing', `no row refusing it: ${what}`);
          check(!isSuccess(answer.status), `not implemented, yet ${what}`);
          const expected =
            answer.status === 501 &&
            (method === 'HEAD' || answer.text.includes('<Code>NotImplemented</Code>'));
          check(expected, `expected 501 NotImplemented: ${what}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('VOD (vod-tasks §1): not implemented → 501 NOT_IMPLEMENTED; implemented → routed', async () => {
    const ops = extractOperations(readSpec('vod-tasks.md'), {
      from: /^## 1\. Endpoints/,
      to: /^## 2\. /,
      prefix: '/v(?:1|1\\.0|2)/',
    });
    assert.ok(ops.length >= 20, `only ${ops.length} VOD operations read from the spec`);
    const token = await createToken(server.url, server, { grant: 'admin' });
    const rowOf = (method: string, path: string) =>
      VOD_OPERATIONS.find(
        (r) => r.method === method && new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path),
      );
    let notImplemented = 0;
    const problems: string[] = [];
    const check = (ok: boolean, problem: string): void => {
      if (!ok) problems.push(problem);
    };
    for (const op of ops) {
      for (const method of op.method === 'ANY' ? ['GET', 'POST', 'PUT', 'DELETE'] : [op.method]) {
        const path = op.path.replace('{project_id}', server.libraryId).replace(/\{\w+\}/g, '7');
        const row = rowOf(method, path);
        if (!row && op.method !== 'ANY')
          problems.push(`${shown(op)} matches no row of src/surfaces/vod/operations.ts`);
        const answer = await send(method, `${server.url}${path}`, { headers: { 'x-auth-token': token } });
        const what = `${method} ${path} for ${shown(op)}: ${answer.status} ${answer.text}`;
        if (!row?.implemented) check(!isSuccess(answer.status), `not implemented, yet ${what}`);
        if (row && !row.implemented) {
          notImplemented++;
          const expected =
            answer.status === 501 &&
            answer.json?.error_code === 'NOT_IMPLEMENTED' &&
            String(answer.json?.error_msg).includes(row.name) &&
            answer.headers.get('x-request-id') !== null;
          check(expected, `expected 501 NOT_IMPLEMENTED naming ${row.name} with X-Request-Id: ${what}`);
        }
        if (row?.implemented)
          check(![404, 501].includes(answer.status) && answer.status < 500, `not routed: ${what}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(notImplemented >= 10, `only ${notImplemented} unimplemented VOD operations walked`);
  });
});
