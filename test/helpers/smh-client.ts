// A plain-fetch client of the SMH business API for acceptance tests: tokens, upload tasks, and the
// transfers to the object endpoint made only with what begin/renew/status returned.
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';

// Many tests take their waits from this module.
export { waitFor } from './wait.ts';

export const MiB = 1024 * 1024;

/** An SMH error body: JSON `{code, message, requestId}` (spec smh §1.5). */
export interface SmhErrorBody {
  code: string;
  message: string;
  requestId: string;
}

/** What begin, renew and status's uploadPartInfo hand out to transfer bytes with. */
export interface UploadInfo {
  domain: string;
  path: string;
  url: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  uploadId?: string;
  confirmKey: string;
  expiration: string;
  availableDomainNum: number;
}

/** The file object of confirm and instant upload (spec smh §2.3.8). */
export interface FileObject {
  path: string[] | null;
  name: string;
  type: string;
  size: string;
  eTag: string;
  crc64: string;
  contentType: string;
  isOverwritten: boolean;
}

export interface TaskStatus {
  confirmed: boolean;
  path: string[] | null;
  conflictResolutionStrategy: string;
  force: boolean;
  uploadId?: string;
  parts?: { PartNumber: number; LastModified: string; ETag: string; Size: number }[];
  uploadPartInfo?: Omit<UploadInfo, 'confirmKey' | 'availableDomainNum'>;
}

export const md5Hex = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

/** Deterministic, incompressible test bytes. */
export function bytesOf(seed: string, size: number): Buffer {
  // An AES-256-CTR keystream keyed by the seed: deterministic, and fast enough (GiB/s) that test data
  // of 100 MiB costs no time on a loaded machine.
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** Instant-upload hashes exactly as spec smh §3.2 words them. */
export function instantHashes(data: Buffer): { beginningHash: string; fullHash: string } {
  const beginningHash = createHash('sha256')
    .update(data.subarray(0, Math.min(data.length, MiB)))
    .digest('hex');
  let previous: Buffer | undefined;
  for (let off = 0; off < data.length || previous === undefined; off += MiB) {
    const h = createHash('sha256');
    if (previous) h.update(previous);
    previous = h.update(data.subarray(off, off + MiB)).digest();
  }
  return { beginningHash, fullHash: previous.toString('hex') };
}

// CRC-64/ECMA-182 as COS computes it (reflected, all-ones init and xor-out; a.k.a. CRC-64/XZ).
const CRC64_TABLE = (() => {
  const poly = 0xc96c5795d7870f42n;
  const table: bigint[] = [];
  for (let i = 0n; i < 256n; i++) {
    let crc = i;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
    table.push(crc);
  }
  return table;
})();

export function crc64(data: Uint8Array): string {
  let crc = 0xffffffffffffffffn;
  for (const byte of data) crc = CRC64_TABLE[Number((crc ^ BigInt(byte)) & 0xffn)]! ^ (crc >> 8n);
  return (crc ^ 0xffffffffffffffffn).toString();
}

/** Asserts an SMH error: status, JSON code, a message, and the request id in body and header. */
export async function expectSmhError(res: Response, status: number, code: string): Promise<SmhErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as SmhErrorBody;
  assert.equal(body.code, code, text);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0, 'an error has a message');
  assert.equal(typeof body.requestId, 'string');
  assert.ok(body.requestId.length > 0, 'an error has a request id');
  assert.equal(res.headers.get('x-smh-request-id'), body.requestId);
  return body;
}

/** Asserts the status and returns the JSON body. */
export async function expectJson<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** An XML error of the object endpoint: status and Message. */
export async function expectObjectError(
  res: Response,
  status: number,
  message?: string | RegExp,
): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status} ${text}`);
  const got = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '';
  if (typeof message === 'string') assert.equal(got, message, text);
  else if (message) assert.match(got, message, text);
  return text;
}

/** A token from the library secret (spec smh §2.1): `params` are space_id, user_id, grant… */
export async function createToken(
  url: string,
  library: { libraryId: string; librarySecret: string },
  params: Record<string, string>,
): Promise<string> {
  const query = new URLSearchParams({
    library_id: library.libraryId,
    library_secret: library.librarySecret,
    ...params,
  });
  const body = await expectJson<{ accessToken: string }>(await fetch(`${url}/api/v1/token?${query}`), 200);
  return body.accessToken;
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

export interface SmhRequest {
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One caller (token) on one space of one library. */
export class SmhClient {
  readonly url: string;
  readonly libraryId: string;
  readonly spaceId: string;
  readonly token: string;

  constructor(options: { url: string; libraryId: string; spaceId?: string; token: string }) {
    this.url = options.url;
    this.libraryId = options.libraryId;
    this.spaceId = options.spaceId ?? '-';
    this.token = options.token;
  }

  /** Another space with the same token, another token on the same space, or another node. */
  with(options: { spaceId?: string; token?: string; url?: string }): SmhClient {
    return new SmhClient({
      url: options.url ?? this.url,
      libraryId: this.libraryId,
      spaceId: options.spaceId ?? this.spaceId,
      token: options.token ?? this.token,
    });
  }

  /** `resource` is e.g. `file`, `directory`; `path` is below `{lib}/{space}/`. */
  request(method: string, resource: string, path: string, init: SmhRequest = {}): Promise<Response> {
    // Action flags are valueless keys (`?upload`), as the iOS and Android SDKs send them.
    const flags = Object.entries(init.query ?? {})
      .map(([k, v]) =>
        v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`,
      )
      .concat(`access_token=${this.token}`)
      .join('&');
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    let body: string | undefined;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    const target = `${this.url}/api/v1/${resource}/${this.libraryId}/${this.spaceId}/${encodePath(path)}?${flags}`;
    return fetch(target, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
  }

  mkdir(path: string): Promise<Response> {
    return this.request('PUT', 'directory', path);
  }

  list(path: string): Promise<Response> {
    return this.request('GET', 'directory', path, { query: { limit: '1000' } });
  }

  /** Begins a task: multipart (POST ?multipart), simple (PUT) or form (POST). */
  begin(flavour: 'multipart' | 'simple' | 'form', path: string, init: SmhRequest = {}): Promise<Response> {
    const query = flavour === 'multipart' ? { multipart: '', ...init.query } : (init.query ?? {});
    return this.request(flavour === 'simple' ? 'PUT' : 'POST', 'file', path, { ...init, query });
  }

  async beginTask(
    flavour: 'multipart' | 'simple' | 'form',
    path: string,
    init: SmhRequest = {},
  ): Promise<UploadInfo> {
    return expectJson<UploadInfo>(await this.begin(flavour, path, init), 201);
  }

  status(confirmKey: string): Promise<Response> {
    return this.request('GET', 'file', confirmKey, { query: { upload: '' } });
  }

  renew(confirmKey: string, query: Record<string, string> = {}): Promise<Response> {
    return this.request('POST', 'file', confirmKey, { query: { renew: '', ...query } });
  }

  cancel(confirmKey: string): Promise<Response> {
    return this.request('DELETE', 'file', confirmKey, { query: { upload: '' } });
  }

  confirm(confirmKey: string, init: SmhRequest = {}): Promise<Response> {
    return this.request('POST', 'file', confirmKey, { ...init, query: { confirm: '', ...init.query } });
  }

  async confirmFile(confirmKey: string, init: SmhRequest = {}): Promise<FileObject> {
    return expectJson<FileObject>(await this.confirm(confirmKey, init), 200);
  }

  /** GET of a file: 302 to a signed URL, which is then followed. */
  async download(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ location: string; body: Buffer }> {
    const res = await this.request('GET', 'file', path);
    const text = await res.text();
    assert.equal(res.status, 302, `download of ${path}: ${res.status} ${text}`);
    const location = res.headers.get('location');
    assert.ok(location, 'a download redirects to the bytes');
    const got = await fetch(location, { headers });
    assert.equal(got.status, 200);
    return { location, body: Buffer.from(await got.arrayBuffer()) };
  }
}

/** PUT of part `n` to the object endpoint with the headers an SMH call returned. */
export function putPart(
  info: { url: string; uploadId?: string; headers?: Record<string, string> },
  n: number,
  body: RequestInit['body'],
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  assert.ok(info.uploadId, 'a multipart grant has an uploadId');
  return fetch(`${info.url}?partNumber=${n}&uploadId=${info.uploadId}`, {
    method: 'PUT',
    headers: init.headers ?? info.headers ?? {},
    body,
    ...(init.signal ? { signal: init.signal, duplex: 'half' } : { duplex: 'half' }),
  } as RequestInit);
}

/** Uploads `parts` as parts 1..N and checks each answers 200 with the quoted MD5 as ETag. */
export async function putParts(info: UploadInfo, parts: readonly Buffer[], first = 1): Promise<void> {
  for (const [i, part] of parts.entries()) {
    const res = await putPart(info, first + i, part);
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('etag'), `"${md5Hex(part)}"`);
  }
}

/** The simple flavour's single PUT. */
export async function putSimple(info: UploadInfo, body: Buffer): Promise<void> {
  const res = await fetch(info.url, { method: 'PUT', headers: info.headers ?? {}, body });
  assert.equal(res.status, 200, await res.text());
}

/** A whole simple upload: begin (PUT), the bytes, confirm; returns the confirmed file. */
export async function uploadFile(
  smh: SmhClient,
  path: string,
  data: Buffer,
  init: SmhRequest = {},
): Promise<FileObject> {
  const begin = await smh.beginTask('simple', path, init);
  await putSimple(begin, data);
  return smh.confirmFile(begin.confirmKey);
}

/** The form flavour: the `form` fields first, then `file` last (spec smh §2.3.1). */
export async function postForm(info: UploadInfo, body: Buffer, name: string): Promise<void> {
  assert.ok(info.form, 'a form grant has form fields');
  const form = new FormData();
  for (const [k, v] of Object.entries(info.form)) form.append(k, v);
  form.append('file', new Blob([body]), name);
  const res = await fetch(info.url, { method: 'POST', body: form });
  assert.equal(res.status, 204, await res.text());
}

/** Runs `task` over `items` with at most `limit` running at once. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
