// Files (spec smh §2.3.9–§2.3.16): info with a download URL, download (a redirect, or an HLS playlist
// answered itself), HEAD, delete, copy, rename/move, and the path of an inode.
import { Type } from '@sinclair/typebox';
import { smhOperation } from '../operation.ts';
import { Bool01, Flag, intIn, noEffect, offOnly, oneOf, PathText, splitPath, strategy } from '../params.ts';
import { infoView, smhHeaders } from '../views.ts';
import { servePlaylist } from './playlist.ts';
import { FILE } from './upload-tasks.ts';

const STRATEGY = Type.Optional(strategy(['ask', 'rename', 'overwrite']));
const NO_CONTENT_CAS = Type.Optional(offOnly('content tags are not implemented'));

/** What info and download share (spec smh §2.3.9, §2.3.10). */
const READ_QUERY = {
  content_disposition: Type.Optional(oneOf(['inline', 'attachment'], 'inline or attachment')),
  /** Seconds the signed URL is valid. */
  period: Type.Optional(intIn(60, 7200)),
  purpose: Type.Optional(oneOf(['download', 'preview'], 'download or preview')),
  with_short_link: Type.Optional(offOnly('short links are not implemented')),
  with_favorite_status: Type.Optional(offOnly('favorites are not implemented')),
  with_content_cas: NO_CONTENT_CAS,
  internal_domain: Type.Optional(noEffect('there is one storage domain (ADR 0002 §26)')),
};

export const copyFile = smhOperation({
  name: 'CopyFile',
  method: 'PUT',
  path: FILE,
  bodyField: 'copyFrom',
  query: { conflict_resolution_strategy: STRATEGY, with_content_cas: NO_CONTENT_CAS },
  body: { copyFrom: PathText },
  async handle({ deps, access, params, query, body }) {
    const strategy = query.conflict_resolution_strategy ?? 'rename';
    const from = splitPath(body.copyFrom);
    const { path } = await deps.namespace.copyFile(access, params.space, from, params.path, strategy);
    return { path };
  },
});

export const moveFile = smhOperation({
  name: 'MoveFile',
  method: 'PUT',
  path: FILE,
  bodyField: 'from',
  query: { conflict_resolution_strategy: STRATEGY, with_content_cas: NO_CONTENT_CAS },
  body: { from: PathText },
  summary: 'rename or move',
  async handle({ deps, access, params, query, body }) {
    const strategy = query.conflict_resolution_strategy ?? 'rename';
    const from = splitPath(body.from);
    return { path: await deps.namespace.move(access, params.space, from, params.path, strategy) };
  },
});

export const getFileInfo = smhOperation({
  name: 'GetFileInfo',
  method: 'GET',
  path: FILE,
  flag: 'info',
  query: {
    info: Flag,
    ...READ_QUERY,
    pre_check: Type.Optional(Bool01),
    preview: Type.Optional(offOnly('online preview links are not implemented')),
    with_inode: Type.Optional(Bool01),
  },
  summary: 'with a `cosUrl` valid for `period` seconds',
  async handle({ deps, access, params, query }) {
    const { inode } = await deps.namespace.stat(access, params.space, params.path, 'file');
    const file = inode!;
    const cosUrl = query.pre_check
      ? undefined
      : await deps.namespace.downloadUrl(access, file, {
          expiresInSeconds: query.period ?? 7200,
          disposition: query.content_disposition ?? 'inline',
        });
    return infoView(file, params.path, {
      withInode: query.with_inode ?? false,
      ...(cosUrl ? { cosUrl } : {}),
    });
  },
});

export const downloadFile = smhOperation({
  name: 'DownloadFile',
  method: 'GET',
  path: FILE,
  query: READ_QUERY,
  summary:
    "302 to a signed URL; an HLS playlist is answered 200 with its relative URIs carrying the caller's `access_token` (ADR 0003 §16)",
  async handle({ deps, access, params, query, reply }) {
    const { inode } = await deps.namespace.stat(access, params.space, params.path, 'file');
    const file = inode!;
    const disposition = query.content_disposition ?? 'inline';
    if (await servePlaylist({ deps, access, file, disposition, token: query.access_token, reply }))
      return reply;
    const url = await deps.namespace.downloadUrl(access, file, {
      expiresInSeconds: query.period ?? 7200,
      disposition,
    });
    reply.headers(smhHeaders(file)).header('location', url).code(302).send();
    return reply;
  },
});

export const headFile = smhOperation({
  name: 'HeadFile',
  method: 'HEAD',
  path: FILE,
  async handle({ deps, access, params, reply }) {
    const { inode } = await deps.namespace.stat(access, params.space, params.path, 'file');
    reply.headers(smhHeaders(inode!)).code(200).send();
  },
});

export const deleteFile = smhOperation({
  name: 'DeleteFile',
  method: 'DELETE',
  path: FILE,
  query: { permanent: Type.Optional(noEffect('there is no recycle bin; deletes are permanent')) },
  async handle({ deps, access, params, reply }) {
    await deps.namespace.deleteEntry(access, params.space, params.path, 'file');
    reply.code(204).send();
  },
});

export const getInodePath = smhOperation({
  name: 'GetInodePath',
  method: 'GET',
  path: 'inode/{lib}/{space}/{inode}',
  async handle({ deps, access, params }) {
    const { inode, path } = await deps.namespace.byInode(access, params.space, params.inode);
    return {
      path,
      name: inode.name,
      type: inode.type,
      creationTime: new Date(inode.createdAt).toISOString(),
      modificationTime: new Date(inode.modifiedAt).toISOString(),
      ...(inode.type === 'file'
        ? { contentType: inode.contentType, size: String(inode.size), crc64: inode.crc64 ?? '' }
        : {}),
    };
  },
});
