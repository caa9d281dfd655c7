// The keys of a library's bucket that hold its SMH files (`<libraryId>/<random>`): SMH keeps metadata
// about them (tasks, parts, sizes), so the object API reaches them only with the credentials SMH
// issued for them, never with the library's own key pair or anonymously (ADR 0001 §17).
import { AppError } from '../errors.ts';
import type { CredentialScope } from './model.ts';

export const smhKeyPrefix = (libraryId: string): string => `${libraryId}/`;

export const isSmhKey = (libraryId: string, key: string): boolean => key.startsWith(smhKeyPrefix(libraryId));

/** Whether a caller with `scope` (null: the library's key pair or anonymous) may touch `key`. */
export function mayReachKey(libraryId: string, key: string, scope: CredentialScope | null): boolean {
  if (!isSmhKey(libraryId, key)) return true;
  // Only a credential confined to this very key (an upload grant) or to the SMH keys (the key that
  // signs download URLs, which never leaves the server) was issued by SMH for them.
  return (
    scope !== null && (scope.key === key || (scope.prefix !== undefined && key.startsWith(scope.prefix)))
  );
}

export function smhKeyDenied(libraryId: string): AppError {
  return new AppError(
    'AccessDenied',
    `Access Denied: keys under ${smhKeyPrefix(libraryId)} hold this library's SMH files; use the SMH API for them.`,
  );
}
