// Acceptance over HTTP: GET /openapi.json serves the OpenAPI document rendered from the operation
// tables. The path is the server's only as a whole (no bucket can be named openapi.json); below it,
// and with a bucket's Host, it is the object API's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mediahostVersion } from '../../src/app/version.ts';
import { renderOpenApi } from '../../src/surfaces/openapi.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.close();
});

describe('GET /openapi.json', { timeout: 60_000 }, () => {
  it('serves the document of the operation tables as JSON', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc, renderOpenApi({ version: mediahostVersion() }));
    assert.ok(doc.paths['/api/v1/file/{lib}/{space}/{path}?upload'], 'the upload task operations are in it');
  });

  it('answers other methods in the SMH dialect, and leaves deeper paths to the object API', async () => {
    const post = await fetch(`${server.url}/openapi.json`, { method: 'POST' });
    assert.equal(post.status, 404);
    assert.equal(((await post.json()) as { code: string }).code, 'RouteNotFound');
    const below = await fetch(`${server.url}/openapi.json/key`);
    assert.equal(below.status, 404);
    assert.match(await below.text(), /<Code>NoSuchBucket<\/Code>/);
  });
});
