// PostObject: browser form upload authorised by a signed policy (spec cos-api §2.5), in the COS form
// (q-sign-algorithm/q-ak/q-key-time/q-signature over the SHA-1 of the policy JSON) or the S3 form
// (X-Amz-* over the base64 policy text). Fields come first; the `file` part is streamed, never buffered.
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { AppError } from '../../../core/errors.ts';
import type { BucketName } from '../../../core/ids.ts';
import type { AccessKeyRecord } from '../../../core/objects/model.ts';
import { cosPolicySignature, parseKeyTime, timingSafeEqualHex } from '../../../lib/cos-signature.ts';
import { parseAmzDate, signingKey } from '../../../lib/sigv4.ts';
import { authorizeCaller } from '../authorize.ts';
import { bodySource } from '../body.ts';
import { type ObjectContext, sendEmpty, sendXml } from '../context.ts';
import { headersFromFields } from '../object-headers.ts';
import { renderXml } from '../xml.ts';

const FIELD_LIMIT = 64 * 1024;
const FILENAME_PLACEHOLDER = '$' + '{filename}';

interface FormFile {
  stream: Readable;
  filename: string;
}

/** Reads the form up to the `file` part; fields after it are ignored (§2.5). */
function readForm(ctx: ObjectContext, fields: Map<string, string>): Promise<FormFile> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: ctx.request.headers,
        limits: {
          fields: 200,
          fieldSize: FIELD_LIMIT,
          files: 1,
          parts: 300,
          fileSize: ctx.deps.config.maxPutSize + 1,
        },
      });
    } catch (err) {
      reject(
        new AppError(
          'MalformedPOSTRequest',
          `The body of your POST request is not well-formed multipart/form-data: ${(err as Error).message}`,
        ),
      );
      return;
    }
    let seen = false;
    bb.on('field', (name, value, info) => {
      if (seen) return;
      if (info.valueTruncated) {
        reject(new AppError('MalformedPOSTRequest', `The form field ${name} is too long.`));
        return;
      }
      fields.set(name.toLowerCase(), value);
    });
    bb.on('file', (name, stream, info) => {
      if (seen || name.toLowerCase() !== 'file') {
        stream.resume();
        return;
      }
      seen = true;
      // A body that stalls after the answer went out (a refused policy) fails this stream with no
      // reader left; whoever still reads it gets the error through its own listener.
      stream.on('error', () => {});
      resolve({ stream, filename: info.filename ?? '' });
    });
    bb.on('error', (err) => {
      reject(
        new AppError(
          'MalformedPOSTRequest',
          `The body of your POST request is not well-formed multipart/form-data: ${(err as Error).message}`,
        ),
      );
    });
    bb.on('close', () => {
      if (!seen) reject(new AppError('MalformedPOSTRequest', 'The POST request has no `file` field.'));
    });
    const source = Readable.from(bodySource(ctx), { objectMode: false });
    // pipe() does not pass a source's error on: a stalled body must fail the form and its file.
    source.on('error', (err) => {
      reject(err);
      bb.destroy(err);
    });
    source.pipe(bb);
  });
}

type Condition =
  | { kind: 'eq' | 'starts-with'; field: string; value: string }
  | { kind: 'range'; min: number; max: number };

interface Policy {
  expiration: number;
  conditions: Condition[];
}

function parsePolicy(base64: string): { policy: Policy; bytes: Buffer } {
  const invalid = (why: string): AppError => new AppError('InvalidPolicyDocument', `Invalid Policy: ${why}`);
  const bytes = Buffer.from(base64, 'base64');
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('the policy is not base64-encoded JSON.');
  }
  if (typeof doc !== 'object' || doc === null) throw invalid('the policy must be a JSON object.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  const expires = typeof expiration === 'string' ? Date.parse(expiration) : Number.NaN;
  if (Number.isNaN(expires)) throw invalid('expiration must be an ISO 8601 date.');
  if (!Array.isArray(conditions)) throw invalid('conditions must be an array.');
  const out: Condition[] = [];
  for (const c of conditions) {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      const opName = String(op).toLowerCase();
      if (opName === 'content-length-range' && Number.isFinite(Number(a)) && Number.isFinite(Number(b))) {
        out.push({ kind: 'range', min: Number(a), max: Number(b) });
      } else if (
        (opName === 'eq' || opName === 'starts-with') &&
        typeof a === 'string' &&
        typeof b === 'string'
      ) {
        out.push({ kind: opName, field: a.replace(/^\$/, '').toLowerCase(), value: b });
      } else {
        throw invalid(`condition ${JSON.stringify(c)} is not understood.`);
      }
    } else if (typeof c === 'object' && c !== null) {
      for (const [field, value] of Object.entries(c))
        out.push({ kind: 'eq', field: field.toLowerCase(), value: String(value) });
    } else {
      throw invalid(`condition ${JSON.stringify(c)} is not understood.`);
    }
  }
  return { policy: { expiration: expires, conditions: out }, bytes };
}

function conditionValue(policy: Policy, field: string): string | undefined {
  const c = policy.conditions.find((x) => x.kind === 'eq' && x.field === field);
  return c && c.kind === 'eq' ? c.value : undefined;
}

async function verifyCosForm(
  ctx: ObjectContext,
  fields: Map<string, string>,
  policy: Policy,
  bytes: Buffer,
): Promise<AccessKeyRecord> {
  const ak = fields.get('q-ak') ?? '';
  const keyTime = fields.get('q-key-time') ?? '';
  // COS §2.5 step 4: the policy itself must pin the algorithm, the key and the key time.
  if (
    (fields.get('q-sign-algorithm') ?? '').toLowerCase() !== 'sha1' ||
    conditionValue(policy, 'q-sign-algorithm')?.toLowerCase() !== 'sha1' ||
    conditionValue(policy, 'q-ak') !== ak ||
    conditionValue(policy, 'q-sign-time') !== keyTime
  ) {
    throw new AppError(
      'AccessDenied',
      'The policy must contain q-sign-algorithm, q-ak and q-sign-time matching the form.',
    );
  }
  let window: { start: number; end: number };
  try {
    window = parseKeyTime(keyTime);
  } catch {
    throw new AppError('AccessDenied', 'q-key-time must be "start;end" in Unix seconds.');
  }
  const now = Math.floor(ctx.deps.clock.now() / 1000);
  if (now > window.end || now < window.start - ctx.deps.config.clockSkewSeconds) {
    throw new AppError('RequestExpired', 'Request has expired');
  }
  const key = await ctx.deps.credentials.resolve(ak, fields.get('x-cos-security-token'));
  if (!timingSafeEqualHex(cosPolicySignature(key.secret, keyTime, bytes), fields.get('q-signature') ?? '')) {
    throw new AppError('SignatureDoesNotMatch', 'The form signature does not match the policy.');
  }
  ctx.deps.credentials.checkNotExpired(key);
  return key;
}

async function verifyS3Form(
  ctx: ObjectContext,
  fields: Map<string, string>,
  policyBase64: string,
): Promise<AccessKeyRecord> {
  if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
    throw new AppError('InvalidArgument', 'x-amz-algorithm must be AWS4-HMAC-SHA256.');
  }
  const credential = (fields.get('x-amz-credential') ?? '').split('/');
  if (credential.length !== 5 || credential[4] !== 'aws4_request') {
    throw new AppError('InvalidArgument', 'x-amz-credential must be AKID/date/region/service/aws4_request.');
  }
  const [accessKeyId, date, region, service] = credential as [string, string, string, string];
  const signedAt = parseAmzDate(fields.get('x-amz-date') ?? '');
  if (!signedAt || !(fields.get('x-amz-date') ?? '').startsWith(date)) {
    throw new AppError('InvalidArgument', 'x-amz-date must be a date matching the credential scope.');
  }
  const key = await ctx.deps.credentials.resolve(accessKeyId, fields.get('x-amz-security-token'));
  const expected = createHmac('sha256', signingKey(key.secret, date, region, service))
    .update(policyBase64)
    .digest('hex');
  if (!timingSafeEqualHex(expected, fields.get('x-amz-signature') ?? '')) {
    throw new AppError('SignatureDoesNotMatch', 'The form signature does not match the policy.');
  }
  ctx.deps.credentials.checkNotExpired(key);
  return key;
}

/** The form value a policy condition constrains; bucket and key are the resolved target. */
function conditionSubject(
  field: string,
  fields: Map<string, string>,
  bucket: string,
  key: string,
): string | undefined {
  if (field === 'bucket') return bucket;
  if (field === 'key') return key;
  // COS §2.5: the policy names the key time `q-sign-time`; the form sends it as `q-key-time`.
  if (field === 'q-sign-time') return fields.get('q-key-time');
  return fields.get(field);
}

/** Every policy condition must hold (§2.5 step 8); returns the content-length-range, if any. */
function checkConditions(
  policy: Policy,
  fields: Map<string, string>,
  bucket: string,
  key: string,
): { min: number; max: number } | undefined {
  let range: { min: number; max: number } | undefined;
  for (const c of policy.conditions) {
    if (c.kind === 'range') {
      range = { min: c.min, max: c.max };
      continue;
    }
    const actual = conditionSubject(c.field, fields, bucket, key);
    const ok = actual !== undefined && (c.kind === 'eq' ? actual === c.value : actual.startsWith(c.value));
    if (!ok)
      throw new AppError(
        'AccessDenied',
        `Invalid according to Policy: Policy Condition failed: ["${c.kind}", "$${c.field}", "${c.value}"]`,
      );
  }
  return range;
}

export async function postObject(ctx: ObjectContext): Promise<void> {
  // A form posted to "/" (the SMH form-upload shape) names no bucket: the signing key's bucket is meant.
  let bucket = ctx.target.bucket;
  const fields = new Map<string, string>();
  const file = await readForm(ctx, fields);
  try {
    const rawKey = fields.get('key');
    if (rawKey === undefined || rawKey === '')
      throw new AppError('InvalidArgument', 'The form field `key` is required.');
    // COS/S3: ${filename} in the key field stands for the uploaded file's name.
    const key = rawKey.replaceAll(FILENAME_PLACEHOLDER, file.filename);
    const policyBase64 = fields.get('policy');
    let sizeRange: { min: number; max: number } | undefined;
    if (policyBase64 !== undefined) {
      const { policy, bytes } = parsePolicy(policyBase64);
      if (policy.expiration < ctx.deps.clock.now())
        throw new AppError('AccessDenied', 'Invalid according to Policy: Policy expired.');
      const signer = fields.has('q-signature')
        ? await verifyCosForm(ctx, fields, policy, bytes)
        : await verifyS3Form(ctx, fields, policyBase64);
      ctx.caller = { ...ctx.caller, key: signer, dialect: fields.has('q-signature') ? 'cos' : 's3' };
      bucket ??= signer.bucket;
      sizeRange = checkConditions(policy, fields, bucket, key);
    }
    if (bucket === undefined) {
      throw new AppError(
        'InvalidRequest',
        'A form posted to / must be signed: the signing key names the bucket.',
      );
    }
    await authorizeCaller(ctx, 'PostObject', { bucket, key });
    const headers = headersFromFields((name) => fields.get(name));
    for (const [name, value] of fields) {
      const m = /^x-(?:cos|amz)-meta-(.+)$/.exec(name);
      if (m) headers.meta[m[1]!] = value;
    }
    const contentMd5 = fields.get('content-md5');
    const { object } = await ctx.deps.objects.putObject({
      bucket: bucket as BucketName,
      key,
      dialect: ctx.caller.dialect,
      body: file.stream,
      headers,
      expect: contentMd5 ? { contentMd5 } : {},
      signal: ctx.signal,
      ...(sizeRange ? { sizeRange } : {}),
    });
    if ((file.stream as Readable & { truncated?: boolean }).truncated) {
      throw new AppError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.');
    }
    const encodedKey = encodeURIComponent(key).replace(/%2F/g, '/');
    const base = `${ctx.request.protocol}://${ctx.target.host}/${ctx.target.style === 'path' ? `${bucket}/` : ''}`;
    const etag = `"${object.etag}"`;
    ctx.reply
      .header('etag', etag)
      .header('x-cos-hash-crc64ecma', object.crc64)
      .header('location', base + encodedKey);
    const redirect = fields.get('success_action_redirect');
    if (redirect) {
      const sep = redirect.includes('?') ? '&' : '?';
      const query = `bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}&etag=${encodeURIComponent(etag)}`;
      ctx.reply.header('location', `${redirect}${sep}${query}`);
      sendEmpty(ctx, 303);
      return;
    }
    const status = fields.get('success_action_status');
    if (status === '201') {
      sendXml(
        ctx,
        201,
        renderXml('PostResponse', { Location: base + encodedKey, Bucket: bucket, Key: key, ETag: etag }),
      );
    } else {
      sendEmpty(ctx, status === '200' ? 200 : 204);
    }
  } finally {
    file.stream.resume();
  }
}

export const policySha1 = (bytes: Buffer): string => createHash('sha1').update(bytes).digest('hex');
