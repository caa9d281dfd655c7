// Streaming decoder for `aws-chunked` request bodies (spec §5.7): a byte-level state machine that
// makes no assumption about chunk sizes or input splits, verifies chunk signatures before releasing
// data, and collects the trailer headers.

import { createHash, createHmac, type Hash, timingSafeEqual } from 'node:crypto';
import { EMPTY_SHA256 } from './sigv4.ts';

export interface AwsChunkedSigning {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  /** The Signature= of the request's Authorization header. */
  seedSignature: string;
}

export interface AwsChunkedOptions {
  /** x-amz-decoded-content-length; the decoded byte count must equal it (§5.7 step 6). */
  decodedLength?: number;
  /** When set, every chunk must carry a valid chunk-signature. */
  signing?: AwsChunkedSigning;
  /** Lower-case header name from x-amz-trailer; that trailer must be present (§5.7 step 7). */
  expectTrailer?: string;
  /** Check x-amz-trailer-signature (…-PAYLOAD-TRAILER); needs `signing`. */
  signedTrailer?: boolean;
  /**
   * Largest chunk accepted when `signing` is set, since a signed chunk is held in memory until its
   * signature is checked. Default 64 MiB.
   */
  maxSignedChunkSize?: number;
}

export type AwsChunkedErrorCode = 'IncompleteBody' | 'SignatureDoesNotMatch';

export class AwsChunkedError extends Error {
  readonly code: AwsChunkedErrorCode;

  constructor(code: AwsChunkedErrorCode, message: string) {
    super(message);
    this.name = 'AwsChunkedError';
    this.code = code;
  }
}

export interface AwsChunkedBody {
  /** The decoded payload. Iterate it once. */
  body: AsyncIterable<Buffer>;
  /** Trailer headers by lower-case name, without x-amz-trailer-signature; only once `body` is consumed. */
  trailers(): Record<string, string>;
  /**
   * Result of the trailer signature check when `signedTrailer` is set: the spec marks its canonical
   * form [unverified], so a mismatch is reported here instead of failing the upload.
   */
  trailerSignatureValid(): boolean | undefined;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
/** §5.7 step 1: reject lines over 4 KiB. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 64;
const DEFAULT_MAX_SIGNED_CHUNK = 64 * 1024 * 1024;
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';

type State = 'size-line' | 'data' | 'data-cr' | 'data-lf' | 'trailer-line' | 'end';

function incomplete(message: string): AwsChunkedError {
  return new AwsChunkedError('IncompleteBody', message);
}

function signatureMismatch(message: string): AwsChunkedError {
  return new AwsChunkedError('SignatureDoesNotMatch', message);
}

function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The parsed `chunk-size [;chunk-signature=…]` line (§5.7 step 2). */
function parseSizeLine(line: string): { size: number; signature: string | undefined } {
  const semi = line.indexOf(';');
  const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim();
  if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText)) throw incomplete(`bad chunk size line: ${JSON.stringify(line)}`);
  let signature: string | undefined;
  if (semi >= 0) {
    for (const extension of line.slice(semi + 1).split(';')) {
      const eq = extension.indexOf('=');
      if (eq < 0) continue;
      // Other extensions are ignored (§5.7 step 2).
      if (extension.slice(0, eq).trim().toLowerCase() === 'chunk-signature') {
        signature = extension
          .slice(eq + 1)
          .trim()
          .toLowerCase();
      }
    }
  }
  return { size: Number.parseInt(sizeText, 16), signature };
}

class AwsChunkedDecoder {
  readonly #options: AwsChunkedOptions;
  readonly #maxSignedChunk: number;
  #state: State = 'size-line';

  // Partial line carried over from earlier input chunks.
  #lineParts: Buffer[] = [];
  #lineLength = 0;
  #line: Buffer | undefined;

  #remaining = 0;
  #decodedTotal = 0;

  // Signed mode: the current chunk's expected signature, running hash and held slices.
  #previousSignature: string;
  #chunkSignature = '';
  #chunkHash: Hash | undefined;
  #held: Buffer[] = [];

  #trailerLines: [string, string][] = [];
  #trailerSignature: string | undefined;
  #trailerSignatureValid: boolean | undefined;
  #isDone = false;

  constructor(options: AwsChunkedOptions) {
    if (options.signedTrailer && !options.signing) throw new TypeError('signedTrailer needs signing');
    this.#options = options;
    this.#maxSignedChunk = options.maxSignedChunkSize ?? DEFAULT_MAX_SIGNED_CHUNK;
    this.#previousSignature = options.signing?.seedSignature.toLowerCase() ?? '';
  }

  trailers(): Record<string, string> {
    if (!this.#isDone) throw new Error('aws-chunked trailers read before the body was fully consumed');
    return Object.fromEntries(this.#trailerLines);
  }

  trailerSignatureValid(): boolean | undefined {
    return this.#trailerSignatureValid;
  }

  async *run(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    for await (const input of source) {
      const buf = asBuffer(input);
      let pos = 0;
      while (pos < buf.length) {
        switch (this.#state) {
          case 'size-line': {
            pos = this.#readLine(buf, pos);
            if (this.#line) this.#onSizeLine(this.#line);
            break;
          }
          case 'data': {
            const take = Math.min(this.#remaining, buf.length - pos);
            const slice = buf.subarray(pos, pos + take);
            pos += take;
            this.#remaining -= take;
            if (this.#chunkHash) {
              // Signed: hold the data until the chunk signature has been checked (§5.7).
              this.#chunkHash.update(slice);
              this.#held.push(slice);
            } else {
              yield slice;
            }
            if (this.#remaining === 0) this.#state = 'data-cr';
            break;
          }
          case 'data-cr': {
            // §5.7 step 3: chunk data must be followed by CRLF.
            if (buf[pos] !== CR) throw incomplete('chunk data not followed by CRLF');
            pos++;
            this.#state = 'data-lf';
            break;
          }
          case 'data-lf': {
            if (buf[pos] !== LF) throw incomplete('chunk data not followed by CRLF');
            pos++;
            this.#state = 'size-line';
            if (this.#chunkHash) {
              this.#verifyChunk(this.#chunkHash.digest('hex'));
              this.#chunkHash = undefined;
              const held = this.#held;
              this.#held = [];
              for (const slice of held) yield slice;
            }
            break;
          }
          case 'trailer-line': {
            pos = this.#readLine(buf, pos);
            if (this.#line) this.#onTrailerLine(this.#line);
            break;
          }
          case 'end': {
            // §5.7 step 5: only trailing whitespace may follow the final empty line.
            for (; pos < buf.length; pos++) {
              const b = buf[pos];
              if (b !== CR && b !== LF && b !== SP && b !== HT)
                throw incomplete('data after the final chunk');
            }
            break;
          }
        }
      }
    }
    if (this.#state !== 'end') throw incomplete(`body ended early (in ${this.#state})`);
    this.#isDone = true;
  }

  /**
   * Consumes bytes up to and including the next LF. Sets #line (CR stripped) when a whole line is
   * available, or leaves it undefined when the line continues in the next input chunk.
   */
  #readLine(buf: Buffer, pos: number): number {
    this.#line = undefined;
    // Room left for line + CR + LF; scanning further could only find an over-long line.
    const limit = Math.min(buf.length, pos + MAX_LINE + 2 - this.#lineLength);
    const lf = buf.subarray(pos, limit).indexOf(LF);
    if (lf < 0) {
      if (limit < buf.length || this.#lineLength + (limit - pos) > MAX_LINE + 1) {
        throw incomplete('line longer than 4 KiB');
      }
      this.#lineParts.push(buf.subarray(pos, limit));
      this.#lineLength += limit - pos;
      return limit;
    }
    const piece = buf.subarray(pos, pos + lf);
    const whole = this.#lineParts.length === 0 ? piece : Buffer.concat([...this.#lineParts, piece]);
    this.#lineParts = [];
    this.#lineLength = 0;
    if (whole.length === 0 || whole[whole.length - 1] !== CR) throw incomplete('line not terminated by CRLF');
    this.#line = whole.subarray(0, whole.length - 1);
    return pos + lf + 1;
  }

  #onSizeLine(line: Buffer): void {
    const { size, signature } = parseSizeLine(line.toString('latin1'));
    const { signing, decodedLength } = this.#options;
    if (signing) {
      if (signature === undefined) throw signatureMismatch('chunk without chunk-signature');
      this.#chunkSignature = signature;
    }
    if (decodedLength !== undefined && this.#decodedTotal + size > decodedLength) {
      throw incomplete('body longer than x-amz-decoded-content-length');
    }
    this.#decodedTotal += size;
    if (size > 0) {
      if (signing) {
        if (size > this.#maxSignedChunk) throw incomplete(`signed chunk of ${size} bytes is too large`);
        this.#chunkHash = createHash('sha256');
      }
      this.#remaining = size;
      this.#state = 'data';
      return;
    }
    // The last chunk (§5.7 step 4); its signature covers the empty data.
    if (decodedLength !== undefined && this.#decodedTotal !== decodedLength) {
      throw incomplete('body shorter than x-amz-decoded-content-length');
    }
    if (signing) this.#verifyChunk(EMPTY_SHA256);
    this.#state = 'trailer-line';
  }

  /** Chunk signature chain (§5.7): each StringToSign names the previous signature. */
  #verifyChunk(dataHash: string): void {
    const signing = this.#options.signing!;
    const toSign =
      `AWS4-HMAC-SHA256-PAYLOAD\n${signing.amzDate}\n${signing.scope}\n${this.#previousSignature}\n` +
      `${EMPTY_SHA256}\n${dataHash}`;
    const expected = createHmac('sha256', signing.signingKey).update(toSign).digest('hex');
    if (!sameHex(expected, this.#chunkSignature)) throw signatureMismatch('chunk signature does not match');
    this.#previousSignature = expected;
  }

  #onTrailerLine(line: Buffer): void {
    if (line.length > 0) {
      const text = line.toString('latin1');
      const colon = text.indexOf(':');
      if (colon <= 0) throw incomplete(`malformed trailer line: ${JSON.stringify(text)}`);
      const name = text.slice(0, colon).trim().toLowerCase();
      const value = text.slice(colon + 1).trim();
      if (name === TRAILER_SIGNATURE) {
        this.#trailerSignature = value.toLowerCase();
      } else {
        if (this.#trailerLines.length >= MAX_TRAILERS) throw incomplete('too many trailer headers');
        this.#trailerLines.push([name, value]);
      }
      return;
    }
    // The empty line ends the body.
    const { expectTrailer, signedTrailer } = this.#options;
    if (expectTrailer !== undefined && !this.#trailerLines.some(([name]) => name === expectTrailer)) {
      throw incomplete(`trailer ${expectTrailer} is missing`);
    }
    if (signedTrailer) this.#trailerSignatureValid = this.#checkTrailerSignature();
    this.#state = 'end';
  }

  /**
   * Trailer signature (§5.7, canonical form [unverified]): StringToSign is
   * `AWS4-HMAC-SHA256-TRAILER\n<date>\n<scope>\n<last chunk signature>\n<hex SHA-256 of "name:value\n"…>`.
   */
  #checkTrailerSignature(): boolean {
    if (this.#trailerSignature === undefined) return false;
    const signing = this.#options.signing!;
    const canonical = this.#trailerLines.map(([name, value]) => `${name}:${value}\n`).join('');
    const trailerHash = createHash('sha256').update(canonical, 'latin1').digest('hex');
    const toSign =
      `AWS4-HMAC-SHA256-TRAILER\n${signing.amzDate}\n${signing.scope}\n${this.#previousSignature}\n` +
      trailerHash;
    const expected = createHmac('sha256', signing.signingKey).update(toSign).digest('hex');
    return sameHex(expected, this.#trailerSignature);
  }
}

/**
 * Decodes an aws-chunked body (§5.7). Errors surface from the body iterator as AwsChunkedError;
 * data is released only after its chunk signature checks out when `signing` is given.
 */
export function decodeAwsChunked(
  source: AsyncIterable<Uint8Array>,
  options: AwsChunkedOptions,
): AwsChunkedBody {
  const decoder = new AwsChunkedDecoder(options);
  return {
    body: decoder.run(source),
    trailers: () => decoder.trailers(),
    trailerSignatureValid: () => decoder.trailerSignatureValid(),
  };
}
