// Acceptance: deploy/nginx-mediahost.conf as shipped (only its listen port, certificate paths and node
// address replaced) run by Debian's nginx with TLS in front of a mediahost whose --public-url and
// --vhost-suffixes are the ones docs/deploy.md gives. Clients reach the documented host names (every
// name resolves to 127.0.0.1 here) on a port that is not 443, so a proxy that changed the Host (even
// only dropping its port) would break every signature below.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, type AgentOptions, request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { presignSigV4 } from '../../src/lib/sigv4.ts';
import { blobFiles } from '../helpers/blob-files.ts';
import {
  type Certificate,
  freePort,
  type NginxServer,
  nginxSkipReason,
  nginxTempDir,
  removeDir,
  selfSignedCertificate,
  startNginx,
} from '../helpers/nginx.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bytesOf, type FileObject, MiB, waitFor } from '../helpers/smh-client.ts';

const SITE = readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'nginx-mediahost.conf'), 'utf8');
const PUBLIC_HOST = 'media.example.com';
const VHOST_SUFFIX = 's3.example.com';
const START_ATTEMPTS = 3;

const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

/** The shipped site file with what differs on a test machine replaced; each piece must still be there. */
function siteFor(port: number, upstream: string, cert: Certificate): string {
  const replacements: [string, string][] = [
    ['    server 10.0.0.11:8080;\n    server 10.0.0.12:8080;\n', `    server ${upstream};\n`],
    ['    listen [::]:443 ssl;\n', ''],
    ['listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`],
    ['/etc/ssl/mediahost/fullchain.pem', cert.certPath],
    ['/etc/ssl/mediahost/privkey.pem', cert.keyPath],
  ];
  let site = SITE;
  for (const [from, to] of replacements) {
    assert.ok(site.includes(from), `deploy/nginx-mediahost.conf no longer contains ${JSON.stringify(from)}`);
    site = site.replace(from, to);
  }
  return site;
}

/** Every host name is this machine: the documented names work without DNS or /etc/hosts. */
const lookup: AgentOptions['lookup'] = (_hostname, options, callback) => {
  const cb = callback as (err: null, address: unknown, family?: number) => void;
  if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

describe('mediahost behind nginx with the shipped configuration', {
  skip: nginxSkipReason(),
  timeout: 300_000,
}, () => {
  let dir: string;
  let cert: Certificate;
  let server: TestServer;
  let nginx: NginxServer;
  let publicUrl: string;
  let port: number;
  let agent: Agent;

  const fetchVia = (
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: init.method ?? 'GET', headers: init.headers ?? {}, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });

  const json = <T>(answer: Answer, status: number): T => {
    const text = answer.body.toString('utf8');
    assert.equal(answer.status, status, text);
    return JSON.parse(text) as T;
  };

  const s3Client = (endpoint: string, config: Partial<S3ClientConfig> = {}): S3Client =>
    new S3Client({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestHandler: { httpsAgent: agent },
      ...config,
    });

  before(async () => {
    dir = nginxTempDir();
    cert = await selfSignedCertificate(dir, [PUBLIC_HOST, VHOST_SUFFIX, `*.${VHOST_SUFFIX}`]);
    agent = new Agent({ keepAlive: true, ca: cert.pem, lookup });
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      publicUrl = `https://${PUBLIC_HOST}:${port}`;
      server = await startTestServer({ publicUrl, vhostSuffixes: [VHOST_SUFFIX] });
      try {
        nginx = await startNginx({ dir, port, site: siteFor(port, `127.0.0.1:${server.port}`, cert) });
        break;
      } catch (err) {
        await server.close();
        // Another process may have taken the port between freePort() and nginx's bind.
        if (attempt < START_ATTEMPTS && /Address already in use/.test(String(err))) continue;
        throw err;
      }
    }
  });

  after(async () => {
    agent?.destroy();
    await nginx?.stop();
    await server?.close();
    if (dir) removeDir(dir);
  });

  test('a multipart upload of the AWS SDK in virtual-host style, parts over 5 MiB', async () => {
    const s3 = s3Client(`https://${VHOST_SUFFIX}:${port}`, { forcePathStyle: false });
    const hosts: string[] = [];
    s3.middlewareStack.add(
      (next) => async (args) => {
        hosts.push((args.request as { hostname: string }).hostname);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordHost' },
    );
    try {
      const data = bytesOf('proxy-multipart', 13 * MiB);
      const Key = 'videos/2026/clip one+two.mp4';
      const upload = new Upload({
        client: s3,
        params: { Bucket: server.bucket, Key, Body: data, Metadata: { camera_model: 'X100' } },
        partSize: 6 * MiB,
        queueSize: 2,
      });
      const done = await upload.done();
      assert.match(done.ETag ?? '', /-3"$/, 'three parts: 6, 6 and 1 MiB');
      assert.ok(
        hosts.length >= 5 && hosts.every((h) => h === `${server.bucket}.${VHOST_SUFFIX}`),
        `every request names the bucket in its Host: ${hosts.join(', ')}`,
      );
      const head = await s3.send(new HeadObjectCommand({ Bucket: server.bucket, Key }));
      assert.equal(head.ContentLength, data.length);
      assert.deepEqual(head.Metadata, { camera_model: 'X100' }, 'a header name with an underscore arrives');
      const got = await s3.send(new GetObjectCommand({ Bucket: server.bucket, Key }));
      assert.equal(md5(await got.Body!.transformToByteArray()), md5(data));
    } finally {
      s3.destroy();
    }
  });

  test('path-style keys reach the node as sent, and nothing is compressed', async () => {
    const s3 = s3Client(publicUrl, { forcePathStyle: true });
    try {
      const Key = 'pages//draft/../index 100%.html';
      const html = Buffer.from(`<html><body>${'<p>mediahost behind nginx</p>'.repeat(400)}</body></html>`);
      await s3.send(
        new PutObjectCommand({ Bucket: server.bucket, Key, Body: html, ContentType: 'text/html' }),
      );
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'pages/' }));
      assert.deepEqual(
        listed.Contents?.map((o) => o.Key),
        [Key],
        'the key is stored as sent, not normalised',
      );
      const get = new GetObjectCommand({ Bucket: server.bucket, Key });
      // A browser would ask for gzip; the proxy must still pass the stored bytes on.
      get.middlewareStack.add(
        (next) => async (args) => {
          (args.request as { headers: Record<string, string> }).headers['accept-encoding'] = 'gzip';
          return next(args);
        },
        { step: 'build', name: 'acceptGzip' },
      );
      const got = await s3.send(get);
      assert.equal(got.ContentEncoding, undefined);
      assert.equal(got.ContentLength, html.length);
      assert.equal(got.ETag, `"${md5(html)}"`);
      assert.equal(Buffer.from(await got.Body!.transformToByteArray()).toString(), html.toString());
    } finally {
      s3.destroy();
    }
  });

  test('an SMH upload and download: the granted and redirected URLs are the public URL', async () => {
    const api = `${publicUrl}/api/v1`;
    const token = json<{ accessToken: string }>(
      await fetchVia(
        `${api}/token?${new URLSearchParams({ library_id: server.libraryId, library_secret: server.librarySecret, grant: 'admin' })}`,
      ),
      200,
    ).accessToken;
    const file = `${api}/file/${server.libraryId}/-/through%20proxy.bin?access_token=${token}`;
    const data = bytesOf('proxy-smh', 7 * MiB);

    const begin = json<{ url: string; headers: Record<string, string>; confirmKey: string; domain: string }>(
      await fetchVia(file, { method: 'PUT' }),
      201,
    );
    assert.equal(begin.domain, `${PUBLIC_HOST}:${port}`);
    assert.equal(new URL(begin.url).origin, publicUrl);
    const put = await fetchVia(begin.url, { method: 'PUT', headers: begin.headers, body: data });
    assert.equal(put.status, 200, put.body.toString());

    const confirmUrl = `${api}/file/${server.libraryId}/-/${begin.confirmKey}?confirm&access_token=${token}`;
    const confirmed = json<FileObject>(await fetchVia(confirmUrl, { method: 'POST' }), 200);
    assert.equal(confirmed.size, String(data.length));

    const redirect = await fetchVia(file);
    assert.equal(redirect.status, 302, redirect.body.toString());
    const location = String(redirect.headers.location);
    assert.equal(new URL(location).origin, publicUrl);
    const download = await fetchVia(location);
    assert.equal(download.status, 200, download.body.toString().slice(0, 500));
    assert.equal(md5(download.body), md5(data));
  });

  test('a body streams through to the node while the client is still sending it', async () => {
    const data = bytesOf('proxy-stream', 4 * MiB);
    const url = presignSigV4({
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: 'us-east-1',
      method: 'PUT',
      url: `${publicUrl}/${server.bucket}/streamed.bin`,
      expiresSeconds: 600,
      now: new Date(),
    });
    let answer: ((a: Answer) => void) | undefined;
    const answered = new Promise<Answer>((resolve) => (answer = resolve));
    const req = request(
      url,
      { method: 'PUT', headers: { 'content-length': String(data.length) }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          answer!({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', () => {});
    try {
      req.write(data.subarray(0, MiB));
      // A proxy that buffered request bodies would not reach the node before the last byte.
      await waitFor(
        () => blobFiles(server.dataDir).temporary.length > 0,
        60_000,
        'the node writing the body before it is complete',
      );
      req.end(data.subarray(MiB));
      const put = await answered;
      assert.equal(put.status, 200, put.body.toString());
      assert.equal(put.headers.etag, `"${md5(data)}"`);
    } finally {
      req.destroy();
    }
  });
});
