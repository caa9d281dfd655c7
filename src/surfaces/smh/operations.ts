// Every operation of the SMH business API (spec smh §2): method, path below /api/v1, and the action flag
// or body field that picks it. The plugin resolves each request here before any route runs, so an
// operation we do not implement answers FunctionNotEnabled instead of falling into another handler.
// A new operation gets its row first; turning `implemented` on is the last step of implementing it.

export type SmhMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export const SMH_METHODS: readonly SmhMethod[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];

export interface SmhOperation {
  /** Unique name of the operation (OpenAPI operationId style). */
  readonly name: string;
  /** `ANY` only for families the spec lists by path alone (§2.12). */
  readonly method: SmhMethod | readonly SmhMethod[] | 'ANY';
  /**
   * Below /api/v1: literal segments, `{name}` for one segment, `{name:digits}` for one all-digit
   * segment, `{name*}` (last) for zero or more segments.
   */
  readonly path: string;
  /** An action flag (query key, any value) that must be present. */
  readonly flag?: string;
  /** A field the JSON body must have. */
  readonly bodyField?: string;
  readonly implemented: boolean;
  /** What mediahost does, for docs/api-coverage.md (implemented operations). */
  readonly summary?: string;
}

const FILE = 'file/{lib}/{space}/{path*}';
const DIR = 'directory/{lib}/{space}/{path*}';
const RECYCLED = 'recycled/{lib}/{space}';
const HISTORY = 'directory-history/{lib}';
const SEARCH = 'search/{lib}/{space}';

// The first matching row wins: rows with a flag or body field come before the plain row of their path.
export const SMH_OPERATIONS: readonly SmhOperation[] = [
  // §2.1 access tokens
  {
    name: 'CreateAccessToken',
    method: ['GET', 'POST'],
    path: 'token',
    implemented: true,
    summary:
      'with `library_id`, `library_secret`; `space_id`, `user_id`, `client_id`, `session_id`, `period`, `grant`',
  },
  { name: 'RenewAccessToken', method: 'POST', path: 'token/{lib}/{token}', implemented: true },
  { name: 'DeleteAccessToken', method: 'DELETE', path: 'token/{lib}/{token}', implemented: true },
  {
    name: 'DeleteUserAccessTokens',
    method: 'DELETE',
    path: 'token/{lib}',
    implemented: true,
    summary: "a user's tokens, optionally only some clients or sessions",
  },
  // §2.2 tenant spaces
  { name: 'CreateSpace', method: 'POST', path: 'space/{lib}', implemented: true },
  { name: 'ListSpaces', method: 'GET', path: 'space/{lib}/list', implemented: true },
  { name: 'CountSpaces', method: 'GET', path: 'space/{lib}/count', implemented: true },
  {
    name: 'DeleteSpace',
    method: 'DELETE',
    path: 'space/{lib}/{space}',
    implemented: true,
    summary: 'a non-empty space only with `force=1`',
  },
  { name: 'GetSpaceExtension', method: 'GET', path: 'space/{lib}/{space}/extension', implemented: true },
  { name: 'UpdateSpaceExtension', method: 'POST', path: 'space/{lib}/{space}/extension', implemented: true },
  { name: 'GetSpaceSize', method: 'GET', path: 'space/{lib}/{space}/size', implemented: true },
  {
    name: 'GetSpaceFileCount',
    method: 'GET',
    path: 'space/{lib}/{space}/file-count',
    implemented: true,
    summary: 'files and directories of the space (recycled and history counts are 0)',
  },
  {
    name: 'SetSpaceTrafficLimit',
    method: 'POST',
    path: 'space/{lib}/{space}/traffic-limit',
    implemented: false,
  },
  { name: 'ListSpaceContents', method: 'GET', path: 'space/{lib}/{space}/contents-view', implemented: false },
  { name: 'GetLibraryUsage', method: 'GET', path: 'usage/{lib}', implemented: true, summary: 'admin' },
  {
    name: 'GetSpacesUsage',
    method: 'GET',
    path: 'usage/{lib}/{spaceIds}',
    implemented: true,
    summary: 'per space, with its quota capacity and what is left',
  },
  // §2.3 files and upload tasks share one path; the last part is a confirm key for upload tasks
  { name: 'CreateVirtualFile', method: 'PUT', path: FILE, flag: 'virtual_file', implemented: false },
  { name: 'ConvertFile', method: 'PUT', path: FILE, flag: 'convert', implemented: false },
  { name: 'CopyFile', method: 'PUT', path: FILE, bodyField: 'copyFrom', implemented: true },
  {
    name: 'MoveFile',
    method: 'PUT',
    path: FILE,
    bodyField: 'from',
    implemented: true,
    summary: 'rename or move',
  },
  { name: 'CreateSymlink', method: 'PUT', path: FILE, bodyField: 'linkTo', implemented: false },
  {
    name: 'BeginSimpleUpload',
    method: 'PUT',
    path: FILE,
    implemented: true,
    summary: 'instant upload by `beginningHash`/`fullHash`',
  },
  {
    name: 'BeginMultipartUpload',
    method: 'POST',
    path: FILE,
    flag: 'multipart',
    implemented: true,
    summary: 'per-part variant with `partNumberRange` / `part_number_range`',
  },
  { name: 'ConfirmUpload', method: 'POST', path: FILE, flag: 'confirm', implemented: true },
  { name: 'RenewUpload', method: 'POST', path: FILE, flag: 'renew', implemented: true },
  { name: 'UncompressFile', method: 'POST', path: FILE, flag: 'uncompress', implemented: false },
  { name: 'BeginFormUpload', method: 'POST', path: FILE, implemented: true },
  { name: 'GetUploadStatus', method: 'GET', path: FILE, flag: 'upload', implemented: true },
  // History versions are not kept, so a request for one must not get the current content.
  { name: 'GetFileVersion', method: 'GET', path: FILE, flag: 'history_id', implemented: false },
  {
    name: 'GetFileInfo',
    method: 'GET',
    path: FILE,
    flag: 'info',
    implemented: true,
    summary: 'with a `cosUrl` valid for `period` seconds',
  },
  { name: 'PreviewFile', method: 'GET', path: FILE, flag: 'preview', implemented: false },
  { name: 'PreviewArchive', method: 'GET', path: FILE, flag: 'zip-preview', implemented: false },
  {
    name: 'DownloadTranscodedFile',
    method: 'GET',
    path: FILE,
    flag: 'transcoding_template_id',
    implemented: false,
  },
  {
    name: 'DownloadFile',
    method: 'GET',
    path: FILE,
    implemented: true,
    summary:
      "302 to a signed URL; an HLS playlist is answered 200 with its relative URIs carrying the caller's `access_token` (ADR 0003 §16)",
  },
  { name: 'CancelUpload', method: 'DELETE', path: FILE, flag: 'upload', implemented: true },
  { name: 'DeleteFile', method: 'DELETE', path: FILE, implemented: true },
  { name: 'HeadFileVersion', method: 'HEAD', path: FILE, flag: 'history_id', implemented: false },
  { name: 'HeadFile', method: 'HEAD', path: FILE, implemented: true },
  { name: 'GetInodePath', method: 'GET', path: 'inode/{lib}/{space}/{inode}', implemented: true },
  {
    name: 'CheckFileDeletion',
    method: 'GET',
    path: 'file-deletion-check/{lib}/{space}/{inode}',
    implemented: false,
  },
  { name: 'GetDeltaCursor', method: 'GET', path: 'fs-delta/{lib}/{space}/cursor', implemented: false },
  { name: 'ListDelta', method: 'GET', path: 'fs-delta/{lib}/{space}/delta', implemented: false },
  {
    name: 'ListRecentlyUsedFiles',
    method: 'POST',
    path: 'recent/{lib}/{space}/recently-used-file',
    implemented: false,
  },
  // §2.4 directories
  { name: 'CopyDirectory', method: 'PUT', path: DIR, bodyField: 'copyFrom', implemented: false },
  {
    name: 'MoveDirectory',
    method: 'PUT',
    path: DIR,
    bodyField: 'from',
    implemented: true,
    summary: 'rename or move; missing target parents are created',
  },
  { name: 'CalibrateDirectoryStats', method: 'PUT', path: DIR, flag: 'calibrate', implemented: false },
  {
    name: 'CreateDirectory',
    method: 'PUT',
    path: DIR,
    implemented: true,
    summary: 'with missing parents; `metaData`, `labels`',
  },
  {
    name: 'GetEntryInfo',
    method: 'GET',
    path: DIR,
    flag: 'info',
    implemented: true,
    summary: 'a directory or a file',
  },
  { name: 'GetDirectoryStats', method: 'GET', path: DIR, flag: 'stats', implemented: false },
  {
    name: 'ListDirectory',
    method: 'GET',
    path: DIR,
    implemented: true,
    summary: 'marker or page mode; `order_by`, `order_by_type`, `filter`, `sort_type`',
  },
  { name: 'UpdateEntryAttributes', method: 'POST', path: DIR, flag: 'update', implemented: false },
  {
    name: 'DeleteDirectory',
    method: 'DELETE',
    path: DIR,
    implemented: true,
    summary: 'with its contents; with `directory_only=1` only when empty (else `409 DirectoryNotEmpty`)',
  },
  { name: 'HeadDirectory', method: 'HEAD', path: DIR, implemented: true },
  {
    name: 'CopyDirectoryAcrossSpaces',
    method: 'PUT',
    path: 'cross-space/directory/{lib}/{space}/copy/{path*}',
    implemented: false,
  },
  { name: 'GetAlbumCover', method: 'GET', path: 'album/{lib}/{space}/cover', implemented: false },
  {
    name: 'GetNamedAlbumCover',
    method: 'GET',
    path: 'album/{lib}/{space}/cover/{album}',
    implemented: false,
  },
  // §2.5 recycle bin (deletes are permanent)
  { name: 'ListRecycled', method: 'GET', path: RECYCLED, implemented: false },
  { name: 'RestoreRecycledItems', method: 'POST', path: RECYCLED, flag: 'restore', implemented: false },
  // The Flutter SDK sends the batch delete as DELETE (spec smh §2.5).
  {
    name: 'DeleteRecycledItems',
    method: ['POST', 'DELETE'],
    path: RECYCLED,
    flag: 'delete',
    implemented: false,
  },
  { name: 'SetRecycleLifecycle', method: 'POST', path: RECYCLED, flag: 'lifecycle', implemented: false },
  { name: 'EmptyRecycleBin', method: 'DELETE', path: RECYCLED, implemented: false },
  {
    name: 'GetRecycledItemInfo',
    method: 'GET',
    path: `${RECYCLED}/{item}`,
    flag: 'info',
    implemented: false,
  },
  {
    name: 'PreviewRecycledItem',
    method: 'GET',
    path: `${RECYCLED}/{item}`,
    flag: 'preview',
    implemented: false,
  },
  {
    name: 'RestoreRecycledItem',
    method: 'POST',
    path: `${RECYCLED}/{item}`,
    flag: 'restore',
    implemented: false,
  },
  { name: 'DeleteRecycledItem', method: 'DELETE', path: `${RECYCLED}/{item}`, implemented: false },
  // §2.6 quota; an all-digit id is a quota id, anything else a space id
  {
    name: 'CreateQuota',
    method: 'POST',
    path: 'quota/{lib}',
    implemented: true,
    summary: 'gates uploads; `removeWhenExceed` is stored, not enforced',
  },
  { name: 'GetQuotaById', method: 'GET', path: 'quota/{lib}/{quota:digits}', implemented: true },
  { name: 'UpdateQuotaById', method: 'PUT', path: 'quota/{lib}/{quota:digits}', implemented: true },
  { name: 'GetSpaceQuota', method: 'GET', path: 'quota/{lib}/{space}', implemented: true },
  { name: 'UpdateSpaceQuota', method: 'PUT', path: 'quota/{lib}/{space}', implemented: true },
  { name: 'GetSpaceQuotaOfSpace', method: 'GET', path: 'space-quota/{lib}/{space}', implemented: true },
  // §2.7 asynchronous tasks
  { name: 'GetSpaceTasks', method: 'GET', path: 'task/{lib}/{space}/{tasks}', implemented: false },
  { name: 'GetLibraryTasks', method: 'GET', path: 'task/{lib}/{tasks}', implemented: false },
  { name: 'GetSpaceTaskResult', method: 'GET', path: 'task-result/{lib}/{space}/{task}', implemented: false },
  { name: 'GetLibraryTaskResult', method: 'GET', path: 'task-result/{lib}/{task}', implemented: false },
  // §2.8 search
  { name: 'StartSearch', method: 'POST', path: `${SEARCH}/space-contents`, implemented: false },
  { name: 'SearchFiles', method: 'POST', path: `${SEARCH}/search-fs`, implemented: false },
  { name: 'SearchFilesStats', method: 'POST', path: `${SEARCH}/search-fs-stats`, implemented: false },
  { name: 'SearchAi', method: 'POST', path: `${SEARCH}/search-ai`, implemented: false },
  { name: 'ContinueSearch', method: 'GET', path: `${SEARCH}/{search}`, implemented: false },
  { name: 'DeleteSearch', method: 'DELETE', path: `${SEARCH}/{search}`, implemented: false },
  // §2.9 history versions
  { name: 'GetHistorySettings', method: 'GET', path: `${HISTORY}/library-history`, implemented: false },
  { name: 'SetHistorySettings', method: 'POST', path: `${HISTORY}/library-history`, implemented: false },
  { name: 'ClearLibraryHistory', method: 'DELETE', path: `${HISTORY}/library-history`, implemented: false },
  {
    name: 'ListFileHistory',
    method: 'GET',
    path: `${HISTORY}/{space}/history-list/{path*}`,
    implemented: false,
  },
  { name: 'DeleteFileHistory', method: 'POST', path: `${HISTORY}/{space}/delete`, implemented: false },
  {
    name: 'SetLatestVersion',
    method: 'POST',
    path: `${HISTORY}/{space}/latest-version/{history}`,
    implemented: false,
  },
  // §2.10 batch
  { name: 'BatchDelete', method: 'POST', path: 'batch/{lib}/{space}', flag: 'delete', implemented: false },
  { name: 'BatchCopy', method: 'POST', path: 'batch/{lib}/{space}', flag: 'copy', implemented: false },
  { name: 'BatchMove', method: 'POST', path: 'batch/{lib}/{space}', flag: 'move', implemented: false },
  // §2.11 favorites
  {
    name: 'CancelFavorite',
    method: 'POST',
    path: 'favorite/{lib}/{space}',
    flag: 'cancel',
    implemented: false,
  },
  { name: 'AddFavorite', method: 'POST', path: 'favorite/{lib}/{space}', implemented: false },
  { name: 'ListFavorites', method: 'GET', path: 'favorite/{lib}/{space}/list', implemented: false },
  // §2.12 families the SDKs carry, listed by path only
  { name: 'ShareLinks', method: 'ANY', path: 'share/{rest*}', implemented: false },
  { name: 'Authority', method: 'ANY', path: 'authority/{rest*}', implemented: false },
  { name: 'HlsPlayback', method: 'ANY', path: 'hls/{rest*}', implemented: false },
  { name: 'Tags', method: 'ANY', path: 'tag/{rest*}', implemented: false },
  { name: 'FileTags', method: 'ANY', path: 'file-tag/{rest*}', implemented: false },
  { name: 'DirectoryLocalSync', method: 'ANY', path: 'directory-local-sync/{rest*}', implemented: false },
  { name: 'OfficeEditing', method: 'ANY', path: 'office/{rest*}', implemented: false },
  { name: 'Version', method: 'ANY', path: 'version', implemented: false },
];

export function methodsOf(operation: SmhOperation): readonly SmhMethod[] {
  const { method } = operation;
  return method === 'ANY' ? SMH_METHODS : typeof method === 'string' ? [method as SmhMethod] : method;
}

type Segment = { kind: 'literal'; text: string } | { kind: 'param' } | { kind: 'digits' } | { kind: 'rest' };

function compile(path: string): Segment[] {
  return path.split('/').map((part) => {
    if (!part.startsWith('{')) return { kind: 'literal', text: part };
    if (part.endsWith('*}')) return { kind: 'rest' };
    return part.endsWith(':digits}') ? { kind: 'digits' } : { kind: 'param' };
  });
}

const COMPILED = new Map(SMH_OPERATIONS.map((op) => [op, compile(op.path)]));

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function pathMatches(pattern: readonly Segment[], segments: readonly string[]): boolean {
  for (const [i, part] of pattern.entries()) {
    if (part.kind === 'rest') return true;
    const segment = segments[i];
    if (segment === undefined) return false;
    if (part.kind === 'literal' && decoded(segment) !== part.text) return false;
    if (part.kind === 'digits' && !/^\d+$/.test(segment)) return false;
  }
  return segments.length === pattern.length;
}

export interface SmhRequestShape {
  method: string;
  /** The raw path below /api/v1, e.g. `/file/lib/-/a%20b.txt`. */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
}

/** The operation a request asks for, or undefined when it is no SMH operation at all. */
export function resolveSmhOperation(request: SmhRequestShape): SmhOperation | undefined {
  const segments = request.path.split('/').filter((s) => s !== '');
  const body = request.body;
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
  for (const operation of SMH_OPERATIONS) {
    if (!(methodsOf(operation) as readonly string[]).includes(request.method)) continue;
    if (operation.flag !== undefined && !Object.hasOwn(request.query, operation.flag)) continue;
    if (operation.bodyField !== undefined && !Object.hasOwn(fields, operation.bodyField)) continue;
    if (pathMatches(COMPILED.get(operation)!, segments)) return operation;
  }
  return undefined;
}

/** How a row reads in messages and docs: `PUT /file/{lib}/{space}/{path}` with its flag or body field. */
export function describeSmhOperation(operation: SmhOperation): string {
  const method = operation.method === 'ANY' ? 'any method' : methodsOf(operation).join(', ');
  const path = `/api/v1/${operation.path.replace(/\{(\w+)[:*][^}]*\}/g, '{$1}')}`;
  const flag = operation.flag !== undefined ? `?${operation.flag}` : '';
  const body = operation.bodyField !== undefined ? ` with body {${operation.bodyField}}` : '';
  return `${method} ${path}${flag}${body}`;
}

/** Fastify's spelling of a row's path under the plugin prefix, to check that its route exists. */
export function routePathOf(operation: SmhOperation): string {
  return `/${operation.path}`.replace(/\/\{\w+\*\}$/, '/*').replace(/\{(\w+)(?::digits)?\}/g, ':$1');
}
