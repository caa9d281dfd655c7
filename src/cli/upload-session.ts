// One file's upload through an SMH upload task (spec smh §3.1): a single PUT for a file that fits in
// one part; otherwise multipart with signed URLs per part (partNumberRange), parts in parallel, renewed
// before they expire, resumed from the task's status, confirmed with the file's CRC-64 (ADR 0008 §5-7).
import { createReadStream } from 'node:fs';
import { Crc64, crc64Combine } from '../lib/crc64.ts';
import { CliError, SmhError } from './cli-error.ts';
import { putRange, sendWithRetries } from './http-transfer.ts';
import { partRanges, partSizeFor } from './part-ranges.ts';
import type { FileProgress, Progress } from './progress.ts';
import { showPath } from './remote-path.ts';
import type { Slots } from './slots.ts';
import type { SmhHttpClient } from './smh-http-client.ts';
import type { UploadRecord, UploadState, UploadTarget } from './upload-state.ts';

export type ConflictStrategy = 'ask' | 'rename' | 'overwrite';

export interface UploadJob {
  localPath: string;
  remote: string[];
  size: number;
  mtimeMs: number;
}

export interface UploadContext {
  client: SmhHttpClient;
  state: UploadState;
  slots: Slots;
  progress: Progress;
  partSize: number;
  strategy: ConflictStrategy;
  signal: AbortSignal;
}

export interface UploadResult {
  status: 'uploaded' | 'skipped';
  remote: string;
  partsSent: number;
  partsResumed: number;
}

interface PartGrant {
  url: string;
  headers: Record<string, string>;
}

/** begin and renew (spec smh §2.3.3, §2.3.5); `parts` with the per-part variant. */
interface GrantBody {
  /** mediahost's full URL; SMH itself gives only domain and path. */
  url?: string;
  domain: string;
  path: string;
  uploadId?: string;
  headers?: Record<string, string>;
  parts?: Record<string, PartGrant>;
  confirmKey: string;
  expiration: string;
}

interface TaskStatusBody {
  confirmed: boolean;
  parts?: { PartNumber: number; Size: number }[];
}

/** Renewed this long before the signed URLs expire (the SDKs' margin, spec smh §3.1 step 6). */
const RENEW_MARGIN_MS = 5 * 60 * 1000;
/** Part numbers one begin or renew signs (the server's limit). */
const SIGNED_PER_CALL = 1000;
async function crcOfRange(file: string, start: number, length: number): Promise<bigint> {
  const crc = new Crc64();
  if (length === 0) return crc.value();
  for await (const chunk of createReadStream(file, { start, end: start + length - 1 }))
    crc.update(chunk as Buffer);
  return crc.value();
}

const fileQuery = (strategy: ConflictStrategy) => ({ conflict_resolution_strategy: strategy });

export class UploadSession {
  readonly #job: UploadJob;
  readonly #c: UploadContext;
  readonly #target: UploadTarget;
  readonly #bar: FileProgress;
  readonly #abort = new AbortController();
  readonly #signal: AbortSignal;
  #partSize: number;
  #confirmKey = '';
  readonly #grants = new Map<number, PartGrant>();
  #expiresAt = 0;
  #renewing: Promise<void> | undefined;
  #pending: number[] = [];

  constructor(job: UploadJob, context: UploadContext, bar: FileProgress) {
    this.#job = job;
    this.#c = context;
    this.#bar = bar;
    this.#partSize = partSizeFor(job.size, context.partSize);
    this.#signal = AbortSignal.any([context.signal, this.#abort.signal]);
    const { connection } = context.client;
    this.#target = {
      url: connection.url,
      libraryId: connection.libraryId,
      spaceId: connection.spaceId,
      remotePath: showPath(job.remote),
    };
  }

  get #partCount(): number {
    return Math.max(1, Math.ceil(this.#job.size / this.#partSize));
  }

  #partLength(n: number): number {
    return n < this.#partCount ? this.#partSize : this.#job.size - this.#partSize * (this.#partCount - 1);
  }

  #event(fields: Record<string, unknown>): void {
    this.#c.progress.event({ ...fields, local: this.#job.localPath, remote: this.#target.remotePath });
  }

  async run(): Promise<UploadResult> {
    const record = this.#c.state.get(this.#target);
    if (record) {
      const resumed = await this.#resume(record);
      if (resumed) return resumed;
    }
    if (await this.#identicalThere()) {
      this.#bar.credit(this.#job.size);
      return { status: 'skipped', remote: this.#target.remotePath, partsSent: 0, partsResumed: 0 };
    }
    return this.#job.size <= this.#partSize ? this.#simple() : this.#multipart(new Map());
  }

  /** The remote file has this size and CRC-64 already: a repeated command skips it. */
  async #identicalThere(): Promise<boolean> {
    const { client } = this.#c;
    let res: Awaited<ReturnType<typeof client.request>>;
    try {
      res = await client.request('HEAD', client.path('file', this.#job.remote), { signal: this.#signal });
    } catch (err) {
      if (err instanceof SmhError && err.status === 404) return false;
      throw err;
    }
    if (Number(res.headers.get('x-smh-size')) !== this.#job.size) return false;
    const local = await crcOfRange(this.#job.localPath, 0, this.#job.size);
    return res.headers.get('x-smh-crc64') === local.toString();
  }

  async #resume(record: UploadRecord): Promise<UploadResult | undefined> {
    const { client } = this.#c;
    const job = this.#job;
    const cancel = () =>
      client.request('DELETE', client.path('file', [record.confirmKey]), { query: { upload: true } });
    if (record.localPath !== job.localPath || record.size !== job.size || record.mtimeMs !== job.mtimeMs) {
      this.#c.progress.note(
        `${record.remotePath}: the local file is not the one of the interrupted upload; starting over`,
      );
      await cancel().catch(() => {});
      this.#c.state.delete(this.#target);
      return undefined;
    }
    let status: TaskStatusBody;
    try {
      ({ body: status } = await client.request<TaskStatusBody>(
        'GET',
        client.path('file', [record.confirmKey]),
        {
          query: { upload: true, no_upload_part_info: 1 },
          signal: this.#signal,
        },
      ));
    } catch (err) {
      if (!(err instanceof SmhError) || (err.code !== 'ConfirmKeyNotFound' && err.code !== 'UploadNotFound'))
        throw err;
      this.#c.progress.note(
        `${record.remotePath}: the interrupted upload is gone from the server (${err.code}); starting over`,
      );
      this.#c.state.delete(this.#target);
      return undefined;
    }
    this.#partSize = record.partSize;
    if (this.#partSize !== partSizeFor(job.size, this.#c.partSize))
      this.#c.progress.note(
        `${record.remotePath}: resuming with the part size the upload began with, ${record.partSize} bytes`,
      );
    this.#confirmKey = record.confirmKey;
    const have = new Map<number, number>();
    if (status.confirmed) for (let n = 1; n <= this.#partCount; n++) have.set(n, this.#partLength(n));
    for (const p of status.parts ?? [])
      if (p.PartNumber <= this.#partCount && p.Size === this.#partLength(p.PartNumber))
        have.set(p.PartNumber, p.Size);
    return this.#multipart(have);
  }

  async #simple(): Promise<UploadResult> {
    const { client } = this.#c;
    const { body } = await client.request<GrantBody>('PUT', client.path('file', this.#job.remote), {
      query: { ...fileQuery(this.#c.strategy), filesize: this.#job.size },
      signal: this.#signal,
    });
    this.#confirmKey = body.confirmKey;
    this.#event({
      event: 'task',
      confirmKey: body.confirmKey,
      parts: 1,
      partSize: this.#job.size,
      resumed: false,
      partsDone: 0,
    });
    try {
      const crc = await this.#c.slots.run(() =>
        sendWithRetries(
          () =>
            putRange({
              url: body.url ?? `https://${body.domain}${body.path}`,
              headers: body.headers ?? {},
              file: this.#job.localPath,
              start: 0,
              length: this.#job.size,
              signal: this.#signal,
              onBytes: (n) => this.#bar.moved(n),
            }),
          this.#signal,
          async () => {
            throw new CliError('the signed upload URL was refused (expired?)');
          },
        ),
      );
      this.#event({ event: 'part', partNumber: 1, size: this.#job.size });
      return await this.#confirm(crc, { partsSent: 1, partsResumed: 0 });
    } catch (err) {
      // A single PUT has nothing to resume: its task goes now rather than with the sweeper.
      await client
        .request('DELETE', client.path('file', [this.#confirmKey]), { query: { upload: true } })
        .catch(() => {});
      throw err;
    }
  }

  async #multipart(have: Map<number, number>): Promise<UploadResult> {
    const count = this.#partCount;
    this.#pending = [];
    for (let n = 1; n <= count; n++) if (!have.has(n)) this.#pending.push(n);
    const resumed = this.#confirmKey !== '';
    if (!resumed) await this.#begin();
    this.#event({
      event: 'task',
      confirmKey: this.#confirmKey,
      parts: count,
      partSize: this.#partSize,
      resumed,
      partsDone: have.size,
    });
    const crcs = new Map<number, bigint>();
    const sent = this.#pending.length;
    try {
      await Promise.all([
        // Parts the server has are read here only for the file's CRC-64, beside the transfers.
        (async () => {
          for (const n of have.keys()) {
            crcs.set(n, await crcOfRange(this.#job.localPath, (n - 1) * this.#partSize, this.#partLength(n)));
            this.#bar.credit(this.#partLength(n));
          }
        })(),
        ...this.#pending.map((n) =>
          this.#c.slots.run(async () => {
            this.#signal.throwIfAborted();
            crcs.set(n, await this.#sendPart(n));
            this.#event({ event: 'part', partNumber: n, size: this.#partLength(n) });
          }),
        ),
      ]);
    } catch (err) {
      this.#abort.abort(); // the other parts of this file stop too
      throw err;
    }
    let crc = crcs.get(1)!;
    for (let n = 2; n <= count; n++) crc = crc64Combine(crc, crcs.get(n)!, this.#partLength(n));
    return this.#confirm(crc, { partsSent: sent, partsResumed: have.size });
  }

  async #begin(): Promise<void> {
    const { client } = this.#c;
    const signed = this.#pending.slice(0, SIGNED_PER_CALL);
    const { body } = await client.request<GrantBody>('POST', client.path('file', this.#job.remote), {
      query: { multipart: true, ...fileQuery(this.#c.strategy), filesize: this.#job.size },
      body: { partNumberRange: partRanges(signed) },
      signal: this.#signal,
    });
    this.#confirmKey = body.confirmKey;
    this.#takeGrants(body, signed);
    this.#c.state.put({
      version: 1,
      ...this.#target,
      localPath: this.#job.localPath,
      size: this.#job.size,
      mtimeMs: this.#job.mtimeMs,
      partSize: this.#partSize,
      confirmKey: body.confirmKey,
      createdAt: new Date().toISOString(),
    });
  }

  #takeGrants(body: GrantBody, partNumbers: readonly number[]): void {
    this.#grants.clear();
    if (body.parts) for (const [n, grant] of Object.entries(body.parts)) this.#grants.set(Number(n), grant);
    else if (body.headers && body.uploadId) {
      // A server without the per-part variant signs one set of headers for every part (spec smh §2.3.3).
      const base = body.url ?? `https://${body.domain}${body.path}`;
      for (const n of partNumbers)
        this.#grants.set(n, {
          url: `${base}?partNumber=${n}&uploadId=${encodeURIComponent(body.uploadId)}`,
          headers: body.headers,
        });
    }
    this.#expiresAt = Date.parse(body.expiration);
  }

  /** Fresh signed URLs for `n` and the parts after it still to send (spec smh §2.3.5). */
  async #renew(n: number): Promise<void> {
    this.#renewing ??= (async () => {
      const { client } = this.#c;
      const signed = [...new Set([n, ...this.#pending.filter((p) => p >= n)])].slice(0, SIGNED_PER_CALL);
      const { body } = await client.request<GrantBody>('POST', client.path('file', [this.#confirmKey]), {
        query: { renew: true },
        body: { partNumberRange: partRanges(signed) },
        signal: this.#signal,
      });
      this.#takeGrants(body, signed);
    })().finally(() => {
      this.#renewing = undefined;
    });
    await this.#renewing;
  }

  async #grant(n: number): Promise<PartGrant> {
    if (!this.#grants.has(n) || this.#expiresAt - Date.now() < RENEW_MARGIN_MS) await this.#renew(n);
    const grant = this.#grants.get(n);
    if (!grant) throw new CliError(`the server signed no URL for part ${n}`);
    return grant;
  }

  async #sendPart(n: number): Promise<bigint> {
    const crc = await sendWithRetries(
      async () => {
        const grant = await this.#grant(n);
        return putRange({
          url: grant.url,
          headers: grant.headers,
          file: this.#job.localPath,
          start: (n - 1) * this.#partSize,
          length: this.#partLength(n),
          signal: this.#signal,
          onBytes: (bytes) => this.#bar.moved(bytes),
        });
      },
      this.#signal,
      () => this.#renew(n),
    );
    this.#pending = this.#pending.filter((p) => p !== n);
    return crc;
  }

  async #confirm(crc: bigint, counts: { partsSent: number; partsResumed: number }): Promise<UploadResult> {
    const { client } = this.#c;
    let file: { path: string[] | null };
    try {
      ({ body: file } = await client.request<{ path: string[] | null }>(
        'POST',
        client.path('file', [this.#confirmKey]),
        {
          // The strategy of this run, so a run again with another --conflict settles a conflict.
          query: { confirm: true, ...fileQuery(this.#c.strategy) },
          body: { crc64: crc.toString(), localModificationTime: new Date(this.#job.mtimeMs).toISOString() },
          signal: this.#signal,
        },
      ));
    } catch (err) {
      if (err instanceof SmhError && err.code === 'BadCrc64') {
        await client
          .request('DELETE', client.path('file', [this.#confirmKey]), { query: { upload: true } })
          .catch(() => {});
        this.#c.state.delete(this.#target);
        throw new CliError(
          `${err.smhMessage}: the local file changed while it was sent; the upload was cancelled, run again (SMH BadCrc64)`,
        );
      }
      throw err;
    }
    this.#c.state.delete(this.#target);
    const remote = file.path ? showPath(file.path) : this.#target.remotePath;
    return { status: 'uploaded', remote, ...counts };
  }
}
