// The SMH business API over HTTP, as any client calls it (spec smh §2): an access token in the query,
// minted from the library secret when no token was given and deleted again when the command ends.
import { CliError, SmhError } from './cli-error.ts';
import type { Connection } from './connection-options.ts';
import { encodePath } from './remote-path.ts';

/** A token the CLI mints for itself: every grant, valid an hour from each use (spec smh §1.3). */
const OWN_TOKEN = { grant: 'admin', period: 3600 };

type Query = Record<string, string | number | boolean | undefined>;

export interface SmhResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Answer 3xx as they come instead of following them (downloads). */
  manualRedirect?: boolean;
  /** No token (creating one). */
  anonymous?: boolean;
}

function queryString(query: Query): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === false) continue;
    // SMH action flags are keys without a value (spec smh §1.4).
    parts.push(
      value === true ? encodeURIComponent(key) : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`,
    );
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** A network failure named by its cause (ECONNREFUSED…) and the server, never the URL (it carries the token). */
export function unreachable(base: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new CliError(
    `cannot reach ${base} (${why})${why === 'ECONNREFUSED' ? ': is mediahost serve running there? Give the server with --url or MEDIAHOST_URL' : ''}`,
  );
}

export async function smhErrorOf(res: Response): Promise<SmhError> {
  const text = await res.text().catch(() => '');
  const requestId = res.headers.get('x-smh-request-id') ?? undefined;
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; requestId?: unknown };
    if (typeof body.code === 'string')
      return new SmhError(
        res.status,
        body.code,
        typeof body.message === 'string' ? body.message : res.statusText,
        typeof body.requestId === 'string' ? body.requestId : requestId,
      );
  } catch {}
  return new SmhError(
    res.status,
    `HTTP${res.status}`,
    `the server answered ${res.status} ${res.statusText}`,
    requestId,
  );
}

export class SmhHttpClient {
  readonly connection: Connection;
  #token: Promise<string> | undefined;
  #ownToken = false;

  constructor(connection: Connection) {
    this.connection = connection;
  }

  get library(): string {
    return encodeURIComponent(this.connection.libraryId);
  }

  get space(): string {
    return encodeURIComponent(this.connection.spaceId);
  }

  /** `/file/{lib}/{space}/{path}` and the like. */
  path(kind: 'file' | 'directory', segments: readonly string[]): string {
    return `/${kind}/${this.library}/${this.space}/${encodePath(segments)}`;
  }

  async mintToken(options: {
    grant: string;
    period?: number | undefined;
    userId?: string | undefined;
    spaceIds?: string | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<{ accessToken: string; expiresIn: number }> {
    const credential = this.connection.credential;
    if (credential?.kind !== 'secret')
      throw new CliError('creating a token needs the library secret (MEDIAHOST_LIBRARY_SECRET)', 2);
    const res = await this.request<{ accessToken: string; expiresIn: number }>('GET', '/token', {
      anonymous: true,
      signal: options.signal,
      query: {
        library_id: this.connection.libraryId,
        library_secret: credential.librarySecret,
        grant: options.grant,
        period: options.period,
        user_id: options.userId,
        space_id: options.spaceIds,
      },
    });
    return res.body;
  }

  /** The token to send: the one of our own that parallel calls share, made anew once it is `refused`. */
  async #accessToken(refused?: string): Promise<string | undefined> {
    const credential = this.connection.credential;
    if (!credential) return undefined;
    if (credential.kind === 'token') return credential.token;
    if (this.#token && refused !== undefined) {
      const pending = this.#token;
      const current = await pending.catch(() => undefined);
      if (current === refused && this.#token === pending) this.#token = undefined;
    }
    if (!this.#token) {
      this.#ownToken = true;
      const minted = this.mintToken(OWN_TOKEN).then((t) => t.accessToken);
      this.#token = minted;
      minted.catch(() => {
        if (this.#token === minted) this.#token = undefined;
      });
    }
    return this.#token;
  }

  /** Calls `/api/v1{path}`; a non-2xx (other than a 3xx asked for) becomes an SmhError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<SmhResponse<T>> {
    let refused: string | undefined;
    for (let attempt = 0; ; attempt++) {
      const token = options.anonymous ? undefined : await this.#accessToken(refused);
      const url = `${this.connection.url}/api/v1${path}${queryString({ ...options.query, access_token: token })}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          ...(options.body !== undefined
            ? { body: JSON.stringify(options.body), headers: { 'content-type': 'application/json' } }
            : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          redirect: options.manualRedirect ? 'manual' : 'follow',
        });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        throw unreachable(this.connection.url, err);
      }
      if (res.ok || (options.manualRedirect && res.status >= 300 && res.status < 400)) {
        const text = method === 'HEAD' || options.manualRedirect ? '' : await res.text();
        return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
      }
      const error = await smhErrorOf(res);
      // A token of our own that ran out is made again once, as SDKs do on 403 InvalidAccessToken.
      if (error.code === 'InvalidAccessToken' && this.#ownToken && attempt === 0) {
        refused = token;
        continue;
      }
      throw error;
    }
  }

  /** Deletes the token this client made for itself, if any; a failure changes nothing for the user. */
  async close(): Promise<void> {
    if (!this.#ownToken || !this.#token) return;
    const token = await this.#token.catch(() => undefined);
    if (!token) return;
    await this.request('DELETE', `/token/${this.library}/${encodeURIComponent(token)}`, {
      anonymous: true,
      signal: AbortSignal.timeout(5000),
    }).catch(() => {});
  }
}
