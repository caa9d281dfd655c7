// HLS playlists served through the API (ADR 0003 §16): a stored playlist names its segments (and
// variant playlists, keys, init sections) by URIs relative to itself. Served from the download URL,
// they resolve to the download URLs of its siblings, but those need the caller's credentials: each
// relative URI gets them appended. Absolute URIs, and relative ones with a query or fragment of their
// own, are left as they are.

/** Media types of HLS playlists (RFC 8216 §4 and the older names players still send). */
const PLAYLIST_TYPES = new Set([
  'application/vnd.apple.mpegurl',
  'application/x-mpegurl',
  'audio/mpegurl',
  'audio/x-mpegurl',
]);

export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/** Playlists larger than this are served as stored (a day of 4 s segments is well under 1 MiB). */
export const MAX_PLAYLIST_BYTES = 4 * 1024 * 1024;

export function isHlsPlaylist(file: { name: string; contentType: string | null }): boolean {
  const type = (file.contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return PLAYLIST_TYPES.has(type) || /\.m3u8$/i.test(file.name);
}

/** A URI reference the download URL's directory resolves to a sibling file: no scheme, host or root. */
function isPlainRelative(uri: string): boolean {
  return uri !== '' && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) && !/^[/?#]/.test(uri) && !/[?#]/.test(uri);
}

/**
 * The playlist with `query` (already encoded, without `?`) appended to every plain relative URI: the
 * URI lines and the URI="…" attributes of tags (EXT-X-KEY, EXT-X-MAP, EXT-X-MEDIA, …).
 */
export function withQueryOnRelativeUris(playlist: string, query: string): string {
  const add = (uri: string): string => (isPlainRelative(uri) ? `${uri}?${query}` : uri);
  return playlist
    .split('\n')
    .map((line) => {
      const cr = line.endsWith('\r') ? '\r' : '';
      const text = cr ? line.slice(0, -1) : line;
      const trimmed = text.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return `${add(trimmed)}${cr}`;
      if (!trimmed.startsWith('#EXT')) return line;
      return `${text.replace(/\bURI="([^"]*)"/g, (_, uri: string) => `URI="${add(uri)}"`)}${cr}`;
    })
    .join('\n');
}
