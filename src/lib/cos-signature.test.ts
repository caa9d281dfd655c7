// Tests for COS q-sign-algorithm=sha1 signatures against the worked examples of spec §5.1 and §2.5.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  CosAuthParseError,
  computeCosSignature,
  cosPolicySignature,
  cosSignKey,
  cosSignWithKey,
  cosStringToSign,
  cosUrlEncode,
  parseCosAuthorization,
  parseCosQueryAuth,
  parseKeyTime,
  signCosRequest,
  timingSafeEqualHex,
  verifyCosSignature,
} from './cos-signature.ts';

const SECRET_ID = 'AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q';
const SECRET_KEY = 'BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz';

const example1 = {
  method: 'PUT',
  path: '/exampleobject(腾讯云)',
  query: [] as [string, string][],
  headers: {
    'content-type': 'text/plain',
    'content-length': '13',
    'content-md5': 'mQ/fVh815F3k6TAUm8m0eg==',
    date: 'Thu, 16 May 2019 06:45:51 GMT',
    host: 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com',
    'x-cos-acl': 'private',
    'x-cos-grant-read': 'uin="100000000011"',
  },
  headerList: [
    'content-length',
    'content-md5',
    'content-type',
    'date',
    'host',
    'x-cos-acl',
    'x-cos-grant-read',
  ],
  urlParamList: [] as string[],
  keyTime: '1557989151;1557996351',
  signTime: '1557989151;1557996351',
};

const example3Host = 'examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com';
const example3Authorization =
  'q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1700000000;1700000900' +
  '&q-key-time=1700000000;1700000900&q-header-list=content-length;content-md5;host' +
  '&q-url-param-list=partnumber;uploadid&q-signature=f42fe08c9c98db8865fd97d38e2e942c17de5236';

describe('cosUrlEncode', () => {
  it('encodes everything but the unreserved set, with upper-case hex', () => {
    assert.equal(cosUrlEncode("AZaz09-_.~!'()*"), 'AZaz09-_.~%21%27%28%29%2A');
    assert.equal(cosUrlEncode('a b/c=d&e+f'), 'a%20b%2Fc%3Dd%26e%2Bf');
    assert.equal(cosUrlEncode('腾讯云'), '%E8%85%BE%E8%AE%AF%E4%BA%91');
  });

  it('does not throw on a lone surrogate', () => {
    assert.equal(cosUrlEncode('a\ud800'), 'a%EF%BF%BD');
  });
});

describe('computeCosSignature', () => {
  it('reproduces example 1 (PUT with signed content-type and date)', () => {
    assert.equal(cosSignKey(SECRET_KEY, example1.keyTime), 'eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f');
    assert.equal(
      cosStringToSign(example1),
      'sha1\n1557989151;1557996351\n8b2751e77f43a0995d6e9eb9477f4b685cca4172\n',
    );
    assert.equal(
      computeCosSignature({ secretKey: SECRET_KEY, ...example1 }),
      '3b8851a11a569213c17ba8fa7dcf2abec6935172',
    );
  });

  it('reproduces example 2 (GET with signed query parameters)', () => {
    const keyTime = '1557989753;1557996953';
    assert.equal(cosSignKey(SECRET_KEY, keyTime), '937914bf490e9e8c189836aad2052e4feeb35eaf');
    const input = {
      secretKey: SECRET_KEY,
      method: 'GET',
      path: '/exampleobject(腾讯云)',
      query: [
        ['response-content-type', 'application/octet-stream'],
        ['response-cache-control', 'max-age=600'],
      ] as const,
      headers: {
        date: 'Thu, 16 May 2019 06:55:53 GMT',
        host: 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com',
      },
      headerList: ['date', 'host'],
      urlParamList: ['response-cache-control', 'response-content-type'],
      keyTime,
      signTime: keyTime,
    };
    assert.equal(cosStringToSign(input), `sha1\n${keyTime}\n54ecfe22f59d3514fdc764b87a32d8133ea611e6\n`);
    assert.equal(computeCosSignature(input), '01681b8c9d798a678e43b685a9f1bba0f6c0e012');
  });

  it('reproduces example 4 (a value-less parameter and an encoded slash)', () => {
    const keyTime = '1700000000;1700000900';
    const signature = computeCosSignature({
      secretKey: SECRET_KEY,
      method: 'GET',
      path: '/',
      query: [
        ['uploads', ''],
        ['prefix', 'folder/hello world.txt'],
      ],
      headers: { host: example3Host },
      headerList: ['host'],
      urlParamList: ['prefix', 'uploads'],
      keyTime,
      signTime: keyTime,
    });
    assert.equal(signature, '396c846ee6c6b1dac5947ac2b0f1fae28d7483d2');
  });

  it('signs only listed names and ignores everything else', () => {
    const base = computeCosSignature({ secretKey: SECRET_KEY, ...example1 });
    const extra = computeCosSignature({
      secretKey: SECRET_KEY,
      ...example1,
      query: [['x-cos-security-token', 'token']],
      headers: { ...example1.headers, 'x-cos-security-token': 'token', 'cache-control': 'no-cache' },
    });
    assert.equal(extra, base);
  });

  it('reports a listed but missing name as missingField', () => {
    const headers: Record<string, string> = { ...example1.headers };
    delete headers['x-cos-acl'];
    assert.throws(
      () => computeCosSignature({ secretKey: SECRET_KEY, ...example1, headers }),
      (err: unknown) => err instanceof CosAuthParseError && err.missingField === 'x-cos-acl',
    );
    assert.equal(
      verifyCosSignature({
        secretKey: SECRET_KEY,
        ...example1,
        headers,
        signature: '3b8851a11a569213c17ba8fa7dcf2abec6935172',
      }),
      false,
    );
    assert.throws(
      () => computeCosSignature({ secretKey: SECRET_KEY, ...example1, urlParamList: ['uploadid'] }),
      (err: unknown) => err instanceof CosAuthParseError && err.missingField === 'uploadid',
    );
  });

  it('accepts list entries that arrived unencoded', () => {
    const common = {
      secretKey: SECRET_KEY,
      method: 'GET',
      path: '/',
      query: [['a b', '1']] as const,
      headers: {},
      headerList: [],
      keyTime: '1;2',
      signTime: '1;2',
    };
    assert.equal(
      computeCosSignature({ ...common, urlParamList: ['a b'] }),
      computeCosSignature({ ...common, urlParamList: ['a%20b'] }),
    );
  });
});

describe('signCosRequest', () => {
  it('reproduces example 3 (Upload Part as the Node SDK signs it)', () => {
    const authorization = signCosRequest({
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      method: 'PUT',
      path: '/folder/hello world.txt',
      query: [
        ['partNumber', '1'],
        ['uploadId', '1700000000abcdef'],
      ],
      headers: {
        Host: example3Host,
        'Content-Length': '11',
        'Content-MD5': 'XrY7u+Ae7tCTyyK7j1rNww==',
      },
      startSeconds: 1700000000,
      endSeconds: 1700000900,
    });
    assert.equal(authorization, example3Authorization);
  });

  it('signs only the chosen headers and parameters', () => {
    const authorization = signCosRequest({
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      method: 'GET',
      path: '/',
      query: [
        ['prefix', 'folder/hello world.txt'],
        ['uploads', ''],
      ],
      headers: { host: example3Host, 'content-type': 'text/plain' },
      startSeconds: 1700000000,
      endSeconds: 1700000900,
      signHeaders: ['Host'],
    });
    assert.match(authorization, /&q-header-list=host&q-url-param-list=prefix;uploads&/);
    assert.match(authorization, /&q-signature=396c846ee6c6b1dac5947ac2b0f1fae28d7483d2$/);
  });
});

describe('parseCosAuthorization', () => {
  it('parses example 3 and verifies it against the request', () => {
    const params = parseCosAuthorization(`  ${example3Authorization} `);
    assert.deepEqual(params, {
      algorithm: 'sha1',
      accessKeyId: SECRET_ID,
      signTime: '1700000000;1700000900',
      keyTime: '1700000000;1700000900',
      headerList: ['content-length', 'content-md5', 'host'],
      urlParamList: ['partnumber', 'uploadid'],
      signature: 'f42fe08c9c98db8865fd97d38e2e942c17de5236',
    });
    assert.ok(
      verifyCosSignature({
        secretKey: SECRET_KEY,
        method: 'PUT',
        path: '/folder/hello world.txt',
        query: [
          ['uploadId', '1700000000abcdef'],
          ['partNumber', '1'],
        ],
        headers: {
          host: example3Host,
          'content-length': '11',
          'content-md5': 'XrY7u+Ae7tCTyyK7j1rNww==',
          'x-cos-security-token': 'unsigned',
        },
        ...params!,
      }),
    );
  });

  it('returns undefined for other schemes', () => {
    assert.equal(parseCosAuthorization('AWS4-HMAC-SHA256 Credential=a/b/c/s3/aws4_request'), undefined);
    assert.equal(parseCosAuthorization(''), undefined);
  });

  it('lower-cases list entries and tolerates an encoded semicolon in times', () => {
    const params = parseCosAuthorization(
      'q-sign-algorithm=SHA1&q-ak=ak&q-sign-time=1%3B2&q-key-time=1;2&q-header-list=Host' +
        '&q-url-param-list=uploadId&q-signature=ABCDEF',
    );
    assert.equal(params?.algorithm, 'sha1');
    assert.equal(params?.signTime, '1;2');
    assert.deepEqual(params?.headerList, ['host']);
    assert.deepEqual(params?.urlParamList, ['uploadid']);
    assert.equal(params?.signature, 'abcdef');
  });

  it('accepts missing or empty lists', () => {
    const params = parseCosAuthorization(
      'q-sign-algorithm=sha1&q-ak=ak&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-signature=ab',
    );
    assert.deepEqual(params?.headerList, []);
    assert.deepEqual(params?.urlParamList, []);
  });

  it('throws on malformed auth', () => {
    const ok = 'q-sign-algorithm=sha1&q-ak=ak&q-sign-time=1;2&q-key-time=1;2&q-signature=ab';
    assert.ok(parseCosAuthorization(ok));
    assert.throws(() => parseCosAuthorization(ok.replace('q-ak=ak', 'q-ak=')), CosAuthParseError);
    assert.throws(() => parseCosAuthorization(ok.replace('&q-signature=ab', '')), CosAuthParseError);
    assert.throws(
      () => parseCosAuthorization(ok.replace('q-sign-time=1;2', 'q-sign-time=x')),
      CosAuthParseError,
    );
    assert.throws(
      () => parseCosAuthorization(ok.replace('q-key-time=1;2', 'q-key-time=2;1')),
      CosAuthParseError,
    );
  });
});

describe('parseCosQueryAuth', () => {
  it('reads presigned fields and ignores other parameters', () => {
    const params = parseCosQueryAuth([
      ['response-content-type', 'text/plain'],
      ['q-sign-algorithm', 'sha1'],
      ['q-ak', SECRET_ID],
      ['q-sign-time', '1700000000;1700000900'],
      ['q-key-time', '1700000000;1700000900'],
      ['q-header-list', 'host'],
      ['q-url-param-list', 'response-content-type'],
      ['q-signature', 'F42FE08C9C98DB8865FD97D38E2E942C17DE5236'],
      ['x-cos-security-token', 'token'],
    ]);
    assert.equal(params?.accessKeyId, SECRET_ID);
    assert.deepEqual(params?.urlParamList, ['response-content-type']);
    assert.equal(params?.signature, 'f42fe08c9c98db8865fd97d38e2e942c17de5236');
  });

  it('returns undefined without q-sign-algorithm and throws when incomplete', () => {
    assert.equal(parseCosQueryAuth([['uploads', '']]), undefined);
    assert.throws(() => parseCosQueryAuth([['q-sign-algorithm', 'sha1']]), CosAuthParseError);
  });
});

describe('parseKeyTime', () => {
  it('parses and rejects', () => {
    assert.deepEqual(parseKeyTime('1557989151;1557996351'), { start: 1557989151, end: 1557996351 });
    for (const bad of ['', '1;', ';2', '1;2;3', 'a;b', '-1;2', '1.5;2']) {
      assert.throws(() => parseKeyTime(bad), CosAuthParseError, bad);
    }
  });
});

describe('cosPolicySignature', () => {
  it('reproduces the example 5 key chain', () => {
    const signKey = cosSignKey(SECRET_KEY, '1567150692;1567157892');
    assert.equal(signKey, '39acc8c9f34ba5b19bce4e965b370cd3f62d2fba');
    assert.equal(
      cosSignWithKey(signKey, 'd5d903b8360468bc81c1311f134989bc8c8b5b89'),
      '7758dc9a832e9d301dca704cacbf9d9f8172fdef',
    );
  });

  it('signs the SHA-1 of the decoded policy bytes', () => {
    const policy = Buffer.from('{"expiration":"2030-01-01T00:00:00.000Z","conditions":[]}');
    const keyTime = '1;2';
    const expected = cosSignWithKey(
      cosSignKey(SECRET_KEY, keyTime),
      createHash('sha1').update(policy).digest('hex'),
    );
    assert.equal(cosPolicySignature(SECRET_KEY, keyTime, policy), expected);
  });
});

describe('timingSafeEqualHex', () => {
  it('compares ignoring case and length-safely', () => {
    assert.ok(timingSafeEqualHex('abcDEF', 'ABCdef'));
    assert.ok(!timingSafeEqualHex('abcdef', 'abcdee'));
    assert.ok(!timingSafeEqualHex('abcdef', 'abcde'));
  });
});
