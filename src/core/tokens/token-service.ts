// SMH access tokens (spec smh §1.3, §2.1): created with the library secret, opaque to clients, stored
// as a hash, and alive for `period` seconds after their last use (sliding expiry).
import type { Clock } from '../../ports/clock.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { AppError } from '../errors.ts';
import { type LibraryId, randomString } from '../ids.ts';
import type { LibraryRecord } from '../libraries/model.ts';
import { sha256Hex } from '../objects/credential-service.ts';
import { type AccessContext, GRANTS, type Grant } from './access.ts';
import type { TokenRecord } from './model.ts';

const DEFAULT_PERIOD = 86_400;
const MIN_PERIOD = 300;
const MAX_PERIOD = 315_360_000;
/** Longest user_id / client_id / session_id accepted (SMH documents a limit without its value). */
export const MAX_ID_LENGTH = 128;
/** A use pushes the expiry only when it moved by at least this much, so reads do not all write. */
const SLIDE_GRANULARITY_MS = 60_000;
const MAX_REVOKE_IDS = 100;
const LOWER36 = '0123456789abcdefghijklmnopqrstuvwxyz';
/** Libraries kept in memory; far more than one installation has. */
const LIBRARY_CACHE = 10_000;

export interface CreateTokenInput {
  libraryId: string | undefined;
  librarySecret: string | undefined;
  spaceIds?: string[];
  userId?: string;
  clientId?: string;
  sessionId?: string;
  period?: string;
  grants?: string[];
}

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
}

/** SMH: non-positive or invalid → 86400; below 300 → 300; above ten years → ten years. */
export function clampPeriod(raw: string | undefined): number {
  const n = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || n <= 0) return DEFAULT_PERIOD;
  return Math.min(MAX_PERIOD, Math.max(MIN_PERIOD, Math.floor(n)));
}

function checkIdLength(
  value: string | undefined,
  code: 'UserIdLengthExceed' | 'ClientIdLengthExceed',
  what: string,
): void {
  if (value !== undefined && value.length > MAX_ID_LENGTH) {
    throw new AppError(code, `${what} is longer than ${MAX_ID_LENGTH} characters.`);
  }
}

export class TokenService {
  readonly #store: MetadataStore;
  readonly #clock: Clock;
  /**
   * Libraries by id, for requests made with a token: the fields they use never change. Secrets do
   * (`library rotate-secret`), so verifySecret reads the library afresh.
   */
  readonly #libraries = new Map<string, LibraryRecord>();

  constructor(store: MetadataStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  async #library(id: string): Promise<LibraryRecord | undefined> {
    const cached = this.#libraries.get(id);
    if (cached) return cached;
    const library = await this.#store.libraries.get(id as LibraryId);
    if (library) {
      if (this.#libraries.size >= LIBRARY_CACHE) this.#libraries.clear();
      this.#libraries.set(id, library);
    }
    return library;
  }

  /** The library if the secret is its own; the SMH error codes otherwise. */
  async verifySecret(libraryId: string | undefined, secret: string | undefined): Promise<LibraryRecord> {
    const noId = libraryId === undefined || libraryId === '';
    const noSecret = secret === undefined || secret === '';
    if (noId && noSecret)
      throw new AppError('EmptyLibraryIdOrSecret', 'library_id and library_secret are required.');
    if (noId) throw new AppError('EmptyLibraryId', 'library_id is required.');
    if (noSecret) throw new AppError('EmptyLibrarySecret', 'library_secret is required.');
    const library = await this.#store.libraries.get(libraryId as LibraryId);
    if (!library || library.secretHash !== sha256Hex(secret)) {
      throw new AppError('WrongLibraryIdOrSecret', 'The library id or library secret is wrong.');
    }
    return library;
  }

  async create(input: CreateTokenInput): Promise<IssuedToken> {
    const library = await this.verifySecret(input.libraryId, input.librarySecret);
    checkIdLength(input.userId, 'UserIdLengthExceed', 'user_id');
    checkIdLength(input.clientId, 'ClientIdLengthExceed', 'client_id');
    checkIdLength(input.sessionId, 'ClientIdLengthExceed', 'session_id');
    const grants = (input.grants ?? []).filter((g) => g !== '');
    const unknown = grants.filter((g) => !(GRANTS as readonly string[]).includes(g));
    if (unknown.length > 0) {
      throw new AppError('InvalidArgument', `Unknown grant ${unknown.join(', ')}; see the SMH grant list.`);
    }
    const spaceIds = (input.spaceIds ?? []).filter((s) => s !== '');
    if (!library.isMultiTenant && spaceIds.some((s) => s !== '-')) {
      throw new AppError(
        'NotMultiSpaceLibrary',
        'A single-tenant library has no tenant spaces; omit space_id.',
      );
    }
    const period = clampPeriod(input.period);
    const accessToken = `acctk${randomString(43, LOWER36)}`;
    const now = this.#clock.now();
    await this.#store.tokens.insert({
      hash: sha256Hex(accessToken),
      libraryId: library.id,
      spaceIds: library.isMultiTenant && spaceIds.length > 0 ? spaceIds : null,
      userId: input.userId ?? '',
      clientId: input.clientId ?? '',
      sessionId: input.sessionId ?? '',
      grants,
      period,
      expiresAt: now + period * 1000,
      createdAt: now,
    });
    return { accessToken, expiresIn: period };
  }

  async #live(libraryId: string, accessToken: string): Promise<TokenRecord> {
    const token = await this.#store.tokens.get(sha256Hex(accessToken));
    if (!token || token.expiresAt < this.#clock.now()) {
      throw new AppError('InvalidAccessToken', 'The access token is invalid or has expired.');
    }
    if (token.libraryId !== libraryId) {
      throw new AppError('AccessTokenNotMatchLibrary', 'The access token belongs to another library.');
    }
    return token;
  }

  /**
   * The caller of an SMH request: by access token (sliding its expiry), or by library secret
   * (a backend call with every permission). `user_id` on the request takes effect for admin
   * tokens created without a user (spec smh §1.3).
   */
  async authenticate(input: {
    libraryId: string;
    accessToken: string | undefined;
    librarySecret: string | undefined;
    userId: string | undefined;
  }): Promise<AccessContext> {
    if (input.librarySecret !== undefined && input.librarySecret !== '' && !input.accessToken) {
      const library = await this.verifySecret(input.libraryId, input.librarySecret);
      return { library, spaceIds: null, userId: input.userId ?? '', grants: new Set<Grant>(['admin']) };
    }
    if (input.accessToken === undefined || input.accessToken === '') {
      throw new AppError('EmptyAccessToken', 'access_token is required.');
    }
    const token = await this.#live(input.libraryId, input.accessToken);
    const library = await this.#library(token.libraryId);
    if (!library) throw new AppError('LibraryNotFound', 'The library no longer exists.');
    const now = this.#clock.now();
    const slid = now + token.period * 1000;
    if (slid - token.expiresAt >= SLIDE_GRANULARITY_MS)
      await this.#store.tokens.extend(token.hash, slid, now);
    const grants = new Set(token.grants as Grant[]);
    const actAs = grants.has('admin') && token.userId === '' && input.userId ? input.userId : token.userId;
    return { library, spaceIds: token.spaceIds, userId: actAs, grants };
  }

  /** POST /token/{lib}/{token}: validity reset to the original period; the value stays. */
  async renew(libraryId: string, accessToken: string): Promise<IssuedToken> {
    const token = await this.#live(libraryId, accessToken);
    const now = this.#clock.now();
    if (!(await this.#store.tokens.extend(token.hash, now + token.period * 1000, now))) {
      throw new AppError('InvalidAccessToken', 'The access token is invalid or has expired.');
    }
    return { accessToken, expiresIn: token.period };
  }

  async delete(libraryId: string, accessToken: string): Promise<void> {
    await this.#live(libraryId, accessToken);
    await this.#store.tokens.delete(sha256Hex(accessToken));
  }

  async deleteForUser(input: {
    libraryId: string;
    librarySecret: string | undefined;
    userId: string | undefined;
    clientIds: string[];
    sessionIds: string[];
  }): Promise<number> {
    const library = await this.verifySecret(input.libraryId, input.librarySecret);
    if (input.userId === undefined || input.userId === '') {
      throw new AppError('InvalidArgument', 'user_id is required to delete the tokens of a user.');
    }
    if (input.clientIds.length > MAX_REVOKE_IDS || input.sessionIds.length > MAX_REVOKE_IDS) {
      throw new AppError(
        'InvalidArgument',
        `At most ${MAX_REVOKE_IDS} client_id or session_id values at once.`,
      );
    }
    return this.#store.tokens.deleteForUser(library.id, input.userId, {
      clientIds: input.clientIds,
      sessionIds: input.sessionIds,
    });
  }

  async deleteExpired(): Promise<number> {
    return this.#store.tokens.deleteExpired(this.#clock.now());
  }
}
