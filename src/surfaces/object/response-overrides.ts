// GET's response-* parameters (spec cos-api §2.2): each replaces a header of the stored object. They
// let whoever writes the URL choose how a browser treats the bytes (text/html served inline), so they
// are honoured only when the request's signature covers them.
import { AppError } from '../../core/errors.ts';
import type { Dialect } from '../../core/objects/limits.ts';
import type { ObjectTarget } from './target.ts';

/** Query parameter → the response header it overrides. */
export const RESPONSE_OVERRIDES: readonly (readonly [string, string])[] = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

const NAMES = new Set(RESPONSE_OVERRIDES.map(([param]) => param));

const overrideIn = (target: ObjectTarget): string | undefined =>
  target.query.find(([param]) => NAMES.has(param))?.[0];

/** A COS-signed request: every response-* parameter must be in q-url-param-list (`signed`). */
export function refuseUnsignedOverrides(target: ObjectTarget, signed: (param: string) => boolean): void {
  const param = target.query.find(([name]) => NAMES.has(name) && !signed(name))?.[0];
  if (param === undefined) return;
  throw new AppError(
    'AccessDenied',
    `${param} is not covered by the signature; list it in q-url-param-list or leave it out.`,
  );
}

/** Anonymous requests override nothing: S3 answers 400 InvalidRequest, COS 403 AccessDenied. */
export function refuseAnonymousOverrides(target: ObjectTarget, dialect: Dialect): void {
  const param = overrideIn(target);
  if (param === undefined) return;
  throw new AppError(
    dialect === 's3' ? 'InvalidRequest' : 'AccessDenied',
    `${param} cannot be used by an anonymous request; sign the request.`,
  );
}
