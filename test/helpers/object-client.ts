// A minimal COS-signed client for the object API, for tests that need raw control over requests
// (slow bodies, races, malformed input) rather than an SDK's retries and validation.
import { createHash } from 'node:crypto';
import { type Credentials, cosFetch } from './sign.ts';
import { bytesOf } from './smh-client.ts';

export interface ObjectClientOptions {
  url: string;
  bucket: string;
  credentials: Credentials;
}

export const md5Hex = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

const ENTITIES: Record<string, string> = {
  '&quot;': '"',
  '&apos;': "'",
  '&lt;': '<',
  '&gt;': '>',
  '&amp;': '&',
};
const decodeEntities = (text: string): string =>
  text.replace(/&(quot|apos|lt|gt|amp);/g, (e) => ENTITIES[e]!);

/** Text of the first `<tag>` element, entities decoded (ETags arrive as &quot;…&quot;). */
export function xmlValue(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? decodeEntities(m[1]!) : undefined;
}

export function xmlValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => decodeEntities(m[1]!));
}

/** Deterministic bytes for part `n` of a test object, so any reader can check what it got. */
export function partBytes(seed: string, n: number, size: number): Buffer {
  return bytesOf(`${seed}:${n}`, size);
}

/** A request body that yields `chunk` bytes every `everyMs` until `total`, or until cancelled. */
export function slowBody(
  total: number,
  chunk: number,
  everyMs: number,
  sent: { bytes: number },
): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      if (sent.bytes >= total) {
        controller.close();
        return;
      }
      await new Promise((r) => setTimeout(r, everyMs));
      const n = Math.min(chunk, total - sent.bytes);
      sent.bytes += n;
      controller.enqueue(new Uint8Array(n).fill(7));
    },
  });
}

export class ObjectClient {
  readonly #o: ObjectClientOptions;

  constructor(options: ObjectClientOptions) {
    this.#o = options;
  }

  path(key: string): string {
    return `/${this.#o.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  }

  request(
    method: string,
    key: string | undefined,
    init: {
      query?: Record<string, string>;
      headers?: Record<string, string>;
      body?: RequestInit['body'];
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    return cosFetch(this.#o.url, this.#o.credentials, {
      method,
      path: key === undefined ? `/${this.#o.bucket}` : this.path(key),
      ...init,
    });
  }

  async put(key: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
    return this.request('PUT', key, { body, headers });
  }

  async get(
    key: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Buffer; res: Response }> {
    const res = await this.request('GET', key, { headers });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), res };
  }

  async initiate(key: string): Promise<string> {
    const res = await this.request('POST', key, { query: { uploads: '' } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`initiate failed: ${res.status} ${text}`);
    return xmlValue(text, 'UploadId')!;
  }

  uploadPart(
    key: string,
    uploadId: string,
    n: number,
    body: RequestInit['body'],
    signal?: AbortSignal,
  ): Promise<Response> {
    return this.request('PUT', key, {
      query: { partNumber: String(n), uploadId },
      body,
      ...(signal ? { signal } : {}),
    });
  }

  complete(key: string, uploadId: string, parts: { n: number; etag: string }[]): Promise<Response> {
    const xml = `<CompleteMultipartUpload>${parts
      .map((p) => `<Part><PartNumber>${p.n}</PartNumber><ETag>"${p.etag}"</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`;
    return this.request('POST', key, {
      query: { uploadId },
      body: xml,
      headers: { 'content-type': 'application/xml' },
    });
  }

  abort(key: string, uploadId: string): Promise<Response> {
    return this.request('DELETE', key, { query: { uploadId } });
  }

  listParts(key: string, uploadId: string): Promise<Response> {
    return this.request('GET', key, { query: { uploadId } });
  }
}
