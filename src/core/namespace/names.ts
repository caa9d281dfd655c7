// Names in the SMH namespace (spec smh §4 name rules, §3.3 rename): what a file or directory may be
// called, and the "name (n).ext" sequence a rename conflict strategy walks through.
import { AppError } from '../errors.ts';

/** SMH: names may not contain these (IllegalFileName). */
const FORBIDDEN = /[\\/:*?"<>|]/;
const MAX_NAME_BYTES = 255;

function hasControlCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) < 0x20) return true;
  return false;
}

export function validateName(name: string, kind: 'file' | 'dir'): void {
  if (name === '') throw new AppError('EmptyFileName', 'The name must not be empty.');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new AppError(
      kind === 'dir' ? 'DirectoryNameLengthExceed' : 'FileNameLengthExceed',
      `A name is at most ${MAX_NAME_BYTES} bytes of UTF-8.`,
    );
  }
  if (name === '.' || name === '..' || FORBIDDEN.test(name) || hasControlCharacter(name)) {
    throw new AppError(
      'IllegalFileName',
      `"${name}" is not a valid name: it may not be . or .. or contain \\ / : * ? " < > | or control characters.`,
    );
  }
}

/** Splits `name.ext` for renaming: dot-files and names without a dot have no extension. */
export function splitExtension(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { base: name, ext: '' };
  return { base: name.slice(0, dot), ext: name.slice(dot) };
}

export const MAX_RENAME = 9999;

/** The first free "base (n).ext", n from 1 (SMH: `file (1).docx`, then `(2)`, …). */
export function freeName(name: string, taken: ReadonlySet<string>): string {
  const { base, ext } = splitExtension(name);
  for (let n = 1; n <= MAX_RENAME; n++) {
    const candidate = `${base} (${n})${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
  throw new AppError('RenameTooManyTimes', `No free name of the form "${base} (n)${ext}" is left.`);
}

const FILE_TYPES: [string, readonly string[]][] = [
  ['excel', ['xls', 'xlsx', 'xlsm', 'csv', 'ods']],
  ['powerpoint', ['ppt', 'pptx', 'odp', 'key']],
  ['word', ['doc', 'docx', 'odt', 'rtf', 'pages']],
  ['pdf', ['pdf']],
  ['image', ['jpg', 'jpeg', 'png', 'gif', 'bmp', 'webp', 'heic', 'heif', 'tif', 'tiff', 'svg', 'avif']],
  ['video', ['mp4', 'mov', 'm4v', 'avi', 'mkv', 'flv', 'webm', 'wmv', '3gp', 'ts', 'mpeg', 'mpg']],
  ['audio', ['mp3', 'wav', 'aac', 'flac', 'ogg', 'm4a', 'wma']],
  ['text', ['txt', 'md', 'log', 'json', 'xml', 'yaml', 'yml']],
];

/** SMH fileType of a name, by extension. */
export function fileTypeOf(name: string): string {
  const ext = splitExtension(name).ext.slice(1).toLowerCase();
  return FILE_TYPES.find(([, exts]) => exts.includes(ext))?.[0] ?? 'other';
}

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  svg: 'image/svg+xml',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
  flv: 'video/x-flv',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  m4a: 'audio/mp4',
  pdf: 'application/pdf',
  txt: 'text/plain',
  json: 'application/json',
  html: 'text/html',
  zip: 'application/zip',
  m3u8: 'application/vnd.apple.mpegurl',
};

/** Content type guessed from a file name, for uploads that do not send one. */
export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[splitExtension(name).ext.slice(1).toLowerCase()] ?? 'application/octet-stream';
}
