// A lean SigV4-signed GET to the external store, for the one call on a hot path: ListParts, made by
// every upload-task status. The AWS SDK spends about 0.8 ms of CPU on such a call (middleware stack,
// generic XML deserialisation); a kept-alive node:http request signed with our SigV4 code and parsed
// for the few fields status shows costs a fraction of that. Everything else goes through the SDK.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  amzDateFromDate,
  canonicalRequest,
  credentialScope,
  EMPTY_SHA256,
  SIGV4_ALGORITHM,
  signingKey,
  sigV4Signature,
  stringToSign,
} from '../../lib/sigv4.ts';
import { IDLE_TIMEOUT_MS, objectAddress, type S3BucketSettings } from './s3-bucket.ts';

export interface S3HttpResponse {
  status: number;
  body: string;
}

export class S3Http {
  readonly #s: S3BucketSettings;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  #key: { date: string; key: Buffer } | undefined;

  constructor(settings: S3BucketSettings) {
    this.#s = settings;
    const https = settings.endpoint.startsWith('https:');
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  #signingKey(date: string): Buffer {
    if (this.#key?.date !== date) {
      this.#key = { date, key: signingKey(this.#s.secretAccessKey, date, this.#s.region, 's3') };
    }
    return this.#key.key;
  }

  /**
   * GET of `key` (with `query`), signed; resolves with the status and the whole body. A kept-alive
   * connection the store closed while idle fails the first write: that attempt is made once more on a
   * new connection. A store silent for IDLE_TIMEOUT_MS fails the call.
   */
  async get(key: string, query: readonly [string, string][], now: Date): Promise<S3HttpResponse> {
    try {
      return await this.#get(key, query, now);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ECONNRESET' && code !== 'EPIPE') throw err;
      return this.#get(key, query, now);
    }
  }

  #get(key: string, query: readonly [string, string][], now: Date): Promise<S3HttpResponse> {
    const at = objectAddress(this.#s, this.#s.endpoint, key);
    const url = new URL(at.origin);
    const amzDate = amzDateFromDate(now);
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
      host: url.host,
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': amzDate,
    };
    const signed = Object.keys(headers).sort();
    const canonical = canonicalRequest({
      method: 'GET',
      rawPath: at.path,
      query,
      headers,
      signedHeaders: signed,
      payloadHash: EMPTY_SHA256,
    });
    const scope = credentialScope(date, this.#s.region, 's3');
    const signature = sigV4Signature(this.#signingKey(date), stringToSign(amzDate, scope, canonical));
    headers.authorization = `${SIGV4_ALGORITHM} Credential=${this.#s.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
    const search = new URLSearchParams(query as [string, string][]).toString();
    return new Promise((resolve, reject) => {
      const req = this.#request(
        `${at.origin}${at.path}${search ? `?${search}` : ''}`,
        { method: 'GET', headers, agent: this.#agent },
        (res: IncomingMessage) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.setTimeout(IDLE_TIMEOUT_MS, () => {
        req.destroy(new Error(`the object store sent nothing for ${IDLE_TIMEOUT_MS / 1000} s`));
      });
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** The text of each `<tag>…</tag>` inside `xml` (no nesting of the same tag). */
export function xmlElements(xml: string, tag: string): string[] {
  const out: string[] = [];
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  for (let from = xml.indexOf(open); from >= 0; from = xml.indexOf(open, from)) {
    const end = xml.indexOf(close, from);
    if (end < 0) break;
    out.push(xml.slice(from + open.length, end));
    from = end + close.length;
  }
  return out;
}

/** The text of the first `<tag>…</tag>`, entities decoded; undefined when absent. */
export function xmlText(xml: string, tag: string): string | undefined {
  const found = xmlElements(xml, tag)[0];
  return found === undefined ? undefined : decodeEntities(found);
}

function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}
