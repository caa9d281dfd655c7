// Downloads of HLS playlists (ADR 0003 §16): instead of the redirect to the stored bytes, whose
// relative segment URIs would resolve against the signed object URL and fail, the download URL
// answers the playlist itself, each relative URI carrying the caller's access_token. Segments then
// resolve to their own download URLs beside the playlist, checked and redirected one by one.
import type { FastifyReply } from 'fastify';
import {
  isHlsPlaylist,
  MAX_PLAYLIST_BYTES,
  PLAYLIST_CONTENT_TYPE,
  withQueryOnRelativeUris,
} from '../../../core/media/hls-playlist.ts';
import type { InodeRecord } from '../../../core/namespace/model.ts';
import type { AccessContext } from '../../../core/tokens/access.ts';
import type { SmhDeps } from '../context.ts';
import { smhHeaders } from '../views.ts';

/**
 * Answers the download of `file` with its rewritten playlist; false (the caller redirects as for any
 * file) when it is no playlist, too large, or the caller did not authenticate with an access_token.
 */
export async function servePlaylist(input: {
  deps: SmhDeps;
  access: AccessContext;
  file: InodeRecord;
  disposition: 'inline' | 'attachment';
  /** The caller's access_token. */
  token: string | undefined;
  reply: FastifyReply;
}): Promise<boolean> {
  const { deps, access, file, disposition, token, reply } = input;
  if (!token || !isHlsPlaylist(file)) return false;
  const bytes = await deps.namespace.smallContent(access, file, MAX_PLAYLIST_BYTES);
  if (!bytes) return false;
  const body = withQueryOnRelativeUris(bytes.toString('utf8'), `access_token=${encodeURIComponent(token)}`);
  reply
    .headers(smhHeaders(file))
    .header('content-type', PLAYLIST_CONTENT_TYPE)
    // It holds the caller's token: no shared cache may keep it.
    .header('cache-control', 'private, no-store')
    .header('content-disposition', `${disposition}; filename*=UTF-8''${encodeURIComponent(file.name)}`)
    .code(200)
    .send(body);
  return true;
}
