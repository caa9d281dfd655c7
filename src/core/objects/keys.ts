// Object key and metadata rules (spec cos-api §4). Keys are opaque strings: `..`, `//`, spaces and any
// unicode are legal, and they never become file names.
import { AppError } from '../errors.ts';
import { type Dialect, MAX_KEY_BYTES, MAX_METADATA_BYTES } from './limits.ts';

// COS: keys must not contain the control characters 24..27; NUL cannot be stored by PostgreSQL.
const FORBIDDEN_CODES = new Set([0x00, 0x18, 0x19, 0x1a, 0x1b]);

function hasForbiddenCharacter(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (FORBIDDEN_CODES.has(key.charCodeAt(i))) return true;
  return false;
}

export function validateKey(key: string, dialect: Dialect): void {
  if (key.length === 0) throw new AppError('InvalidObjectName', 'The object key must not be empty.');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES[dialect]) {
    throw new AppError(
      'KeyTooLong',
      `Your key is too long: at most ${MAX_KEY_BYTES[dialect]} bytes are allowed.`,
    );
  }
  if (hasForbiddenCharacter(key)) {
    throw new AppError('InvalidObjectName', 'The object key contains a character that is not allowed.');
  }
  if (key.isWellFormed && !key.isWellFormed()) {
    throw new AppError('InvalidObjectName', 'The object key is not valid UTF-8.');
  }
}

export function validateMetadata(meta: Record<string, string>): void {
  let total = 0;
  for (const [name, value] of Object.entries(meta))
    total += Buffer.byteLength(name) + Buffer.byteLength(value);
  if (total > MAX_METADATA_BYTES) {
    throw new AppError(
      'MetadataTooLarge',
      `Your metadata headers exceed the maximum allowed metadata size (${MAX_METADATA_BYTES} bytes).`,
    );
  }
}
