// Paged listings with S3 delimiter roll-up, shared by ListObjects and ListMultipartUploads: entries whose
// key has the delimiter after the prefix collapse into one CommonPrefix, which counts as one entry.

/**
 * A string that sorts after every key starting with a given prefix in UTF-8 byte order: keys are at
 * most 1024 bytes, and U+10FFFF is the largest code point, so 256 of them exceed any key's tail.
 */
const PAST_PREFIX = '\u{10FFFF}'.repeat(256);

export function afterPrefix(prefix: string): string {
  return prefix + PAST_PREFIX;
}

/**
 * A marker that is itself a common prefix (it ends with the first delimiter after the prefix) means
 * "continue after everything that prefix rolled up"; any other marker is used as is.
 */
export function continueAfter(marker: string, prefix: string, delimiter: string): string {
  if (
    delimiter !== '' &&
    marker.startsWith(prefix) &&
    marker.endsWith(delimiter) &&
    marker.indexOf(delimiter, prefix.length) === marker.length - delimiter.length
  ) {
    return afterPrefix(marker);
  }
  return marker;
}

export interface RollupOptions<T, C> {
  prefix: string;
  delimiter: string;
  limit: number;
  start: C;
  keyOf(item: T): string;
  cursorOf(item: T): C;
  cursorPast(commonPrefix: string): C;
  fetch(cursor: C, limit: number): Promise<T[]>;
  /** Keys starting with this are left out: in key order they are one run, skipped in one step. */
  hidden?: string;
}

export interface RollupResult<T, C> {
  items: T[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Key of the last entry returned (an item key or a common prefix). */
  lastKey: string | undefined;
  /** Cursor to continue after the last entry. */
  next: C | undefined;
}

/** `fetch` without the keys starting with `hidden`: a page that reaches them continues past them. */
function skipping<T, C>(opts: RollupOptions<T, C>, hidden: string): RollupOptions<T, C>['fetch'] {
  return async (cursor, limit) => {
    const page = await opts.fetch(cursor, limit);
    const at = page.findIndex((item) => opts.keyOf(item).startsWith(hidden));
    if (at < 0) return page;
    return [...page.slice(0, at), ...(await opts.fetch(opts.cursorPast(hidden), limit - at))];
  };
}

export async function listWithRollup<T, C>(opts: RollupOptions<T, C>): Promise<RollupResult<T, C>> {
  const fetch = opts.hidden === undefined ? opts.fetch : skipping(opts, opts.hidden);
  const items: T[] = [];
  const commonPrefixes: string[] = [];
  let cursor = opts.start;
  let lastKey: string | undefined;
  let next: C | undefined;
  let count = 0;
  if (opts.limit === 0) return { items, commonPrefixes, isTruncated: false, lastKey, next };
  for (;;) {
    const want = Math.min(opts.limit - count + 1, 1001);
    const page = await fetch(cursor, want);
    let refetch = false;
    for (const item of page) {
      if (count === opts.limit) return { items, commonPrefixes, isTruncated: true, lastKey, next };
      const key = opts.keyOf(item);
      const at = opts.delimiter === '' ? -1 : key.indexOf(opts.delimiter, opts.prefix.length);
      if (at >= 0) {
        const common = key.slice(0, at + opts.delimiter.length);
        commonPrefixes.push(common);
        count++;
        lastKey = common;
        next = opts.cursorPast(common);
        cursor = next;
        refetch = true;
        break;
      }
      items.push(item);
      count++;
      lastKey = key;
      next = opts.cursorOf(item);
      cursor = next;
    }
    if (!refetch && page.length < want) return { items, commonPrefixes, isTruncated: false, lastKey, next };
  }
}
