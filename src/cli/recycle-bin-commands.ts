// `mediahost recycle-bin list | restore`: the SMH recycle bin (spec smh §2.5); items go back by item
// id or by original path (the most recently removed item of that path). A server without a recycle
// bin answers 400 FunctionNotEnabled, which is reported as it comes.
import { CliError } from './cli-error.ts';
import { parseRemotePath, showPath } from './remote-path.ts';
import type { SmhHttpClient } from './smh-http-client.ts';

interface RecycledItem {
  recycledItemId: number;
  originalPath: string[];
  name: string;
  type: string;
  removalTime: string;
  remainingTime?: number;
}

type Opts = Record<string, unknown>;

async function* recycled(client: SmhHttpClient): AsyncGenerator<RecycledItem> {
  let marker: string | undefined;
  do {
    const { body } = await client.request<{ contents: RecycledItem[]; nextMarker?: string | number }>(
      'GET',
      `/recycled/${client.library}/${client.space}`,
      // The bin pages by at most 100 (spec smh §2.5).
      { query: { 'by-marker': true, limit: 100, marker } },
    );
    yield* body.contents;
    marker = body.nextMarker ? String(body.nextMarker) : undefined;
  } while (marker);
}

/** The item's whole original path: SMH lists the path with the item's own name. */
const pathOf = (item: RecycledItem): string[] =>
  item.originalPath.at(-1) === item.name ? item.originalPath : [...item.originalPath, item.name];

async function itemFor(client: SmhHttpClient, arg: string): Promise<number> {
  if (/^\d+$/.test(arg)) return Number(arg);
  const wanted = showPath(parseRemotePath(arg).segments);
  let best: RecycledItem | undefined;
  for await (const item of recycled(client)) {
    if (showPath(pathOf(item)) === wanted && (!best || item.removalTime > best.removalTime)) best = item;
  }
  if (!best) throw new CliError(`${wanted}: no item of the recycle bin was removed from there`);
  return best.recycledItemId;
}

export async function listRecycled(client: SmhHttpClient, opts: Opts): Promise<void> {
  for await (const item of recycled(client)) {
    if (opts.json === true) process.stdout.write(`${JSON.stringify(item)}\n`);
    else
      process.stdout.write(
        `${String(item.recycledItemId).padStart(8)}  ${item.removalTime.slice(0, 19).replace('T', ' ')}  ${showPath(pathOf(item), item.type === 'dir')}${item.remainingTime !== undefined ? `  (${item.remainingTime} days left)` : ''}\n`,
      );
  }
}

export async function restoreRecycled(client: SmhHttpClient, items: string[], opts: Opts): Promise<void> {
  for (const arg of items) {
    const id = await itemFor(client, arg);
    const { body } = await client.request<{ path: string[] }>(
      'POST',
      `/recycled/${client.library}/${client.space}/${id}`,
      {
        query: {
          restore: true,
          conflict_resolution_strategy: String(opts.conflict),
          restore_path_strategy: opts.toRoot === true ? 'fallbackToRoot' : 'originalPath',
        },
      },
    );
    if (opts.json === true)
      process.stdout.write(
        `${JSON.stringify({ event: 'restored', recycledItemId: id, path: showPath(body.path) })}\n`,
      );
    else process.stdout.write(`restored ${showPath(body.path)} (item ${id})\n`);
  }
}
