// Acceptance over HTTP: browser form uploads (COS and S3 POST policies), SigV4 aws-chunked bodies with
// chunk signatures and trailers, temporary credentials with session tokens and scopes, CORS, and
// unusual HTTP methods on object URLs.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import type { BucketName, LibraryId } from '../../src/core/ids.ts';
import type { TemporaryCredential } from '../../src/core/objects/credential-service.ts';
import type { CredentialScope } from '../../src/core/objects/model.ts';
import { cosPolicySignature } from '../../src/lib/cos-signature.ts';
import {
  amzDateFromDate,
  canonicalRequest,
  credentialScope,
  EMPTY_SHA256,
  presignSigV4,
  signingKey,
  sigV4Signature,
  stringToSign,
} from '../../src/lib/sigv4.ts';
import { LINGER_MS } from '../../src/surfaces/object/plugin.ts';
import { md5Hex, ObjectClient, partBytes, xmlValue, xmlValues } from '../helpers/object-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { type Credentials, cosFetch, rawFetch } from '../helpers/sign.ts';

const KiB = 1024;
const REGION = 'ap-guangzhou';
const SUITE = { timeout: 300_000 };

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** x-amz-checksum-crc32 form: base64 of the big-endian CRC-32. */
function crc32Base64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
}

const credentialsOf = (server: TestServer): Credentials => ({
  accessKeyId: server.accessKeyId,
  secretAccessKey: server.secretAccessKey,
});

const clientFor = (server: TestServer): ObjectClient =>
  new ObjectClient({ url: server.url, bucket: server.bucket, credentials: credentialsOf(server) });

/** Asserts a COS/S3 XML error: status, Code, and the request id every response must carry. */
async function expectError(res: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/xml/, text);
  assert.equal(xmlValue(text, 'Code'), code, text);
  assert.ok(res.headers.get('x-cos-request-id'), 'errors carry x-cos-request-id');
  if (message) assert.match(xmlValue(text, 'Message') ?? '', message);
}

async function expectMissing(client: ObjectClient, key: string): Promise<void> {
  const { status } = await client.get(key);
  assert.equal(status, 404, `${key} must not be stored`);
}

// ---------------------------------------------------------------------------------------------------
// POST Object forms

type Field = readonly [string, string];

interface FormFile {
  bytes: Uint8Array;
  filename: string;
}

/** multipart/form-data with the fields in order and `file` last (spec cos-api §2.5). */
function postForm(server: TestServer, fields: readonly Field[], file?: FormFile): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  if (file) form.append('file', new Blob([file.bytes]), file.filename);
  return fetch(`${server.url}/${server.bucket}`, { method: 'POST', body: form, redirect: 'manual' });
}

// Kept out of a string literal so it does not read as a misplaced template placeholder.
const FILENAME = '$' + '{filename}';
const POLICY_MIN = 4;
const POLICY_MAX = 16 * KiB;

type FormSigner = Credentials & { sessionToken?: string };

interface CosPolicyOptions {
  /** Policy expiration relative to now; default ten minutes. */
  expiresInMs?: number;
  /** Applied to the policy JSON after signing, to send a document the signature does not cover. */
  tamper?: (policy: { expiration: string; conditions: unknown[] }) => void;
  /** Signing key; default the library key. A session token goes in the x-cos-security-token field. */
  signer?: FormSigner;
}

/** The policy and q-* fields of a COS form (spec cos-api §2.5, §5.1). */
function cosPolicyFields(server: TestServer, options: CosPolicyOptions = {}): Field[] {
  const signer: FormSigner = options.signer ?? credentialsOf(server);
  const now = Math.floor(Date.now() / 1000);
  const keyTime = `${now - 60};${now + 900}`;
  const policy = {
    expiration: new Date(Date.now() + (options.expiresInMs ?? 600_000)).toISOString(),
    conditions: [
      { bucket: server.bucket },
      ['starts-with', '$key', 'uploads/'],
      ['content-length-range', POLICY_MIN, POLICY_MAX],
      ['starts-with', '$Content-Type', 'text/'],
      { 'q-sign-algorithm': 'sha1' },
      { 'q-ak': signer.accessKeyId },
      { 'q-sign-time': keyTime },
    ] as unknown[],
  };
  const signed = Buffer.from(JSON.stringify(policy));
  options.tamper?.(policy);
  const fields: Field[] = [
    ['policy', Buffer.from(JSON.stringify(policy)).toString('base64')],
    ['q-sign-algorithm', 'sha1'],
    ['q-ak', signer.accessKeyId],
    ['q-key-time', keyTime],
    ['q-signature', cosPolicySignature(signer.secretAccessKey, keyTime, signed)],
  ];
  if (signer.sessionToken !== undefined) fields.push(['x-cos-security-token', signer.sessionToken]);
  return fields;
}

/** A complete COS form: key, policy fields, text Content-Type and one user metadata field. */
function cosForm(
  server: TestServer,
  key: string,
  extra: readonly Field[] = [],
  options?: CosPolicyOptions,
): Field[] {
  return [
    ['key', key],
    ...cosPolicyFields(server, options),
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['x-cos-meta-owner', 'alice'],
    ...extra,
  ];
}

describe('POST Object (browser form upload)', SUITE, () => {
  let server: TestServer;
  let client: ObjectClient;
  const file = (text: string, filename = 'note.txt'): FormFile => ({ bytes: Buffer.from(text), filename });

  before(async () => {
    server = await startTestServer();
    client = clientFor(server);
  });

  after(async () => {
    await server?.close();
  });

  it('COS policy: 204 with ETag, Location and CRC-64; content, Content-Type and metadata stored', async () => {
    const body = 'hello from a browser form';
    const key = 'uploads/plain.txt';
    const res = await postForm(server, cosForm(server, key), file(body));
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5Hex(Buffer.from(body))}"`);
    assert.equal(res.headers.get('location'), `${server.url}/${server.bucket}/${key}`);
    assert.match(res.headers.get('x-cos-hash-crc64ecma') ?? '', /^\d+$/);
    assert.ok(res.headers.get('x-cos-request-id'));

    const got = await client.get(key);
    assert.equal(got.status, 200);
    assert.equal(got.body.toString(), body);
    // The form's Content-Type is stored, not the file part's own MIME type (§2.5).
    assert.equal(got.res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(got.res.headers.get('x-cos-meta-owner'), 'alice');
    assert.equal(got.res.headers.get('x-cos-hash-crc64ecma'), res.headers.get('x-cos-hash-crc64ecma'));
  });

  it('success_action_status=201 answers with the PostResponse XML', async () => {
    const key = 'uploads/created.txt';
    const body = 'created with 201';
    const res = await postForm(server, cosForm(server, key, [['success_action_status', '201']]), file(body));
    const text = await res.text();
    assert.equal(res.status, 201, text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/xml/);
    assert.equal(xmlValue(text, 'Bucket'), server.bucket);
    assert.equal(xmlValue(text, 'Key'), key);
    assert.equal(xmlValue(text, 'ETag'), `"${md5Hex(Buffer.from(body))}"`);
    assert.equal(xmlValue(text, 'Location'), `${server.url}/${server.bucket}/${key}`);
    assert.equal((await client.get(key)).body.toString(), body);

    const ok = await postForm(
      server,
      cosForm(server, 'uploads/ok.txt', [['success_action_status', '200']]),
      file('plain 200'),
    );
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '');
    assert.equal(ok.headers.get('etag'), `"${md5Hex(Buffer.from('plain 200'))}"`);
  });

  it('success_action_redirect answers 303 to the target with bucket, key and etag', async () => {
    const key = 'uploads/redirected.txt';
    const body = 'redirect me';
    const res = await postForm(
      server,
      cosForm(server, key, [['success_action_redirect', 'https://app.example/done?from=form']]),
      file(body),
    );
    assert.equal(res.status, 303, await res.text());
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, 'https://app.example/done');
    assert.equal(location.searchParams.get('from'), 'form');
    assert.equal(location.searchParams.get('bucket'), server.bucket);
    assert.equal(location.searchParams.get('key'), key);
    assert.equal(location.searchParams.get('etag'), `"${md5Hex(Buffer.from(body))}"`);
    assert.equal((await client.get(key)).body.toString(), body);
  });

  it('the filename placeholder in the key is replaced by the file part name', async () => {
    const res = await postForm(server, cosForm(server, `uploads/${FILENAME}`), file('named', 'report.txt'));
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('location'), `${server.url}/${server.bucket}/uploads/report.txt`);
    assert.equal((await client.get('uploads/report.txt')).body.toString(), 'named');
  });

  it('an expired policy: 403 AccessDenied', async () => {
    const key = 'uploads/expired.txt';
    const res = await postForm(server, cosForm(server, key, [], { expiresInMs: -60_000 }), file('late'));
    await expectError(res, 403, 'AccessDenied', /expired/i);
    await expectMissing(client, key);
  });

  it('a policy changed after signing: 403 SignatureDoesNotMatch', async () => {
    const key = 'uploads/tampered.txt';
    const fields = cosForm(server, key, [], {
      tamper: (policy) => {
        policy.conditions[2] = ['content-length-range', 0, 1024 * 1024 * 1024];
      },
    });
    await expectError(await postForm(server, fields, file('tampered')), 403, 'SignatureDoesNotMatch');
    await expectMissing(client, key);
  });

  it('a key outside the starts-with condition: 403 AccessDenied', async () => {
    const res = await postForm(server, cosForm(server, 'elsewhere/file.txt'), file('misplaced'));
    await expectError(res, 403, 'AccessDenied');
    await expectMissing(client, 'elsewhere/file.txt');
  });

  it('content-length-range: above max 400 EntityTooLarge, below min 400 EntityTooSmall, nothing stored', async () => {
    const large = 'uploads/too-large.bin';
    const res = await postForm(server, cosForm(server, large), {
      bytes: Buffer.alloc(POLICY_MAX + 1, 1),
      filename: 'big.bin',
    });
    await expectError(res, 400, 'EntityTooLarge');
    await expectMissing(client, large);

    const small = 'uploads/too-small.bin';
    await expectError(await postForm(server, cosForm(server, small), file('ab')), 400, 'EntityTooSmall');
    await expectMissing(client, small);

    // The bounds are inclusive.
    const exact = await postForm(server, cosForm(server, 'uploads/exact.bin'), {
      bytes: Buffer.alloc(POLICY_MAX, 2),
      filename: 'exact.bin',
    });
    assert.equal(exact.status, 204, await exact.text());
  });

  it('a form without a file field: 400 MalformedPOSTRequest', async () => {
    await expectError(
      await postForm(server, cosForm(server, 'uploads/no-file.txt')),
      400,
      'MalformedPOSTRequest',
    );
    await expectMissing(client, 'uploads/no-file.txt');
  });

  it('a policy that is not base64 JSON: 400 InvalidPolicyDocument', async () => {
    const fields = cosForm(server, 'uploads/bad-policy.txt').map(
      ([name, value]): Field =>
        name === 'policy' ? [name, Buffer.from('{"expiration": nope').toString('base64')] : [name, value],
    );
    await expectError(await postForm(server, fields, file('whatever')), 400, 'InvalidPolicyDocument');
    await expectMissing(client, 'uploads/bad-policy.txt');
  });

  it('S3 (SigV4) POST policy: the base64 policy signed with the SigV4 key', async () => {
    const amzDate = amzDateFromDate(new Date());
    const date = amzDate.slice(0, 8);
    const credential = `${server.accessKeyId}/${credentialScope(date, REGION, 's3')}`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 600_000).toISOString(),
        conditions: [
          { bucket: server.bucket },
          ['starts-with', '$key', 'uploads/'],
          ['content-length-range', 0, POLICY_MAX],
          { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
          { 'x-amz-credential': credential },
          { 'x-amz-date': amzDate },
        ],
      }),
    ).toString('base64');
    const signature = createHmac('sha256', signingKey(server.secretAccessKey, date, REGION, 's3'))
      .update(policy)
      .digest('hex');
    const key = 'uploads/s3-form.txt';
    const body = 'posted with an S3 policy';
    // Field names as the AWS documentation spells them; the server matches them case-insensitively.
    const fields: Field[] = [
      ['key', key],
      ['Content-Type', 'text/markdown'],
      ['Policy', policy],
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', credential],
      ['X-Amz-Date', amzDate],
      ['X-Amz-Signature', signature],
    ];
    const res = await postForm(server, fields, file(body));
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5Hex(Buffer.from(body))}"`);
    const got = await client.get(key);
    assert.equal(got.body.toString(), body);
    assert.equal(got.res.headers.get('content-type'), 'text/markdown');

    const forged = fields.map(
      ([name, value]): Field => (name === 'X-Amz-Signature' ? [name, sha256Hex('forged')] : [name, value]),
    );
    forged[0] = ['key', 'uploads/s3-forged.txt'];
    await expectError(await postForm(server, forged, file(body)), 403, 'SignatureDoesNotMatch');
    await expectMissing(client, 'uploads/s3-forged.txt');
  });
});

// ---------------------------------------------------------------------------------------------------
// SigV4 header signing and aws-chunked bodies

interface SigV4Request {
  method: string;
  /** Raw path as sent, e.g. `/bucket/key`. */
  path: string;
  query?: [string, string][];
  /** Further headers to send and sign, lower-case names. */
  headers?: Record<string, string>;
  /** x-amz-content-sha256: a hex digest or a payload mode. */
  payloadHash: string;
  sessionToken?: string;
}

interface SigV4Signed {
  headers: Record<string, string>;
  chunkSigning: ChunkSigning;
}

interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  seed: string;
}

/** SigV4 header form (spec cos-api §5.5) over every header sent; the seed signature for aws-chunked. */
function signV4(server: TestServer, creds: Credentials, request: SigV4Request): SigV4Signed {
  const amzDate = amzDateFromDate(new Date());
  const date = amzDate.slice(0, 8);
  const scope = credentialScope(date, REGION, 's3');
  const headers: Record<string, string> = {
    host: new URL(server.url).host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': request.payloadHash,
    ...(request.sessionToken === undefined ? {} : { 'x-amz-security-token': request.sessionToken }),
    ...request.headers,
  };
  const signedHeaders = Object.keys(headers).sort();
  const canonical = canonicalRequest({
    method: request.method,
    rawPath: request.path,
    query: request.query ?? [],
    headers,
    signedHeaders,
    payloadHash: request.payloadHash,
  });
  const key = signingKey(creds.secretAccessKey, date, REGION, 's3');
  const seed = sigV4Signature(key, stringToSign(amzDate, scope, canonical));
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders.join(';')}, Signature=${seed}`;
  return { headers, chunkSigning: { key, amzDate, scope, seed } };
}

interface AwsChunkedOptions {
  chunkSize: number;
  /** Signs every chunk, chained from the seed signature (spec cos-api §5.7). */
  signing?: ChunkSigning;
  /** One trailer header after the last chunk; signed with x-amz-trailer-signature when `signing`. */
  trailer?: Field;
  /** Index of a chunk whose signature is sent with one digit changed. */
  corruptChunk?: number;
}

// The encoded length does not depend on the signatures, so a dry run with dummy ones measures it.
const DUMMY_SIGNING: ChunkSigning = { key: Buffer.alloc(32), amzDate: '', scope: '', seed: '' };

/** Encodes `data` as an aws-chunked body, the last chunk being the empty one. */
function awsChunked(data: Buffer, options: AwsChunkedOptions): Buffer {
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; off += options.chunkSize) {
    chunks.push(data.subarray(off, off + options.chunkSize));
  }
  chunks.push(Buffer.alloc(0));
  const { signing } = options;
  let previous = signing?.seed ?? '';
  const out: Buffer[] = [];
  chunks.forEach((chunk, i) => {
    let extension = '';
    if (signing) {
      previous = sigV4Signature(
        signing.key,
        [
          'AWS4-HMAC-SHA256-PAYLOAD',
          signing.amzDate,
          signing.scope,
          previous,
          EMPTY_SHA256,
          sha256Hex(chunk),
        ].join('\n'),
      );
      const sent =
        i === options.corruptChunk ? `${previous[0] === '0' ? '1' : '0'}${previous.slice(1)}` : previous;
      extension = `;chunk-signature=${sent}`;
    }
    out.push(Buffer.from(`${chunk.length.toString(16)}${extension}\r\n`));
    if (chunk.length > 0) out.push(chunk, Buffer.from('\r\n'));
  });
  if (options.trailer) {
    const [name, value] = options.trailer;
    out.push(Buffer.from(`${name}:${value}\r\n`));
    if (signing) {
      const trailerSignature = sigV4Signature(
        signing.key,
        [
          'AWS4-HMAC-SHA256-TRAILER',
          signing.amzDate,
          signing.scope,
          previous,
          sha256Hex(`${name}:${value}\n`),
        ].join('\n'),
      );
      out.push(Buffer.from(`x-amz-trailer-signature:${trailerSignature}\r\n`));
    }
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

interface ChunkedPut {
  mode:
    | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
    | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
    | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  data: Buffer;
  trailer?: Field;
  corruptChunk?: number;
}

/** PUT with an aws-chunked body; Content-Length counts the encoded bytes and is signed. */
async function putAwsChunked(server: TestServer, key: string, put: ChunkedPut): Promise<Response> {
  const chunkSize = 64 * KiB;
  const isSigned = put.mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const encodedLength = awsChunked(put.data, {
    chunkSize,
    ...(isSigned ? { signing: DUMMY_SIGNING } : {}),
    ...(put.trailer ? { trailer: put.trailer } : {}),
  }).length;
  const path = `/${server.bucket}/${key}`;
  const { headers, chunkSigning } = signV4(server, credentialsOf(server), {
    method: 'PUT',
    path,
    payloadHash: put.mode,
    headers: {
      'content-encoding': 'aws-chunked',
      'content-length': String(encodedLength),
      'x-amz-decoded-content-length': String(put.data.length),
      ...(put.trailer ? { 'x-amz-trailer': put.trailer[0] } : {}),
    },
  });
  const body = awsChunked(put.data, {
    chunkSize,
    ...(isSigned ? { signing: chunkSigning } : {}),
    ...(put.trailer ? { trailer: put.trailer } : {}),
    ...(put.corruptChunk === undefined ? {} : { corruptChunk: put.corruptChunk }),
  });
  assert.equal(body.length, encodedLength);
  return rawFetch(`${server.url}${path}`, { method: 'PUT', headers, body });
}

describe('SigV4 aws-chunked uploads over HTTP', SUITE, () => {
  let server: TestServer;
  let client: ObjectClient;
  // ~200 KiB: three full 64 KiB chunks and a short fourth one.
  const data = partBytes('aws-chunked', 1, 200 * KiB);

  before(async () => {
    server = await startTestServer();
    client = clientFor(server);
  });

  after(async () => {
    await server?.close();
  });

  it('signed chunks: PUT succeeds and GET returns the decoded bytes', async () => {
    const res = await putAwsChunked(server, 'chunked/signed.bin', {
      mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      data,
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5Hex(data)}"`);
    const got = await client.get('chunked/signed.bin');
    assert.equal(got.status, 200);
    assert.equal(got.body.length, data.length);
    assert.ok(got.body.equals(data), 'the stored bytes are the decoded payload');
    // The aws-chunked token is transport framing, not a stored Content-Encoding (§5.7).
    assert.equal(got.res.headers.get('content-encoding'), null);
  });

  for (const [label, corruptChunk] of [
    ['a middle chunk', 1],
    ['the final empty chunk', 4],
  ] as const) {
    it(`a corrupted signature on ${label}: 403 SignatureDoesNotMatch and nothing stored`, async () => {
      const key = `chunked/corrupt-${corruptChunk}.bin`;
      const res = await putAwsChunked(server, key, {
        mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        data,
        corruptChunk,
      });
      await expectError(res, 403, 'SignatureDoesNotMatch');
      await expectMissing(client, key);
    });
  }

  it('a bad chunk mid-body with the rest never sent: answered, and the server survives the aftermath', async () => {
    // Regression: the error path scheduled the socket's destruction through request.raw.socket, which
    // Node nulls once a body iterator stops early; two seconds later the timer threw a TypeError that
    // nothing catches, which takes a real server process down.
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => {
      uncaught.push(err);
    };
    process.on('uncaughtException', onUncaught);
    try {
      const whole = awsChunked(data, { chunkSize: 64 * KiB, signing: DUMMY_SIGNING });
      const path = `/${server.bucket}/chunked/left-open.bin`;
      const { headers, chunkSigning } = signV4(server, credentialsOf(server), {
        method: 'PUT',
        path,
        payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        headers: {
          'content-encoding': 'aws-chunked',
          'content-length': String(whole.length),
          'x-amz-decoded-content-length': String(data.length),
        },
      });
      const body = awsChunked(data, { chunkSize: 64 * KiB, signing: chunkSigning, corruptChunk: 0 });
      // The size line and data of the first chunk only; the client then waits with its side open.
      const firstChunk = body.subarray(0, body.indexOf('\r\n', body.indexOf('\r\n') + 2) + 2);
      const head = `PUT ${path} HTTP/1.1\r\n${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('')}\r\n`;
      const socket = connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: true });
      const received: Buffer[] = [];
      socket.on('data', (d: Buffer) => received.push(d));
      const ended = once(socket, 'end');
      socket.write(head);
      socket.write(firstChunk);
      await ended;
      socket.destroy();
      const response = Buffer.concat(received).toString();
      assert.match(response, /^HTTP\/1\.1 403 /);
      assert.match(response, /\r\nconnection: close\r\n/i);
      assert.match(response, /<Code>SignatureDoesNotMatch<\/Code>/);

      // The server's linger timer for the unread body was set as the answer ended, before the
      // client saw the end; timers of one process fire in the order they fall due, so once this
      // one (set later, as long) fires, the server's has run: any exception of it is in `uncaught`.
      await sleep(LINGER_MS);
      assert.deepEqual(uncaught, []);
      await expectMissing(client, 'chunked/left-open.bin');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('signed chunks with a signed trailing CRC-32: accepted and echoed', async () => {
    const checksum = crc32Base64(data);
    const res = await putAwsChunked(server, 'chunked/trailer.bin', {
      mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      data,
      trailer: ['x-amz-checksum-crc32', checksum],
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('x-amz-checksum-crc32'), checksum);
    assert.ok((await client.get('chunked/trailer.bin')).body.equals(data));
  });

  it('a trailing CRC-32 that does not match the payload: 400 BadDigest and nothing stored', async () => {
    const wrong = crc32Base64(Buffer.from('something else'));
    for (const mode of [
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    ] as const) {
      const key = `chunked/bad-trailer-${mode.toLowerCase()}.bin`;
      const res = await putAwsChunked(server, key, {
        mode,
        data,
        trailer: ['x-amz-checksum-crc32', wrong],
      });
      await expectError(res, 400, 'BadDigest');
      await expectMissing(client, key);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Temporary credentials

describe('temporary credentials (x-cos-security-token / x-amz-security-token)', SUITE, () => {
  let server: TestServer;
  let client: ObjectClient;
  let temp: TemporaryCredential;
  const scopedKey = 'tmp/allowed.bin';

  const issue = (scope: CredentialScope, expiresAt = Date.now() + 60_000): Promise<TemporaryCredential> =>
    server.server.container.credentials.issueTemporary({
      libraryId: server.libraryId as LibraryId,
      bucket: server.bucket as BucketName,
      scope,
      expiresAt,
    });
  const credsOf = (c: TemporaryCredential): Credentials => ({
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
  });
  const objectPath = (key: string): string => `/${server.bucket}/${key}`;

  before(async () => {
    server = await startTestServer();
    client = clientFor(server);
    temp = await issue({ key: scopedKey, actions: ['PutObject', 'GetObject', 'HeadObject'] });
  });

  after(async () => {
    await server?.close();
  });

  it('a COS-signed PUT with x-cos-security-token works for the scoped key', async () => {
    const body = Buffer.from('written with a temporary key');
    const res = await cosFetch(server.url, credsOf(temp), {
      method: 'PUT',
      path: objectPath(scopedKey),
      body,
      sessionToken: temp.sessionToken,
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5Hex(body)}"`);
    const read = await cosFetch(server.url, credsOf(temp), {
      method: 'GET',
      path: objectPath(scopedKey),
      sessionToken: temp.sessionToken,
    });
    assert.equal(read.status, 200);
    assert.ok(Buffer.from(await read.arrayBuffer()).equals(body));
  });

  it('another key, or an action outside the scope: 403 AccessDenied', async () => {
    const other = await cosFetch(server.url, credsOf(temp), {
      method: 'PUT',
      path: objectPath('tmp/other.bin'),
      body: 'x',
      sessionToken: temp.sessionToken,
    });
    await expectError(other, 403, 'AccessDenied');
    await expectMissing(client, 'tmp/other.bin');

    assert.equal((await client.put(scopedKey, Buffer.from('keep me'))).status, 200);
    const deleted = await cosFetch(server.url, credsOf(temp), {
      method: 'DELETE',
      path: objectPath(scopedKey),
      sessionToken: temp.sessionToken,
    });
    await expectError(deleted, 403, 'AccessDenied');
    assert.equal((await client.get(scopedKey)).body.toString(), 'keep me');
  });

  it('a missing token: 403 AccessDenied; a wrong token: 400 InvalidToken', async () => {
    const missing = await cosFetch(server.url, credsOf(temp), { method: 'GET', path: objectPath(scopedKey) });
    await expectError(missing, 403, 'AccessDenied');
    const wrong = await cosFetch(server.url, credsOf(temp), {
      method: 'GET',
      path: objectPath(scopedKey),
      sessionToken: `${temp.sessionToken}x`,
    });
    await expectError(wrong, 400, 'InvalidToken');
  });

  it('SigV4 with x-amz-security-token: header form and presigned URL', async () => {
    const body = Buffer.from('written with SigV4 and a session token');
    const path = objectPath(scopedKey);
    const { headers } = signV4(server, credsOf(temp), {
      method: 'PUT',
      path,
      payloadHash: sha256Hex(body),
      headers: { 'content-length': String(body.length) },
      sessionToken: temp.sessionToken,
    });
    const put = await rawFetch(`${server.url}${path}`, { method: 'PUT', headers, body });
    assert.equal(put.status, 200, await put.text());

    const url = presignSigV4({
      accessKeyId: temp.accessKeyId,
      secretAccessKey: temp.secretAccessKey,
      sessionToken: temp.sessionToken,
      region: REGION,
      method: 'GET',
      url: `${server.url}${path}`,
      expiresSeconds: 300,
      now: new Date(),
    });
    assert.match(url, /[?&]X-Amz-Security-Token=/);
    const got = await fetch(url);
    assert.equal(got.status, 200);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(body));

    // The token is part of the presigned signature: without it the key is refused.
    const stripped = url.replace(/&?X-Amz-Security-Token=[^&]*/, '');
    await expectError(await fetch(stripped), 403, 'AccessDenied');
  });

  it('an expired credential inside a valid signature window: 400 ExpiredToken', async () => {
    const expired = await issue({ key: scopedKey, actions: ['GetObject'] }, Date.now() - 60_000);
    const cos = await cosFetch(server.url, credsOf(expired), {
      method: 'GET',
      path: objectPath(scopedKey),
      sessionToken: expired.sessionToken,
    });
    await expectError(cos, 400, 'ExpiredToken');
    const path = objectPath(scopedKey);
    const { headers } = signV4(server, credsOf(expired), {
      method: 'GET',
      path,
      payloadHash: EMPTY_SHA256,
      sessionToken: expired.sessionToken,
    });
    await expectError(
      await rawFetch(`${server.url}${path}`, { method: 'GET', headers }),
      400,
      'ExpiredToken',
    );
  });

  it('POST Object with a temporary key: the token travels as the x-cos-security-token field', async () => {
    const key = 'uploads/from-temp.txt';
    const formCreds = await issue({ key, actions: ['PostObject'] });
    const signer = { ...credsOf(formCreds), sessionToken: formCreds.sessionToken };
    const file = { bytes: Buffer.from('form with a session token'), filename: 'temp.txt' };
    const res = await postForm(server, cosForm(server, key, [], { signer }), file);
    assert.equal(res.status, 204, await res.text());
    assert.ok((await client.get(key)).body.equals(file.bytes));

    // Outside the credential's key, though inside the policy's starts-with: refused by the scope.
    const elsewhere = await postForm(server, cosForm(server, 'uploads/elsewhere.txt', [], { signer }), file);
    await expectError(elsewhere, 403, 'AccessDenied');
    await expectMissing(client, 'uploads/elsewhere.txt');
    const { sessionToken: _omitted, ...withoutToken } = signer;
    const noToken = await postForm(server, cosForm(server, key, [], { signer: withoutToken }), file);
    await expectError(noToken, 403, 'AccessDenied');
  });

  it('a credential scoped to one upload can upload its parts and not those of another upload', async () => {
    const key = 'tmp/multi.bin';
    const mine = await client.initiate(key);
    const theirs = await client.initiate(key);
    const partCreds = await issue({ key, uploadId: mine, actions: ['UploadPart', 'ListParts'] });
    const part = partBytes('scoped-upload', 1, 8 * KiB);
    const uploadPart = (uploadId: string): Promise<Response> =>
      cosFetch(server.url, credsOf(partCreds), {
        method: 'PUT',
        path: objectPath(key),
        query: { partNumber: '1', uploadId },
        body: part,
        sessionToken: partCreds.sessionToken,
      });

    const ok = await uploadPart(mine);
    assert.equal(ok.status, 200, await ok.text());
    assert.equal(ok.headers.get('etag'), `"${md5Hex(part)}"`);
    await expectError(await uploadPart(theirs), 403, 'AccessDenied');

    const listMine = await client.listParts(key, mine);
    assert.deepEqual(xmlValues(await listMine.text(), 'PartNumber'), ['1']);
    const listTheirs = await client.listParts(key, theirs);
    assert.deepEqual(
      xmlValues(await listTheirs.text(), 'PartNumber'),
      [],
      'no part reached the other upload',
    );
    assert.equal((await client.abort(key, mine)).status, 204);
    assert.equal((await client.abort(key, theirs)).status, 204);
  });
});

// ---------------------------------------------------------------------------------------------------
// CORS

const ORIGIN = 'https://app.example';

function preflight(
  server: TestServer,
  path: string,
  origin: string,
  method: string,
  requestHeaders?: string,
): Promise<Response> {
  return rawFetch(`${server.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      ...(requestHeaders === undefined ? {} : { 'access-control-request-headers': requestHeaders }),
    },
  });
}

const exposed = (res: Response): string[] =>
  (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());

describe('CORS with the default configuration (any origin)', SUITE, () => {
  let server: TestServer;
  let client: ObjectClient;

  before(async () => {
    server = await startTestServer();
    client = clientFor(server);
  });

  after(async () => {
    await server?.close();
  });

  it('an unsigned preflight for PUT: 200 with origin, methods, headers, exposed ETag and max-age', async () => {
    const requested = 'authorization,content-type,x-cos-meta-owner,x-amz-date';
    const res = await preflight(server, `/${server.bucket}/browser/upload.bin`, ORIGIN, 'PUT', requested);
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const methods = (res.headers.get('access-control-allow-methods') ?? '').split(',');
    for (const m of ['GET', 'PUT', 'POST', 'DELETE', 'HEAD']) assert.ok(methods.includes(m), m);
    assert.equal(res.headers.get('access-control-allow-headers'), requested);
    assert.ok(exposed(res).includes('etag'), 'ETag must be exposed for browser multipart uploads');
    assert.ok(exposed(res).includes('x-cos-hash-crc64ecma'));
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.match(res.headers.get('vary') ?? '', /Origin/);
  });

  it('a preflight for an unsupported method: 403', async () => {
    const res = await preflight(server, `/${server.bucket}/browser/upload.bin`, ORIGIN, 'PATCH');
    await expectError(res, 403, 'AccessDenied');
    assert.equal(res.headers.get('access-control-allow-methods'), null);
  });

  it('actual responses, success and error, carry Allow-Origin and expose ETag', async () => {
    const put = await client.put('browser/actual.bin', Buffer.from('from a page'), { origin: ORIGIN });
    assert.equal(put.status, 200, await put.text());
    assert.equal(put.headers.get('access-control-allow-origin'), '*');
    assert.ok(exposed(put).includes('etag'));

    const missing = await client.get('browser/missing.bin', { origin: ORIGIN });
    assert.equal(missing.status, 404);
    assert.equal(xmlValue(missing.body.toString(), 'Code'), 'NoSuchKey');
    assert.equal(missing.res.headers.get('access-control-allow-origin'), '*');
    assert.ok(exposed(missing.res).includes('etag'));
    assert.ok(exposed(missing.res).includes('x-cos-request-id'));
  });
});

describe('CORS restricted to one origin', SUITE, () => {
  let server: TestServer;
  let client: ObjectClient;

  before(async () => {
    server = await startTestServer({ corsOrigins: [ORIGIN] });
    client = clientFor(server);
  });

  after(async () => {
    await server?.close();
  });

  it('the listed origin is echoed back', async () => {
    const res = await preflight(server, `/${server.bucket}/a.bin`, ORIGIN, 'PUT');
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    const got = await client.get('a.bin', { origin: ORIGIN });
    assert.equal(got.status, 404);
    assert.equal(got.res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(got.res.headers.get('vary') ?? '', /Origin/);
  });

  it('another origin: 403 preflight and no CORS headers on actual responses', async () => {
    const other = 'https://evil.example';
    const res = await preflight(server, `/${server.bucket}/a.bin`, other, 'PUT');
    await expectError(res, 403, 'AccessDenied');
    assert.equal(res.headers.get('access-control-allow-origin'), null);

    const put = await client.put('a.bin', Buffer.from('x'), { origin: other });
    assert.equal(put.status, 200, await put.text());
    assert.equal(put.headers.get('access-control-allow-origin'), null);
    assert.equal(put.headers.get('access-control-expose-headers'), null);
  });
});

// ---------------------------------------------------------------------------------------------------
// Unusual methods

describe('unusual HTTP methods on an object URL', SUITE, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
  });

  for (const method of ['PATCH', 'PROPFIND']) {
    it(`${method}: 405 MethodNotAllowed as COS XML, not a framework error`, async () => {
      const res = await rawFetch(`${server.url}/${server.bucket}/some/key.bin`, { method, headers: {} });
      await expectError(res, 405, 'MethodNotAllowed');
      assert.equal(res.headers.get('x-amz-request-id'), res.headers.get('x-cos-request-id'));
    });
  }
});
