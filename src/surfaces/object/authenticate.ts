// Which auth path a request takes and its verification (spec cos-api §5.8): SigV4 header, COS header,
// SigV4 presigned query, COS presigned query, else anonymous. Time windows are checked before the key
// is looked up, so an expired signature always reads "Request has expired" even once the temporary
// key behind it has been swept.
import { AppError } from '../../core/errors.ts';
import type { BucketAcl } from '../../core/objects/model.ts';
import {
  CosAuthParseError,
  canonicalListEntry,
  parseCosAuthorization,
  parseCosQueryAuth,
  parseKeyTime,
  timingSafeEqualHex,
  verifyCosSignature,
} from '../../lib/cos-signature.ts';
import { parseHttpDate } from '../../lib/http-date.ts';
import {
  canonicalRequest,
  EMPTY_SHA256,
  MAX_PRESIGN_EXPIRES_SECONDS,
  parseAmzDate,
  parseSigV4Authorization,
  parseSigV4Query,
  SigV4ParseError,
  signingKey,
  sigV4Signature,
  stringToSign,
} from '../../lib/sigv4.ts';
import {
  type Caller,
  header,
  type ObjectContext,
  type ObjectSurfaceDeps,
  type PayloadMode,
} from './context.ts';
import { refuseAnonymousOverrides, refuseUnsignedOverrides } from './response-overrides.ts';

type AuthInput = Pick<ObjectContext, 'request' | 'target'> & { deps: ObjectSurfaceDeps };

/** Header map for SigV4: lower-case names, repeated headers joined with ",", values as sent. */
function sigV4Headers(rawHeaders: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
  }
  return out;
}

function cosHeaders(ctx: AuthInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.request.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

function requestExpired(): AppError {
  return new AppError('RequestExpired', 'Request has expired');
}

function hasVendorHeaders(ctx: AuthInput, vendor: 'x-amz-' | 'x-cos-'): boolean {
  return Object.keys(ctx.request.headers).some((name) => name.startsWith(vendor));
}

async function verifyCos(ctx: AuthInput, fromHeader: boolean): Promise<Caller> {
  const { deps, target } = ctx;
  let params: ReturnType<typeof parseCosAuthorization>;
  try {
    params = fromHeader
      ? parseCosAuthorization(header(ctx, 'authorization') ?? '')
      : parseCosQueryAuth(target.query);
  } catch (err) {
    if (err instanceof CosAuthParseError)
      throw new AppError('AccessDenied', `Malformed COS signature: ${err.message}`);
    throw err;
  }
  if (!params) throw new AppError('AccessDenied', 'Access Denied.');
  if (params.algorithm !== 'sha1') throw new AppError('AccessDenied', 'q-sign-algorithm must be sha1.');
  let window: { start: number; end: number };
  try {
    window = parseKeyTime(params.signTime);
    parseKeyTime(params.keyTime);
  } catch {
    throw new AppError('AccessDenied', 'q-sign-time and q-key-time must be "start;end" in Unix seconds.');
  }
  const nowSeconds = Math.floor(deps.clock.now() / 1000);
  // COS: past the end of q-sign-time → AccessDenied "Request has expired" (§5.1 step 4).
  if (nowSeconds > window.end) throw requestExpired();
  if (nowSeconds < window.start - deps.config.clockSkewSeconds) {
    throw new AppError(
      'RequestTimeTooSkewed',
      'The difference between the request time and the server time is too large.',
    );
  }
  const token =
    header(ctx, 'x-cos-security-token') ?? target.query.find(([k]) => k === 'x-cos-security-token')?.[1];
  const key = await deps.credentials.resolve(params.accessKeyId, token);
  const headers = cosHeaders(ctx);
  const candidates = [target.path];
  // Path style: old SDKs sign "/bucket/key", current ones (Domain template) sign "/key" (§1.2).
  if (target.style === 'path' && target.bucket !== undefined) {
    const withoutBucket = target.path.slice(1 + target.bucket.length);
    candidates.push(withoutBucket === '' ? '/' : withoutBucket);
  }
  const matched = candidates.some((path) =>
    verifyCosSignature({
      secretKey: key.secret,
      method: ctx.request.method,
      path,
      query: target.query,
      headers,
      headerList: params.headerList,
      urlParamList: params.urlParamList,
      keyTime: params.keyTime,
      signTime: params.signTime,
      signature: params.signature,
    }),
  );
  if (!matched) {
    throw new AppError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  deps.credentials.checkNotExpired(key);
  const signedParams = new Set(params.urlParamList.map(canonicalListEntry));
  refuseUnsignedOverrides(target, (param) => signedParams.has(param));
  return { key, dialect: 'cos', payload: { kind: 'plain' } };
}

function payloadModeFor(
  hash: string,
  ctx: AuthInput,
  signing: { signingKey: Buffer; amzDate: string; scope: string; seedSignature: string },
): PayloadMode {
  if (/^[0-9a-f]{64}$/i.test(hash)) return { kind: 'signed', sha256Hex: hash.toLowerCase() };
  switch (hash) {
    case 'UNSIGNED-PAYLOAD':
      return { kind: 'plain' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'aws-chunked', signing, signedTrailer: false };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'aws-chunked', signing, signedTrailer: true };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'aws-chunked', signedTrailer: false };
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      throw new AppError('NotImplemented', 'SigV4a (ECDSA) signed payloads are not supported.');
    default:
      if ((header(ctx, 'content-encoding') ?? '').split(',').some((t) => t.trim() === 'aws-chunked')) {
        return { kind: 'aws-chunked', signedTrailer: false };
      }
      throw new AppError(
        'InvalidArgument',
        `x-amz-content-sha256 must be a SHA-256 hex digest or a payload mode, not "${hash}".`,
      );
  }
}

async function verifySigV4Header(ctx: AuthInput): Promise<Caller> {
  const { deps, target, request } = ctx;
  let auth: ReturnType<typeof parseSigV4Authorization>;
  try {
    auth = parseSigV4Authorization(header(ctx, 'authorization') ?? '');
  } catch (err) {
    if (err instanceof SigV4ParseError) {
      throw new AppError(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed: ${err.message}`,
      );
    }
    throw err;
  }
  const amzDateText = header(ctx, 'x-amz-date');
  const when =
    amzDateText !== undefined ? parseAmzDate(amzDateText)?.getTime() : parseHttpDate(header(ctx, 'date'));
  if (when === undefined) {
    throw new AppError('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header.');
  }
  if (Math.abs(deps.clock.now() - when) > deps.config.clockSkewSeconds * 1000) {
    throw new AppError(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }
  const amzDate =
    amzDateText ??
    new Date(when)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  if (auth.date !== amzDate.slice(0, 8)) {
    throw new AppError(
      'AuthorizationHeaderMalformed',
      'The credential scope date does not match the request date.',
    );
  }
  if (!auth.signedHeaders.includes('host')) {
    throw new AppError('AuthorizationHeaderMalformed', 'The host header must be signed.');
  }
  const key = await deps.credentials.resolve(auth.accessKeyId, header(ctx, 'x-amz-security-token'));
  const headers = sigV4Headers(request.raw.rawHeaders);
  let payloadHash = header(ctx, 'x-amz-content-sha256');
  if (payloadHash === undefined) {
    const length = header(ctx, 'content-length');
    const hasBody =
      header(ctx, 'transfer-encoding') !== undefined || (length !== undefined && length !== '0');
    if (hasBody)
      throw new AppError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256.');
    payloadHash = EMPTY_SHA256;
  }
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const kSigning = signingKey(key.secret, auth.date, auth.region, auth.service);
  const canonical = canonicalRequest({
    method: request.method,
    rawPath: target.rawPath,
    query: target.query,
    headers,
    signedHeaders: auth.signedHeaders,
    payloadHash,
  });
  const expected = sigV4Signature(kSigning, stringToSign(amzDate, scope, canonical));
  if (!timingSafeEqualHex(expected, auth.signature)) {
    throw new AppError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  deps.credentials.checkNotExpired(key);
  const payload = payloadModeFor(payloadHash, ctx, {
    signingKey: kSigning,
    amzDate,
    scope,
    seedSignature: auth.signature,
  });
  return { key, dialect: 's3', payload };
}

async function verifySigV4Query(ctx: AuthInput): Promise<Caller> {
  const { deps, target, request } = ctx;
  let auth: NonNullable<ReturnType<typeof parseSigV4Query>>;
  try {
    const parsed = parseSigV4Query(target.query);
    if (!parsed) throw new SigV4ParseError('X-Amz-Algorithm is missing');
    auth = parsed;
  } catch (err) {
    if (err instanceof SigV4ParseError) {
      throw new AppError(
        'AuthorizationQueryParametersError',
        `The presigned URL is malformed: ${err.message}`,
      );
    }
    throw err;
  }
  if (auth.expiresSeconds < 1 || auth.expiresSeconds > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw new AppError(
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be between 1 and 604800 seconds.',
    );
  }
  const signedAt = parseAmzDate(auth.amzDate)?.getTime();
  if (signedAt === undefined)
    throw new AppError('AuthorizationQueryParametersError', 'X-Amz-Date is not a valid date.');
  const now = deps.clock.now();
  if (now > signedAt + auth.expiresSeconds * 1000) throw requestExpired();
  if (signedAt - now > deps.config.clockSkewSeconds * 1000) {
    throw new AppError('RequestTimeTooSkewed', 'The presigned URL is not valid yet.');
  }
  const key = await deps.credentials.resolve(auth.accessKeyId, auth.securityToken);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const kSigning = signingKey(key.secret, auth.date, auth.region, auth.service);
  const payloadHash = auth.contentSha256 ?? 'UNSIGNED-PAYLOAD';
  const canonical = canonicalRequest({
    method: request.method,
    rawPath: target.rawPath,
    query: target.query.filter(([k]) => k !== 'X-Amz-Signature'),
    headers: sigV4Headers(request.raw.rawHeaders),
    signedHeaders: auth.signedHeaders,
    payloadHash,
  });
  const expected = sigV4Signature(kSigning, stringToSign(auth.amzDate, scope, canonical));
  if (!timingSafeEqualHex(expected, auth.signature)) {
    throw new AppError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  deps.credentials.checkNotExpired(key);
  return {
    key,
    dialect: 's3',
    payload: payloadModeFor(payloadHash, ctx, {
      signingKey: kSigning,
      amzDate: auth.amzDate,
      scope,
      seedSignature: auth.signature,
    }),
  };
}

/** Authenticates a request by whichever scheme it uses; anonymous requests get key null. */
export async function authenticate(ctx: AuthInput): Promise<Caller> {
  const authorization = header(ctx, 'authorization');
  if (authorization !== undefined && authorization.trim() !== '') {
    const value = authorization.trim();
    if (value.startsWith('AWS4-HMAC-SHA256')) return verifySigV4Header(ctx);
    if (value.includes('q-sign-algorithm=')) return verifyCos(ctx, true);
    if (/^AWS\s/.test(value)) {
      throw new AppError(
        'InvalidRequest',
        'AWS Signature Version 2 is not supported; sign requests with SigV4.',
      );
    }
    throw new AppError('InvalidArgument', 'The Authorization header uses an unsupported scheme.');
  }
  if (ctx.target.query.some(([k]) => k === 'X-Amz-Algorithm')) return verifySigV4Query(ctx);
  if (ctx.target.query.some(([k]) => k === 'q-sign-algorithm')) return verifyCos(ctx, false);
  const dialect = hasVendorHeaders(ctx, 'x-amz-') && !hasVendorHeaders(ctx, 'x-cos-') ? 's3' : 'cos';
  refuseAnonymousOverrides(ctx.target, dialect);
  return { key: null, dialect, payload: { kind: 'plain' } };
}

/** Anonymous access (spec cos-api §5.9): public-read allows reads, public-read-write also writes. */
export function allowsAnonymous(acl: BucketAcl, method: string): boolean {
  if (acl === 'public-read-write') return true;
  return acl === 'public-read' && (method === 'GET' || method === 'HEAD');
}
