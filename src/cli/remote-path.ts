// Remote paths as the file commands take them: SMH paths from the root of the library (or space),
// names joined by `/`, the leading `/` optional; a trailing `/` marks a directory (`/photos/2026/`).
import { usageError } from './cli-error.ts';

export interface RemotePath {
  segments: string[];
  /** Written with a trailing `/`, or the root. */
  isDirectory: boolean;
}

export function parseRemotePath(text: string): RemotePath {
  if (text.trim() === '') throw usageError('a remote path must not be empty; the root is /');
  // Repeated slashes collapse as in any file path.
  const segments = text.split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (s === '.' || s === '..')
      throw usageError(`remote path ${text}: "${s}" is not a name; remote paths start at the root`);
  }
  return { segments, isDirectory: segments.length === 0 || text.endsWith('/') };
}

export function showPath(segments: readonly string[], isDirectory = false): string {
  if (segments.length === 0) return '/';
  return `/${segments.join('/')}${isDirectory ? '/' : ''}`;
}

/** Each name percent-encoded, joined by `/` (spec smh §1.4). */
export function encodePath(segments: readonly string[]): string {
  return segments.map(encodeURIComponent).join('/');
}
