import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findObjectOperation, OBJECT_OPERATIONS, resolveOperation } from './router.ts';
import { resolveTarget } from './target.ts';

const HOST = '127.0.0.1:9000';
const PATHS = { service: '/', bucket: '/photos-1250000000', object: '/photos-1250000000/a/b.jpg' };

describe('object API operation table', () => {
  it('reaches every row: no earlier row shadows a later one', () => {
    for (const row of OBJECT_OPERATIONS) {
      const methods = row.method === 'ANY' ? ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] : [row.method];
      const levels = row.level === 'ANY' ? (['bucket', 'object'] as const) : [row.level];
      const query = [...(row.query ?? []), ...(row.queryPrefix ? [`${row.queryPrefix}/x`] : [])].join('&');
      const headers = {
        ...(row.header ? { [row.header[0]!]: 'v' } : {}),
        ...(row.contentType ? { 'content-type': `${row.contentType}; boundary=b` } : {}),
      };
      for (const method of methods)
        for (const level of levels) {
          const target = resolveTarget(`${PATHS[level]}${query ? `?${query}` : ''}`, HOST, []);
          assert.equal(findObjectOperation(method, target, headers), row, `${method} ${level} ${query}`);
        }
    }
  });

  it('answers 501 for processing and sub-resources, 405 for what no row knows', () => {
    const target = (url: string) => resolveTarget(url, HOST, []);
    assert.throws(
      () => resolveOperation('GET', target(`${PATHS.object}?imageMogr2/thumbnail/!50p`), {}),
      (err: { code?: string }) => err.code === 'NotImplemented',
    );
    assert.throws(
      () => resolveOperation('GET', target(`${PATHS.object}?ci-process=videoinfo`), {}),
      (err: { code?: string }) => err.code === 'NotImplemented',
    );
    assert.throws(
      () => resolveOperation('PATCH', target(PATHS.object), {}),
      (err: { code?: string }) => err.code === 'MethodNotAllowed',
    );
    // A parameter merely starting with a processing name is no processing request.
    assert.equal(resolveOperation('GET', target(`${PATHS.object}?imageInfoExtra=1`), {}), 'GetObject');
    assert.equal(resolveOperation('OPTIONS', target(`${PATHS.object}?acl`), {}), 'Preflight');
  });
});
