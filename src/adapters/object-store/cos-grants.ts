// Upload grants signed the COS way (q-sign-algorithm=sha1), in the SMH begin/renew shapes: one set of
// headers for a simple PUT or for every part PUT of a multipart upload (the uploadId is signed, the
// partNumber is not), or the fields of a browser form POST with a policy. Used by the embedded store
// (temporary credentials of mediahost's own) and by the external store in `cos` grant mode (the
// store's key pair, whose secret never leaves the node: only signatures do).
import { cosPolicySignature, signCosRequest } from '../../lib/cos-signature.ts';
import type { GrantFlavour, UploadGrant } from '../../ports/object-store.ts';

export interface CosGrantInput {
  flavour: GrantFlavour;
  /** Scheme, host and port the client sends to (for a virtual-hosted bucket, the bucket's host). */
  origin: string;
  bucket: string;
  key: string;
  /** The object's path on that origin, encoded as sent: `/bucket/key` or `/key`. */
  objectPath: string;
  /** Where a form is posted on that origin. */
  formPath: string;
  secretId: string;
  secretKey: string;
  sessionToken?: string;
  uploadId?: string;
  contentType: string;
  /** Bytes per second. */
  trafficLimit?: number;
  maxSize?: number;
  now: number;
  expiresAt: number;
}

/** `encodeURIComponent` for each segment of a key, `/` kept: the path a client sends for it. */
export const encodeKeyPath = (key: string): string => encodeURIComponent(key).replace(/%2F/g, '/');

export function cosGrant(input: CosGrantInput): Omit<UploadGrant, 'credentialId'> {
  const domain = new URL(input.origin).host;
  // The signature window opens a minute early, for clients whose clocks run behind; a grant signed
  // again after it expired (a status of a lapsed task) keeps a well-formed, already closed window.
  const end = Math.floor(input.expiresAt / 1000);
  const start = Math.min(Math.floor(input.now / 1000) - 60, end);
  const token: Record<string, string> = input.sessionToken
    ? { 'x-cos-security-token': input.sessionToken }
    : {};
  // COS: x-cos-traffic-limit is bit/s.
  const limit: Record<string, string> = input.trafficLimit
    ? { 'x-cos-traffic-limit': String(input.trafficLimit * 8) }
    : {};

  if (input.flavour === 'form') {
    const keyTime = `${start};${end}`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(input.expiresAt).toISOString(),
        conditions: [
          { bucket: input.bucket },
          { key: input.key },
          { 'q-sign-algorithm': 'sha1' },
          { 'q-ak': input.secretId },
          { 'q-sign-time': keyTime },
          // The limit is a condition of the policy too, so the form cannot be posted without it.
          ...Object.entries(limit).map(([name, value]) => ({ [name]: value })),
          ...(input.maxSize !== undefined ? [['content-length-range', 0, input.maxSize]] : []),
        ],
      }),
    );
    return {
      domain,
      path: input.formPath,
      url: `${input.origin}${input.formPath}`,
      form: {
        key: input.key,
        'Content-Type': input.contentType,
        ...token,
        policy: policy.toString('base64'),
        'q-sign-algorithm': 'sha1',
        'q-ak': input.secretId,
        'q-key-time': keyTime,
        'q-signature': cosPolicySignature(input.secretKey, keyTime, policy),
        ...limit,
      },
      expiresAt: input.expiresAt,
    };
  }

  const authorization = signCosRequest({
    secretId: input.secretId,
    secretKey: input.secretKey,
    method: 'PUT',
    path: decodeURIComponent(input.objectPath),
    query: input.uploadId ? [['uploadId', input.uploadId]] : [],
    headers: { host: domain, ...limit },
    startSeconds: start,
    endSeconds: end,
  });
  return {
    domain,
    path: input.objectPath,
    url: `${input.origin}${input.objectPath}`,
    headers: { 'Content-Type': input.contentType, Authorization: authorization, ...token, ...limit },
    expiresAt: input.expiresAt,
  };
}
