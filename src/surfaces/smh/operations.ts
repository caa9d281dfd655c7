// Every operation of the SMH business API (spec smh §2), in dispatch order: the first row whose method,
// path, action flag and body field match a request is its operation. Implemented rows are defined
// with their schemas and handler in handlers/*.ts; the others answer FunctionNotEnabled. A new
// operation gets its row here first; replacing missing(…) by its definition implements it.
import * as directories from './handlers/directories.ts';
import * as files from './handlers/files.ts';
import * as quotas from './handlers/quotas.ts';
import * as spaces from './handlers/spaces.ts';
import * as tokens from './handlers/tokens.ts';
import * as uploads from './handlers/upload-tasks.ts';
import { missing, type SmhOperation } from './operation.ts';

const { FILE } = uploads;
const { DIR } = directories;
const RECYCLED = 'recycled/{lib}/{space}';
const HISTORY = 'directory-history/{lib}';
const SEARCH = 'search/{lib}/{space}';
const BATCH = 'batch/{lib}/{space}';
const FAVORITE = 'favorite/{lib}/{space}';

// Within one method and path: rows with a flag, then rows with a body field, then the plain row
// (spec smh §2.3, §2.4 dispatch rules).
export const SMH_OPERATIONS: readonly SmhOperation[] = [
  // §2.1 access tokens
  tokens.createAccessToken,
  tokens.renewAccessToken,
  tokens.deleteAccessToken,
  tokens.deleteUserAccessTokens,
  // §2.2 tenant spaces and usage
  spaces.createSpace,
  spaces.listSpaces,
  spaces.countSpaces,
  spaces.deleteSpace,
  spaces.getSpaceExtension,
  spaces.updateSpaceExtension,
  spaces.getSpaceSize,
  spaces.getSpaceFileCount,
  missing({ name: 'SetSpaceTrafficLimit', method: 'POST', path: 'space/{lib}/{space}/traffic-limit' }),
  missing({ name: 'ListSpaceContents', method: 'GET', path: 'space/{lib}/{space}/contents-view' }),
  quotas.getLibraryUsage,
  quotas.getSpacesUsage,
  // §2.3 files and upload tasks share one path; the last part is a confirm key for upload tasks
  missing({ name: 'CreateVirtualFile', method: 'PUT', path: FILE, flag: 'virtual_file' }),
  missing({ name: 'ConvertFile', method: 'PUT', path: FILE, flag: 'convert' }),
  files.copyFile,
  files.moveFile,
  missing({ name: 'CreateSymlink', method: 'PUT', path: FILE, bodyField: 'linkTo' }),
  uploads.beginSimpleUpload,
  uploads.beginMultipartUpload,
  uploads.confirmUpload,
  uploads.renewUpload,
  missing({ name: 'UncompressFile', method: 'POST', path: FILE, flag: 'uncompress' }),
  uploads.beginFormUpload,
  uploads.getUploadStatus,
  // History versions are not kept, so a request for one must not get the current content.
  missing({ name: 'GetFileVersion', method: 'GET', path: FILE, flag: 'history_id' }),
  files.getFileInfo,
  missing({ name: 'PreviewFile', method: 'GET', path: FILE, flag: 'preview' }),
  missing({ name: 'PreviewArchive', method: 'GET', path: FILE, flag: 'zip-preview' }),
  missing({ name: 'DownloadTranscodedFile', method: 'GET', path: FILE, flag: 'transcoding_template_id' }),
  files.downloadFile,
  uploads.cancelUpload,
  files.deleteFile,
  missing({ name: 'HeadFileVersion', method: 'HEAD', path: FILE, flag: 'history_id' }),
  files.headFile,
  files.getInodePath,
  missing({ name: 'CheckFileDeletion', method: 'GET', path: 'file-deletion-check/{lib}/{space}/{inode}' }),
  missing({ name: 'GetDeltaCursor', method: 'GET', path: 'fs-delta/{lib}/{space}/cursor' }),
  missing({ name: 'ListDelta', method: 'GET', path: 'fs-delta/{lib}/{space}/delta' }),
  missing({ name: 'ListRecentlyUsedFiles', method: 'POST', path: 'recent/{lib}/{space}/recently-used-file' }),
  // §2.4 directories
  missing({ name: 'CopyDirectory', method: 'PUT', path: DIR, bodyField: 'copyFrom' }),
  directories.moveDirectory,
  missing({ name: 'CalibrateDirectoryStats', method: 'PUT', path: DIR, flag: 'calibrate' }),
  directories.createDirectory,
  directories.getEntryInfo,
  missing({ name: 'GetDirectoryStats', method: 'GET', path: DIR, flag: 'stats' }),
  directories.listDirectory,
  missing({ name: 'UpdateEntryAttributes', method: 'POST', path: DIR, flag: 'update' }),
  directories.deleteDirectory,
  directories.headDirectory,
  missing({
    name: 'CopyDirectoryAcrossSpaces',
    method: 'PUT',
    path: 'cross-space/directory/{lib}/{space}/copy/{path*}',
  }),
  missing({ name: 'GetAlbumCover', method: 'GET', path: 'album/{lib}/{space}/cover' }),
  missing({ name: 'GetNamedAlbumCover', method: 'GET', path: 'album/{lib}/{space}/cover/{album}' }),
  // §2.5 recycle bin (deletes are permanent)
  missing({ name: 'ListRecycled', method: 'GET', path: RECYCLED }),
  missing({ name: 'RestoreRecycledItems', method: 'POST', path: RECYCLED, flag: 'restore' }),
  // The Flutter SDK sends the batch delete as DELETE (spec smh §2.5).
  missing({ name: 'DeleteRecycledItems', method: ['POST', 'DELETE'], path: RECYCLED, flag: 'delete' }),
  missing({ name: 'SetRecycleLifecycle', method: 'POST', path: RECYCLED, flag: 'lifecycle' }),
  missing({ name: 'EmptyRecycleBin', method: 'DELETE', path: RECYCLED }),
  missing({ name: 'GetRecycledItemInfo', method: 'GET', path: `${RECYCLED}/{item}`, flag: 'info' }),
  missing({ name: 'PreviewRecycledItem', method: 'GET', path: `${RECYCLED}/{item}`, flag: 'preview' }),
  missing({ name: 'RestoreRecycledItem', method: 'POST', path: `${RECYCLED}/{item}`, flag: 'restore' }),
  missing({ name: 'DeleteRecycledItem', method: 'DELETE', path: `${RECYCLED}/{item}` }),
  // §2.6 quota; an all-digit id is a quota id, anything else a space id
  quotas.createQuota,
  quotas.getQuotaById,
  quotas.updateQuotaById,
  quotas.getSpaceQuota,
  quotas.updateSpaceQuota,
  quotas.getSpaceQuotaOfSpace,
  // §2.7 asynchronous tasks
  missing({ name: 'GetSpaceTasks', method: 'GET', path: 'task/{lib}/{space}/{tasks}' }),
  missing({ name: 'GetLibraryTasks', method: 'GET', path: 'task/{lib}/{tasks}' }),
  missing({ name: 'GetSpaceTaskResult', method: 'GET', path: 'task-result/{lib}/{space}/{task}' }),
  missing({ name: 'GetLibraryTaskResult', method: 'GET', path: 'task-result/{lib}/{task}' }),
  // §2.8 search
  missing({ name: 'StartSearch', method: 'POST', path: `${SEARCH}/space-contents` }),
  missing({ name: 'SearchFiles', method: 'POST', path: `${SEARCH}/search-fs` }),
  missing({ name: 'SearchFilesStats', method: 'POST', path: `${SEARCH}/search-fs-stats` }),
  missing({ name: 'SearchAi', method: 'POST', path: `${SEARCH}/search-ai` }),
  missing({ name: 'ContinueSearch', method: 'GET', path: `${SEARCH}/{search}` }),
  missing({ name: 'DeleteSearch', method: 'DELETE', path: `${SEARCH}/{search}` }),
  // §2.9 history versions
  missing({ name: 'GetHistorySettings', method: 'GET', path: `${HISTORY}/library-history` }),
  missing({ name: 'SetHistorySettings', method: 'POST', path: `${HISTORY}/library-history` }),
  missing({ name: 'ClearLibraryHistory', method: 'DELETE', path: `${HISTORY}/library-history` }),
  missing({ name: 'ListFileHistory', method: 'GET', path: `${HISTORY}/{space}/history-list/{path*}` }),
  missing({ name: 'DeleteFileHistory', method: 'POST', path: `${HISTORY}/{space}/delete` }),
  missing({ name: 'SetLatestVersion', method: 'POST', path: `${HISTORY}/{space}/latest-version/{history}` }),
  // §2.10 batch
  missing({ name: 'BatchDelete', method: 'POST', path: BATCH, flag: 'delete' }),
  missing({ name: 'BatchCopy', method: 'POST', path: BATCH, flag: 'copy' }),
  missing({ name: 'BatchMove', method: 'POST', path: BATCH, flag: 'move' }),
  // §2.11 favorites
  missing({ name: 'CancelFavorite', method: 'POST', path: FAVORITE, flag: 'cancel' }),
  missing({ name: 'AddFavorite', method: 'POST', path: FAVORITE }),
  missing({ name: 'ListFavorites', method: 'GET', path: `${FAVORITE}/list` }),
  // §2.12 families the SDKs carry, listed by path only
  missing({ name: 'ShareLinks', method: 'ANY', path: 'share/{rest*}' }),
  missing({ name: 'Authority', method: 'ANY', path: 'authority/{rest*}' }),
  missing({ name: 'HlsPlayback', method: 'ANY', path: 'hls/{rest*}' }),
  missing({ name: 'Tags', method: 'ANY', path: 'tag/{rest*}' }),
  missing({ name: 'FileTags', method: 'ANY', path: 'file-tag/{rest*}' }),
  missing({ name: 'DirectoryLocalSync', method: 'ANY', path: 'directory-local-sync/{rest*}' }),
  missing({ name: 'OfficeEditing', method: 'ANY', path: 'office/{rest*}' }),
  missing({ name: 'Version', method: 'ANY', path: 'version' }),
];
