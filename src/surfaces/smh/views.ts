// JSON shapes of the SMH API (spec smh §2.3, §2.4): file objects, directory entries, info, the
// x-smh-* headers, and the upload grants of begin/renew/status. Sizes are decimal strings, eTags quoted.
import type { InodeRecord } from '../../core/namespace/model.ts';
import { fileTypeOf } from '../../core/namespace/names.ts';
import type { ConfirmedFile } from '../../core/uploads/upload-service.ts';
import type { UploadGrant } from '../../ports/object-store.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

function attributesView(inode: InodeRecord): Record<string, unknown> {
  const a = inode.attributes;
  return {
    ...(a.labels ? { labels: a.labels } : {}),
    ...(a.category !== undefined ? { category: a.category } : {}),
    ...(a.localCreationTime !== undefined ? { localCreationTime: a.localCreationTime } : {}),
    ...(a.localModificationTime !== undefined ? { localModificationTime: a.localModificationTime } : {}),
  };
}

function fileFields(inode: InodeRecord): Record<string, unknown> {
  return {
    contentType: inode.contentType ?? 'application/octet-stream',
    size: String(inode.size),
    eTag: `"${inode.etag}"`,
    crc64: inode.crc64 ?? '',
    metaData: inode.meta,
    fileType: fileTypeOf(inode.name),
    previewByDoc: false,
    previewByCI: false,
    previewAsIcon: false,
  };
}

/** The confirmed file (confirm, instant upload). */
export function fileObjectView(file: ConfirmedFile, withInode: boolean): Record<string, unknown> {
  const { inode } = file;
  return {
    path: file.path,
    name: inode.name,
    type: 'file',
    ...(withInode ? { inode: inode.id } : {}),
    creationTime: iso(inode.createdAt),
    modificationTime: iso(inode.modifiedAt),
    ...fileFields(inode),
    virusAuditStatus: 0,
    isOverwritten: file.isOverwritten,
    ...attributesView(inode),
  };
}

/** One entry of a directory listing. */
export function entryView(
  inode: InodeRecord,
  options: { withInode: boolean; path?: string[] | null },
): Record<string, unknown> {
  return {
    name: inode.name,
    ...(options.path !== undefined ? { path: options.path } : {}),
    ...(options.withInode ? { inode: inode.id } : {}),
    type: inode.type,
    creationTime: iso(inode.createdAt),
    modificationTime: iso(inode.modifiedAt),
    ...(inode.type === 'file'
      ? fileFields(inode)
      : { eTag: `"${inode.etag}"`, ...(Object.keys(inode.meta).length > 0 ? { metaData: inode.meta } : {}) }),
    ...attributesView(inode),
  };
}

/** `?info` of a file or directory (the root when `inode` is undefined). */
export function infoView(
  inode: InodeRecord | undefined,
  path: string[] | null,
  options: { withInode: boolean; cosUrl?: string },
): Record<string, unknown> {
  if (!inode) return { path: [], name: '', type: 'dir', eTag: '"0"' };
  return {
    path,
    ...(options.withInode ? { inode: inode.id } : {}),
    name: inode.name,
    type: inode.type,
    userId: inode.userId,
    creationTime: iso(inode.createdAt),
    modificationTime: iso(inode.modifiedAt),
    ...(options.cosUrl ? { cosUrl: options.cosUrl } : {}),
    ...(inode.type === 'file'
      ? { ...fileFields(inode), versionId: inode.etag }
      : { eTag: `"${inode.etag}"` }),
    ...attributesView(inode),
  };
}

/** x-smh-* headers of HEAD and download responses. */
export function smhHeaders(inode: InodeRecord): Record<string, string> {
  const headers: Record<string, string> = {
    'x-smh-type': inode.type,
    'x-smh-creation-time': iso(inode.createdAt),
    'x-smh-modification-time': iso(inode.modifiedAt),
    'x-smh-content-type': inode.contentType ?? 'application/octet-stream',
    'x-smh-size': String(inode.size),
    'x-smh-etag': `"${inode.etag}"`,
    'x-smh-crc64': inode.crc64 ?? '',
  };
  for (const [name, value] of Object.entries(inode.meta)) headers[name.toLowerCase()] = value;
  return headers;
}

/**
 * domain, path, headers or form, expiration: what the client sends its bytes with, plus the full url;
 * and, for the per-part variant, `parts` by part number.
 */
export function grantView(grant: UploadGrant): Record<string, unknown> {
  return {
    domain: grant.domain,
    path: grant.path,
    ...(grant.headers ? { headers: grant.headers } : {}),
    ...(grant.form ? { form: grant.form } : {}),
    ...(grant.parts ? { parts: grant.parts } : {}),
    expiration: iso(grant.expiresAt),
    url: grant.url,
  };
}
