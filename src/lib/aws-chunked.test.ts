// Tests for the aws-chunked decoder: the spec §5.7 vectors, arbitrary input splits, and every way a
// body can be cut short or malformed.

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  AwsChunkedError,
  type AwsChunkedOptions,
  type AwsChunkedSigning,
  decodeAwsChunked,
} from './aws-chunked.ts';
import { signingKey } from './sigv4.ts';

const SIGNING: AwsChunkedSigning = {
  signingKey: signingKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1', 's3'),
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
};
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const SIGNED_VECTOR = Buffer.concat([
  Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
  Buffer.alloc(0x10000, 'a'),
  Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
  Buffer.alloc(0x400, 'a'),
  Buffer.from(
    '\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
  ),
]);

const TRAILER_VECTOR = Buffer.from('b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');

/** Yields `data` in pieces of the given sizes, cycling through them. */
async function* pieces(
  data: Uint8Array,
  sizes: readonly number[] = [data.length],
): AsyncGenerator<Uint8Array> {
  let pos = 0;
  for (let i = 0; pos < data.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    yield data.subarray(pos, pos + size);
    pos += size;
  }
}

async function decode(data: Uint8Array, options: AwsChunkedOptions, sizes?: readonly number[]) {
  const decoded = decodeAwsChunked(pieces(data, sizes), options);
  const out: Buffer[] = [];
  for await (const slice of decoded.body) out.push(slice);
  return {
    data: Buffer.concat(out),
    trailers: decoded.trailers(),
    trailerSignatureValid: decoded.trailerSignatureValid(),
  };
}

/** Decodes and returns the error, plus how many bytes were released before it. */
async function decodeError(data: Uint8Array, options: AwsChunkedOptions, sizes?: readonly number[]) {
  const decoded = decodeAwsChunked(pieces(data, sizes), options);
  let released = 0;
  try {
    for await (const slice of decoded.body) released += slice.length;
  } catch (err) {
    assert.ok(err instanceof AwsChunkedError, String(err));
    return { code: err.code, released };
  }
  assert.fail('expected an AwsChunkedError');
}

function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** A signed aws-chunked encoder following §5.7, to build bodies the spec has no vector for. */
function encodeSigned(
  chunks: readonly Buffer[],
  trailers?: ReadonlyArray<readonly [string, string]>,
): Buffer {
  const out: Buffer[] = [];
  let previous = SIGNING.seedSignature;
  for (const data of [...chunks, Buffer.alloc(0)]) {
    const dataHash = createHash('sha256').update(data).digest('hex');
    previous = hmacHex(
      SIGNING.signingKey,
      `AWS4-HMAC-SHA256-PAYLOAD\n${SIGNING.amzDate}\n${SIGNING.scope}\n${previous}\n` +
        `${EMPTY_SHA256}\n${dataHash}`,
    );
    out.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${previous}\r\n`), data);
    if (data.length > 0) out.push(Buffer.from('\r\n'));
  }
  if (trailers) {
    const canonical = trailers.map(([name, value]) => `${name}:${value}\n`).join('');
    const trailerHash = createHash('sha256').update(canonical).digest('hex');
    const signature = hmacHex(
      SIGNING.signingKey,
      `AWS4-HMAC-SHA256-TRAILER\n${SIGNING.amzDate}\n${SIGNING.scope}\n${previous}\n${trailerHash}`,
    );
    for (const [name, value] of trailers) out.push(Buffer.from(`${name}:${value}\r\n`));
    out.push(Buffer.from(`x-amz-trailer-signature:${signature}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

describe('decodeAwsChunked, signed chunks', () => {
  const options = { decodedLength: 66560, signing: SIGNING };

  it('decodes the spec vector', async () => {
    assert.equal(SIGNED_VECTOR.length, 66824);
    const result = await decode(SIGNED_VECTOR, options);
    assert.ok(result.data.equals(Buffer.alloc(66560, 'a')));
    assert.deepEqual(result.trailers, {});
  });

  it('decodes the spec vector fed one byte at a time and in odd splits', async () => {
    for (const sizes of [[1], [3, 7, 1000], [65_537], [85, 2]]) {
      const result = await decode(SIGNED_VECTOR, options, sizes);
      assert.equal(result.data.length, 66560, String(sizes));
    }
  });

  it('rejects a flipped data byte before releasing that chunk', async () => {
    const inFirst = Buffer.from(SIGNED_VECTOR);
    inFirst[1000] = inFirst[1000]! ^ 1;
    assert.deepEqual(await decodeError(inFirst, options), { code: 'SignatureDoesNotMatch', released: 0 });

    const inSecond = Buffer.from(SIGNED_VECTOR);
    inSecond[66824 - 200] = inSecond[66824 - 200]! ^ 1;
    assert.deepEqual(await decodeError(inSecond, options, [1]), {
      code: 'SignatureDoesNotMatch',
      released: 0x10000,
    });
  });

  it('rejects wrong or missing chunk signatures, including on the final chunk', async () => {
    const text = SIGNED_VECTOR.toString('latin1');
    const cases = [
      text.replace('chunk-signature=ad80', 'chunk-signature=ad81'),
      text.replace('chunk-signature=b6c6', 'chunk-signature=b6c7'),
      text.replace(';chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497', ''),
      text.replace(';chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9', ''),
      text.replace('chunk-signature=ad80c730', 'chunk-signature=ad80'),
    ];
    for (const body of cases) {
      const { code } = await decodeError(Buffer.from(body, 'latin1'), options);
      assert.equal(code, 'SignatureDoesNotMatch');
    }
  });

  it('accepts upper-case signature hex and ignores other extensions', async () => {
    const text = SIGNED_VECTOR.toString('latin1')
      .replace('ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648', (s) => s.toUpperCase())
      .replace('400;', '400;foo=bar;');
    assert.equal((await decode(Buffer.from(text, 'latin1'), options)).data.length, 66560);
  });

  it('refuses signed chunks larger than the configured limit', async () => {
    const { code } = await decodeError(SIGNED_VECTOR, { ...options, maxSignedChunkSize: 0x8000 });
    assert.equal(code, 'IncompleteBody');
  });

  it('checks the trailer signature and reports a mismatch without throwing', async () => {
    const trailers = [['x-amz-checksum-crc32', 'DUoRhQ==']] as const;
    const body = encodeSigned([Buffer.from('hello '), Buffer.from('world')], trailers);
    const trailerOptions = {
      decodedLength: 11,
      signing: SIGNING,
      expectTrailer: 'x-amz-checksum-crc32',
      signedTrailer: true,
    };
    const good = await decode(body, trailerOptions, [5]);
    assert.equal(good.data.toString(), 'hello world');
    assert.deepEqual(good.trailers, { 'x-amz-checksum-crc32': 'DUoRhQ==' });
    assert.equal(good.trailerSignatureValid, true);

    const tampered = body
      .toString('latin1')
      .replace(/x-amz-trailer-signature:[0-9a-f]/, 'x-amz-trailer-signature:g');
    assert.equal(
      (await decode(Buffer.from(tampered, 'latin1'), trailerOptions)).trailerSignatureValid,
      false,
    );

    const missing = body.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, '');
    assert.equal((await decode(Buffer.from(missing, 'latin1'), trailerOptions)).trailerSignatureValid, false);

    assert.equal(
      (await decode(body, { decodedLength: 11, signing: SIGNING })).trailerSignatureValid,
      undefined,
    );
  });

  it('refuses signedTrailer without signing', () => {
    assert.throws(() => decodeAwsChunked(pieces(TRAILER_VECTOR), { signedTrailer: true }), TypeError);
  });
});

describe('decodeAwsChunked, unsigned', () => {
  const options = { decodedLength: 11, expectTrailer: 'x-amz-checksum-crc32' };

  it('decodes the unsigned trailer vector whole and byte by byte', async () => {
    for (const sizes of [undefined, [1], [2], [14, 1]]) {
      const result = await decode(TRAILER_VECTOR, options, sizes);
      assert.equal(result.data.toString(), 'hello world');
      assert.deepEqual(result.trailers, { 'x-amz-checksum-crc32': 'DUoRhQ==' });
      assert.equal(result.trailerSignatureValid, undefined);
    }
  });

  it('accepts plain Uint8Array input and chunk signatures it was not asked to check', async () => {
    const body = new Uint8Array(Buffer.from(`5;chunk-signature=${'0'.repeat(64)}\r\nhello\r\n0\r\n\r\n`));
    const result = await decode(body, {});
    assert.equal(result.data.toString(), 'hello');
  });

  it('decodes an empty body and tolerates trailing whitespace', async () => {
    assert.equal((await decode(Buffer.from('0\r\n\r\n'), { decodedLength: 0 })).data.length, 0);
    assert.equal((await decode(Buffer.from('0\r\n\r\n\r\n \t'), {})).data.length, 0);
  });

  it('requires the announced trailer', async () => {
    const body = Buffer.from('b\r\nhello world\r\n0\r\n\r\n');
    assert.equal((await decodeError(body, options)).code, 'IncompleteBody');
    assert.equal((await decode(body, { decodedLength: 11 })).data.toString(), 'hello world');
  });

  it('rejects every truncation of the input', async () => {
    for (let end = 0; end < TRAILER_VECTOR.length; end++) {
      const { code } = await decodeError(TRAILER_VECTOR.subarray(0, end), {
        expectTrailer: 'x-amz-checksum-crc32',
      });
      assert.equal(code, 'IncompleteBody', `cut at ${end}`);
    }
  });

  it('rejects garbage after the final empty line', async () => {
    const body = Buffer.concat([TRAILER_VECTOR, Buffer.from('\r\nx')]);
    assert.equal((await decodeError(body, options)).code, 'IncompleteBody');
  });

  it('rejects a wrong decoded length', async () => {
    assert.equal((await decodeError(TRAILER_VECTOR, { decodedLength: 10 })).code, 'IncompleteBody');
    assert.equal((await decodeError(TRAILER_VECTOR, { decodedLength: 12 })).code, 'IncompleteBody');
  });

  it('rejects chunk data not followed by CRLF', async () => {
    for (const body of [
      'b\r\nhello worldX\r\n0\r\n\r\n',
      'b\r\nhello world\rX0\r\n\r\n',
      'b\r\nhello world\n0\r\n\r\n',
    ]) {
      assert.equal(
        (await decodeError(Buffer.from(body), {}, [1])).code,
        'IncompleteBody',
        JSON.stringify(body),
      );
    }
  });

  it('rejects malformed lines', async () => {
    for (const body of [
      'x\r\nhello\r\n0\r\n\r\n',
      '\r\n0\r\n\r\n',
      '5\nhello\r\n0\r\n\r\n',
      '0x5\r\nhello\r\n0\r\n\r\n',
      '5\r\nhello\r\n0\r\nno-colon\r\n\r\n',
      '5\r\nhello\r\n0\r\n:value\r\n\r\n',
      'fffffffffffffffff\r\n',
    ]) {
      assert.equal((await decodeError(Buffer.from(body), {})).code, 'IncompleteBody', JSON.stringify(body));
    }
  });

  it('accepts a 4 KiB line and rejects a longer one, however it is split', async () => {
    const line = (length: number) => `5;x=${'y'.repeat(length - 4)}`;
    assert.equal(line(4096).length, 4096);
    for (const sizes of [undefined, [1], [4097], [4098], [1000, 3000]]) {
      const ok = Buffer.from(`${line(4096)}\r\nhello\r\n0\r\n\r\n`);
      assert.equal((await decode(ok, {}, sizes)).data.toString(), 'hello');
      const long = Buffer.from(`${line(4097)}\r\nhello\r\n0\r\n\r\n`);
      assert.equal((await decodeError(long, {}, sizes)).code, 'IncompleteBody');
    }
    const endless = Buffer.alloc(100_000, 'a');
    assert.equal((await decodeError(endless, {}, [3000])).code, 'IncompleteBody');
  });

  it('limits trailer lines', async () => {
    const many = Array.from({ length: 65 }, (_, i) => `x-t${i}:v\r\n`).join('');
    assert.equal((await decodeError(Buffer.from(`0\r\n${many}\r\n`), {})).code, 'IncompleteBody');
  });

  it('only reveals trailers once the body is consumed', () => {
    const decoded = decodeAwsChunked(pieces(TRAILER_VECTOR), options);
    assert.throws(() => decoded.trailers());
  });

  it('releases unsigned data without copying it', async () => {
    const input = Buffer.from(TRAILER_VECTOR);
    const decoded = decodeAwsChunked(pieces(input), options);
    for await (const slice of decoded.body) assert.equal(slice.buffer, input.buffer);
  });
});
