// Tests for AWS SigV4 parsing, canonicalisation and signing against the vectors of spec §5.5-5.7.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  amzDateFromDate,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  credentialScope,
  EMPTY_SHA256,
  parseAmzDate,
  parseSigV4Authorization,
  parseSigV4Query,
  presignSigV4,
  SigV4ParseError,
  signingKey,
  sigV4Signature,
  stringToSign,
} from './sigv4.ts';

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AMZ_DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const KEY = signingKey(SECRET, '20130524', 'us-east-1', 's3');

describe('SigV4 signing', () => {
  it('reproduces the GET object vector', () => {
    const text = canonicalRequest({
      method: 'get',
      rawPath: '/test.txt',
      query: [],
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': EMPTY_SHA256,
        'x-amz-date': AMZ_DATE,
        'user-agent': 'not signed',
      },
      signedHeaders: ['x-amz-date', 'host', 'range', 'x-amz-content-sha256'],
      payloadHash: EMPTY_SHA256,
    });
    assert.equal(
      text,
      [
        'GET',
        '/test.txt',
        '',
        'host:examplebucket.s3.amazonaws.com',
        'range:bytes=0-9',
        `x-amz-content-sha256:${EMPTY_SHA256}`,
        `x-amz-date:${AMZ_DATE}`,
        '',
        'host;range;x-amz-content-sha256;x-amz-date',
        EMPTY_SHA256,
      ].join('\n'),
    );
    assert.equal(credentialScope('20130524', 'us-east-1', 's3'), SCOPE);
    assert.equal(
      sigV4Signature(KEY, stringToSign(AMZ_DATE, SCOPE, text)),
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('reproduces the seed signature of the chunked upload vector', () => {
    const text = canonicalRequest({
      method: 'PUT',
      rawPath: '/examplebucket/chunkObject.txt',
      query: [],
      headers: {
        'content-encoding': 'aws-chunked',
        'content-length': '66824',
        host: 's3.amazonaws.com',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-date': AMZ_DATE,
        'x-amz-decoded-content-length': '66560',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
      signedHeaders: parseSigV4Authorization(
        `AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE},SignedHeaders=content-encoding;content-length;host;` +
          'x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,' +
          `Signature=${'0'.repeat(64)}`,
      ).signedHeaders,
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    });
    assert.equal(
      sigV4Signature(KEY, stringToSign(AMZ_DATE, SCOPE, text)),
      '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    );
  });

  it('reproduces the presigned vector, and a verifier accepts what presignSigV4 produces', () => {
    const url = presignSigV4({
      accessKeyId: AKID,
      secretAccessKey: SECRET,
      region: 'us-east-1',
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/test.txt',
      expiresSeconds: 86400,
      now: new Date('2013-05-24T00:00:00Z'),
    });
    assert.equal(
      url,
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
        '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
        '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
        '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );

    const query = new URL(url).search
      .slice(1)
      .split('&')
      .map((part) => part.split('=').map(decodeURIComponent) as [string, string]);
    const params = parseSigV4Query(query);
    assert.ok(params);
    const text = canonicalRequest({
      method: 'GET',
      rawPath: '/test.txt',
      query,
      headers: { host: 'examplebucket.s3.amazonaws.com' },
      signedHeaders: params.signedHeaders,
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    const key = signingKey(SECRET, params.date, params.region, params.service);
    assert.equal(sigV4Signature(key, stringToSign(params.amzDate, SCOPE, text)), params.signature);
  });

  it('presigns paths without normalising them and keeps existing parameters', () => {
    const url = presignSigV4({
      accessKeyId: AKID,
      secretAccessKey: SECRET,
      region: 'ap-beijing',
      method: 'PUT',
      url: 'http://127.0.0.1:9000/bucket/a/../b%20c?partNumber=2&uploadId=x%2By',
      expiresSeconds: 60,
      now: new Date('2024-01-02T03:04:05Z'),
      sessionToken: 'tok/en',
      signedHeaders: { 'Content-Type': 'text/plain' },
    });
    assert.ok(url.startsWith('http://127.0.0.1:9000/bucket/a/../b%20c?'));
    assert.match(url, /&X-Amz-Security-Token=tok%2Fen&/);
    assert.match(url, /&X-Amz-SignedHeaders=content-type%3Bhost&/);
    assert.match(url, /\?X-Amz-Algorithm=.*&partNumber=2&uploadId=x%2By&X-Amz-Signature=[0-9a-f]{64}$/);
  });
});

describe('canonicalUri', () => {
  it('re-encodes each segment once with upper-case hex', () => {
    assert.equal(canonicalUri(''), '/');
    assert.equal(canonicalUri('/'), '/');
    assert.equal(canonicalUri('/bucket/key.txt'), '/bucket/key.txt');
    assert.equal(canonicalUri('/a%2fb/c d/%e8%85%be'), '/a%2Fb/c%20d/%E8%85%BE');
    assert.equal(canonicalUri('/a+b/(x)!*'), '/a%2Bb/%28x%29%21%2A');
    assert.equal(canonicalUri('/腾讯云'), '/%E8%85%BE%E8%AE%AF%E4%BA%91');
    assert.equal(canonicalUri('/%7Efile'), '/~file');
  });

  it('does not normalise dot or empty segments', () => {
    assert.equal(canonicalUri('/a/./b/../c//d/'), '/a/./b/../c//d/');
  });

  it('keeps invalid escapes and invalid UTF-8 as bytes', () => {
    assert.equal(canonicalUri('/%ff%fe'), '/%FF%FE');
    assert.equal(canonicalUri('/100%/x%2'), '/100%25/x%252');
  });
});

describe('canonicalQuery', () => {
  it('encodes, sorts by name then value, and drops excluded names', () => {
    const text = canonicalQuery(
      [
        ['prefix', 'a b/c'],
        ['uploads', ''],
        ['a', '2'],
        ['a', '10'],
        ['X-Amz-Signature', 'abc'],
        ['~k', '*'],
      ],
      { exclude: ['X-Amz-Signature'] },
    );
    assert.equal(text, 'a=10&a=2&prefix=a%20b%2Fc&uploads=&~k=%2A');
  });

  it('sorts upper-case names before lower-case ones', () => {
    assert.equal(
      canonicalQuery([
        ['x-id', 'PutObject'],
        ['X-Amz-Date', AMZ_DATE],
      ]),
      `X-Amz-Date=${AMZ_DATE}&x-id=PutObject`,
    );
  });
});

describe('canonicalRequest header values', () => {
  it('trims and collapses inner whitespace', () => {
    const text = canonicalRequest({
      method: 'PUT',
      rawPath: '/k',
      query: [],
      headers: { host: 'h', 'x-amz-meta-a': '  one   two\t three  ' },
      signedHeaders: ['host', 'x-amz-meta-a'],
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    assert.match(text, /\nx-amz-meta-a:one two three\n/);
  });
});

describe('parseSigV4Authorization', () => {
  const expected = {
    accessKeyId: AKID,
    date: '20130524',
    region: 'us-east-1',
    service: 's3',
    signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
    signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  };

  it('accepts fields in any order, with or without spaces', () => {
    const credential = `Credential=${AKID}/${SCOPE}`;
    const signed = 'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date';
    const signature = `Signature=${expected.signature}`;
    for (const header of [
      `AWS4-HMAC-SHA256 ${credential}, ${signed}, ${signature}`,
      `AWS4-HMAC-SHA256 ${credential},${signed},${signature}`,
      `AWS4-HMAC-SHA256 ${signature}, ${credential},${signed}`,
      `  AWS4-HMAC-SHA256   ${signed} ,${credential} , Signature=${expected.signature.toUpperCase()}`,
    ]) {
      assert.deepEqual(parseSigV4Authorization(header), expected, header);
    }
  });

  it('throws on malformed headers', () => {
    const good =
      `AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE}, SignedHeaders=host, ` + `Signature=${'a'.repeat(64)}`;
    assert.ok(parseSigV4Authorization(good));
    for (const bad of [
      good.replace('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA256X '),
      good.replace('AWS4-HMAC-SHA256 ', 'AWS '),
      good.replace(', SignedHeaders=host', ''),
      good.replace('Signature=a', 'Signature=g'),
      good.replace('/aws4_request', '/aws4'),
      good.replace('20130524', '2013-05-24'),
      good.replace(`Credential=${AKID}/`, 'Credential=/'),
      good.replace('SignedHeaders=host', 'SignedHeaders=host;;range'),
      `${good}, Signature=${'b'.repeat(64)}`,
      `${good}, junk`,
    ]) {
      assert.throws(() => parseSigV4Authorization(bad), SigV4ParseError, bad);
    }
  });
});

describe('parseSigV4Query', () => {
  const base: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${AKID}/${SCOPE}`],
    ['X-Amz-Date', AMZ_DATE],
    ['X-Amz-Expires', '86400'],
    ['X-Amz-SignedHeaders', 'host'],
    ['X-Amz-Signature', 'a'.repeat(64)],
  ];

  it('returns undefined without X-Amz-Algorithm', () => {
    assert.equal(parseSigV4Query([['uploads', '']]), undefined);
  });

  it('reads all fields including the optional ones', () => {
    assert.deepEqual(
      parseSigV4Query([...base, ['X-Amz-Security-Token', 'tok'], ['X-Amz-Content-Sha256', EMPTY_SHA256]]),
      {
        accessKeyId: AKID,
        date: '20130524',
        region: 'us-east-1',
        service: 's3',
        signedHeaders: ['host'],
        signature: 'a'.repeat(64),
        amzDate: AMZ_DATE,
        expiresSeconds: 86400,
        securityToken: 'tok',
        contentSha256: EMPTY_SHA256,
      },
    );
  });

  it('throws on malformed or missing fields', () => {
    const replace = (name: string, value: string | undefined): [string, string][] =>
      base.flatMap(([n, v]) => (n !== name ? [[n, v]] : value === undefined ? [] : [[n, value]]));
    for (const bad of [
      replace('X-Amz-Algorithm', 'AWS4-ECDSA-P256-SHA256'),
      replace('X-Amz-Credential', undefined),
      replace('X-Amz-Date', '20130524'),
      replace('X-Amz-Expires', '-1'),
      replace('X-Amz-Expires', 'soon'),
      replace('X-Amz-SignedHeaders', ''),
      replace('X-Amz-Signature', 'abc'),
      [...base, ['X-Amz-Date', AMZ_DATE]],
    ] as [string, string][][]) {
      assert.throws(() => parseSigV4Query(bad), SigV4ParseError, JSON.stringify(bad));
    }
  });
});

describe('dates', () => {
  it('formats and parses x-amz-date', () => {
    const d = new Date('2013-05-24T01:02:03.456Z');
    assert.equal(amzDateFromDate(d), '20130524T010203Z');
    assert.equal(parseAmzDate('20130524T010203Z')?.toISOString(), '2013-05-24T01:02:03.000Z');
    for (const bad of [
      '20130524T010203',
      '2013-05-24T01:02:03Z',
      '20130230T000000Z',
      '20130524T250000Z',
      '',
    ]) {
      assert.equal(parseAmzDate(bad), undefined, bad);
    }
  });
});
