import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSmhOperation, methodsOf, smhPathTemplate } from './operation.ts';
import { SMH_OPERATIONS } from './operations.ts';
import { paramsOf, resolveSmhOperation, segmentsOf } from './resolve.ts';

const resolve = (method: string, path: string, query: Record<string, string> = {}, body?: unknown) =>
  resolveSmhOperation({ method, path, query, body })?.name;

describe('SMH operation table', () => {
  it('names every operation once', () => {
    const names = SMH_OPERATIONS.map((o) => o.name);
    assert.deepEqual(names, [...new Set(names)]);
  });

  it('reaches every row: no earlier row shadows a later one', () => {
    for (const operation of SMH_OPERATIONS) {
      const path = `/${operation.path}`
        .replace(/\{\w+:digits\}/g, '7')
        .replace(/\{\w+\*\}/g, 'a/b')
        .replace(/\{\w+\}/g, 'x');
      const query = operation.flag ? { [operation.flag]: '' } : {};
      const body = operation.bodyField ? { [operation.bodyField]: 'a' } : undefined;
      for (const method of methodsOf(operation))
        assert.equal(resolve(method, path, query, body), operation.name, `${method} ${path}`);
    }
  });

  it('follows the spec dispatch order: flags before body fields before the plain row', () => {
    assert.equal(
      resolve('PUT', '/file/l/-/a.txt', { virtual_file: '' }, { copyFrom: 'b' }),
      'CreateVirtualFile',
    );
    assert.equal(resolve('PUT', '/file/l/-/a.txt', {}, { copyFrom: 'b', from: 'c' }), 'CopyFile');
    assert.equal(resolve('PUT', '/file/l/-/a.txt', {}, { linkTo: 'b' }), 'CreateSymlink');
    assert.equal(resolve('PUT', '/file/l/-/a.txt', {}, { size: '1' }), 'BeginSimpleUpload');
    assert.equal(resolve('PUT', '/file/l/-/a.txt', {}, ['from']), 'BeginSimpleUpload');
    assert.equal(resolve('POST', '/file/l/-/key', { confirm: '1' }), 'ConfirmUpload');
    // `preview=1` is a parameter of info (spec smh §2.3.9), `?preview` alone the thumbnail operation.
    assert.equal(resolve('GET', '/file/l/-/a.txt', { info: '', preview: '1' }), 'GetFileInfo');
    assert.equal(resolve('GET', '/file/l/-/a.txt', { preview: '' }), 'PreviewFile');
    assert.equal(resolve('GET', '/file/l/-/a.txt', { info: '', history_id: '3' }), 'GetFileVersion');
    assert.equal(resolve('PUT', '/directory/l/-/d', {}, { copyFrom: 'e', from: 'f' }), 'CopyDirectory');
    assert.equal(resolve('PUT', '/directory/l/-/d', { calibrate: '' }), 'CalibrateDirectoryStats');
    assert.equal(resolve('DELETE', '/directory/l/-/d', { directory_only: '1' }), 'DeleteDirectory');
  });

  it('tells quota ids (all digits) from space ids', () => {
    assert.equal(resolve('GET', '/quota/l/12'), 'GetQuotaById');
    assert.equal(resolve('GET', '/quota/l/-'), 'GetSpaceQuota');
    assert.equal(resolve('PUT', '/quota/l/space04fzo07fdq61b'), 'UpdateSpaceQuota');
  });

  it('matches literal segments percent-decoded, ignores empty segments, and knows no other path', () => {
    assert.equal(resolve('GET', '/space/l/%6Cist'), 'ListSpaces');
    assert.equal(resolve('POST', '/favorite/l/-/', { cancel: '' }), 'CancelFavorite');
    assert.equal(resolve('GET', '/directory/l/-'), 'ListDirectory');
    assert.equal(resolve('GET', '/file/l/-/%E0%A4%A'), 'DownloadFile');
    assert.equal(resolve('GET', '/nothing/l'), undefined);
    assert.equal(resolve('PATCH', '/file/l/-/a'), undefined);
    assert.equal(resolve('GET', '/token/l/t'), undefined);
  });

  it('describes rows in the spelling of the docs', () => {
    const symlink = SMH_OPERATIONS.find((o) => o.name === 'CreateSymlink')!;
    assert.equal(describeSmhOperation(symlink), 'PUT /api/v1/file/{lib}/{space}/{path} with body {linkTo}');
    const byId = SMH_OPERATIONS.find((o) => o.name === 'GetQuotaById')!;
    assert.equal(describeSmhOperation(byId), 'GET /api/v1/quota/{lib}/{quota}');
    assert.equal(smhPathTemplate(symlink), '/api/v1/file/{lib}/{space}/{path}');
  });
});

describe('SMH path params', () => {
  const row = (name: string) => SMH_OPERATIONS.find((o) => o.name === name)!;

  it('decodes one-segment params and splits the rest on encoded slashes too', () => {
    assert.deepEqual(paramsOf(row('DownloadFile'), segmentsOf('/file/l%69b/-/a%2Fb/c%20d.txt/')), {
      lib: 'lib',
      space: '-',
      path: ['a', 'b', 'c d.txt'],
    });
    assert.deepEqual(paramsOf(row('ListDirectory'), segmentsOf('/directory/lib/-/%2F')), {
      lib: 'lib',
      space: '-',
      path: [],
    });
    assert.deepEqual(paramsOf(row('GetSpacesUsage'), segmentsOf('/usage/lib/s1%2Cs2')), {
      lib: 'lib',
      spaceIds: 's1,s2',
    });
  });

  it('refuses a param longer than the router allows, and bad percent-encoding', () => {
    assert.throws(() => paramsOf(row('RenewAccessToken'), segmentsOf(`/token/lib/${'t'.repeat(101)}`)), {
      code: 'InvalidURI',
    });
    assert.throws(() => paramsOf(row('DownloadFile'), segmentsOf('/file/lib/-/%E0%A4%A')), {
      code: 'InvalidArgument',
    });
  });
});
