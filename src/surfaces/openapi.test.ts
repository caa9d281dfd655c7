import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OBJECT_OPERATIONS } from './object/router.ts';
import { renderOpenApi } from './openapi.ts';
import { SMH_OPERATIONS } from './smh/operations.ts';
import { VOD_OPERATIONS } from './vod/operations.ts';

type Json = Record<string, unknown>;

const doc = renderOpenApi({ version: '9.9.9' }) as {
  openapi: string;
  info: Json;
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Json; securitySchemes: Json };
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const operations = (): [string, string, Json][] =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => [path, method, op] as [string, string, Json]),
  );

/** Every operation name the document covers. */
const covered = new Set(operations().flatMap(([, , op]) => (op['x-mediahost-operations'] as string[]) ?? []));

describe('OpenAPI document', () => {
  it('is an OpenAPI 3.1 document: info, paths of operations with unique ids and responses', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'mediahost');
    assert.equal(doc.info.version, '9.9.9');
    const ids = new Set<string>();
    for (const [path, method, op] of operations()) {
      assert.match(path, /^\//, path);
      assert.ok(METHODS.includes(method), `${method} ${path}`);
      assert.equal(typeof op.operationId, 'string', `${method} ${path}`);
      assert.ok(!ids.has(op.operationId as string), `operationId ${op.operationId} is unique`);
      ids.add(op.operationId as string);
      assert.ok(Object.keys(op.responses as Json).length > 0, `${method} ${path} has responses`);
    }
  });

  it('declares exactly the path params of each template, required, and no two identical templates', () => {
    const shapes = new Set<string>();
    for (const path of Object.keys(doc.paths)) {
      const shape = path.replace(/\{\w+\}/g, '{}');
      assert.ok(!shapes.has(shape), `${path} differs from another path only in param names`);
      shapes.add(shape);
    }
    for (const [path, method, op] of operations()) {
      const inTemplate = [...path.split('?')[0]!.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const params = (op.parameters as { name: string; in: string; required: boolean }[] | undefined) ?? [];
      const declared = params.filter((p) => p.in === 'path');
      assert.deepEqual(
        declared.map((p) => p.name),
        inTemplate,
        `${method} ${path}`,
      );
      assert.ok(
        declared.every((p) => p.required),
        `${method} ${path}: path params are required`,
      );
      const names = params.map((p) => `${p.in}:${p.name}`);
      assert.deepEqual(names, [...new Set(names)], `${method} ${path}: no parameter twice`);
    }
  });

  it('resolves every $ref and security scheme, and carries none of our schema annotations', () => {
    const text = JSON.stringify(doc);
    for (const [, name] of text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g))
      assert.ok(doc.components.schemas[name!], `schema ${name}`);
    for (const [, , op] of operations())
      for (const requirement of (op.security as Json[] | undefined) ?? [])
        for (const scheme of Object.keys(requirement))
          assert.ok(doc.components.securitySchemes[scheme], `security scheme ${scheme}`);
    assert.doesNotMatch(text, /"expects"|"code":"/);
  });

  it('covers every implemented operation of the three tables, and none that is not', () => {
    for (const op of [...SMH_OPERATIONS, ...VOD_OPERATIONS]) {
      assert.equal(covered.has(op.name), op.implemented, `${op.name} (implemented: ${op.implemented})`);
    }
    for (const op of OBJECT_OPERATIONS) assert.equal(covered.has(op.op), op.implemented, op.op);
  });

  it('gives a flag-selected operation its own path, and its query and body from the schemas', () => {
    const confirm = doc.paths['/api/v1/file/{lib}/{space}/{path}?confirm']?.post;
    assert.ok(confirm);
    assert.equal(confirm.operationId, 'ConfirmUpload');
    const query = (confirm.parameters as { name: string }[]).map((p) => p.name);
    assert.ok(query.includes('conflict_resolution_strategy') && query.includes('access_token'));
    assert.ok(!query.includes('confirm'), 'the flag is in the path');
    const body = (confirm.requestBody as { content: Record<string, { schema: Json }> }).content[
      'application/json'
    ]!.schema;
    assert.deepEqual(Object.keys(body.properties as Json).sort(), [
      'category',
      'crc64',
      'labels',
      'localCreationTime',
      'localModificationTime',
    ]);
    const quota = doc.paths['/api/v1/quota/{lib}/{quota}']?.get;
    assert.deepEqual(quota?.['x-mediahost-operations'], ['GetQuotaById', 'GetSpaceQuota']);
  });
});
