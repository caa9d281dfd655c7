// Reads the operations the wire specs (../shared/spec/*.md) list, so tests can walk every one of them
// against the server. The SMH and VOD specs name operations in prose, headings, bullets and tables
// (`PUT …/{FilePath}?virtual_file`, `` `PUT` + `convert` → … ``); the COS spec has a routing table.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SPEC_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'spec');

export function readSpec(name: string): string {
  const file = join(SPEC_DIR, name);
  if (!existsSync(file))
    throw new Error(`${file} is missing: the specs are expected in ../shared/spec beside the repository`);
  return readFileSync(file, 'utf8');
}

const METHODS = 'GET|POST|PUT|DELETE|HEAD';

export interface SpecOperation {
  /** `ANY` when the spec gives a path without a method. */
  method: string;
  /** The path as the spec writes it, placeholders kept (`/api/v1/file/{Lib}/{Space}/{FilePath}`). */
  path: string;
  /** The spec writes `/…` after the path: a family of operations below it. */
  anySuffix: boolean;
  /** Valueless action flags (query keys without `=`). */
  flags: string[];
  /** A JSON body field that selects the operation. */
  bodyField?: string;
  /** The spec text it came from, for failure messages. */
  source: string;
}

interface Block {
  text: string;
  heading: number;
  /** The `###` section's base path, e.g. `/api/v1/file/{LibraryId}/{SpaceId}`. */
  base: () => string | undefined;
  /** `?flag` rows of tables in the section (`| \`?delete\` | …`), for `?<op>` paths. */
  tableFlags: () => string[];
}

function sliceSection(markdown: string, from: RegExp, to: RegExp): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => from.test(l));
  const end = lines.findIndex((l, i) => i > start && to.test(l));
  if (start < 0 || end < 0) throw new Error(`spec section ${from} … ${to} not found`);
  return lines.slice(start + 1, end);
}

/** Paragraphs, bullets, table rows and headings, each with its `###` section's base path. */
function blocksOf(lines: readonly string[], prefix: string): Block[] {
  const blocks: Block[] = [];
  const sections: { base: string | undefined; flags: string[] }[] = [];
  const basePattern = new RegExp(`${prefix}[\\w-]+/\\{\\w+\\}/\\{\\w+\\}`);
  let current: string[] | undefined;
  const close = (): void => {
    if (current && current.length > 0) {
      const section = sections.at(-1);
      const text = current.join(' ');
      const heading = /^(#+) /.exec(text)?.[1]?.length ?? 0;
      if (section && section.base === undefined && heading !== 3) section.base = basePattern.exec(text)?.[0];
      blocks.push({
        text,
        heading,
        base: () => section?.base,
        tableFlags: () => section?.flags ?? [],
      });
    }
    current = undefined;
  };
  for (const line of lines) {
    if (/^### /.test(line)) {
      close();
      sections.push({ base: basePattern.exec(line)?.[0], flags: [] });
      current = [line];
      close();
      continue;
    }
    const flagRow = /^\| `\?([\w-]+)` \|/.exec(line);
    if (flagRow) sections.at(-1)?.flags.push(flagRow[1]!);
    if (line.trim() === '' || /^(#|\* |- |\||\d+\. )/.test(line)) close();
    if (line.trim() !== '') {
      current ??= [];
      current.push(line);
    }
    if (/^#/.test(line)) close();
  }
  close();
  return blocks;
}

function parseTarget(raw: string): { path: string; anySuffix: boolean; query: string } {
  const anySuffix = /\/(\.\.\.|…)$/.test(raw);
  let text = anySuffix ? raw.replace(/\/(\.\.\.|…)$/, '') : raw.replace(/[.:]$/, '');
  const bracket = text.indexOf('[');
  if (bracket >= 0) text = text.slice(0, bracket);
  const q = text.indexOf('?');
  return { path: q < 0 ? text : text.slice(0, q), anySuffix, query: q < 0 ? '' : text.slice(q + 1) };
}

const flagsOf = (query: string): string[] =>
  query
    .split('&')
    .filter((p) => p !== '' && !p.includes('='))
    .map((p) => p.trim());

/** Resolves `…/rest` against a path given earlier in the block, else against the section's base. */
function resolveEllipsis(
  path: string,
  earlier: readonly string[],
  base: string | undefined,
  source: string,
): string {
  if (!path.startsWith('…')) return path;
  const rest = path.slice(1);
  const first = rest.split('/')[1]!;
  for (const previous of [...earlier].reverse()) {
    const at = previous.lastIndexOf(`/${first}`);
    if (at >= 0) return previous.slice(0, at) + rest;
  }
  if (base === undefined) throw new Error(`cannot resolve ${path}: no base path in its section (${source})`);
  return base + rest;
}

/**
 * Operations of one spec section, between the headings `from` and `to`. `prefix` is a regular
 * expression source for the API's path prefix (`/api/v1/`); `…/x` means the section's base path + `/x`.
 */
export function extractOperations(
  markdown: string,
  options: { from: RegExp; to: RegExp; prefix: string },
): SpecOperation[] {
  const { prefix } = options;
  const pathToken = `(?:${prefix}|…/)[^\\s\`|),;]*`;
  const found: SpecOperation[] = [];
  const add = (op: SpecOperation): void => {
    const key = (o: SpecOperation) => `${o.method} ${o.path} ${o.flags.join('&')} ${o.bodyField ?? ''}`;
    if (!found.some((f) => key(f) === key(op))) found.push(op);
  };
  let barePath: string | undefined;
  for (const block of blocksOf(sliceSection(markdown, options.from, options.to), prefix)) {
    const source = block.text.slice(0, 120);
    const earlier: string[] = [];
    let method: string | undefined;
    const tokens = new RegExp(`(?<![A-Za-z])(?:(${METHODS})\\s+)?(${pathToken})`, 'g');
    for (const m of block.text.matchAll(tokens)) {
      // A `###` heading's bare path names the section, not an operation.
      if (m[1] === undefined && block.heading === 3) continue;
      method = m[1] ?? method;
      const target = parseTarget(m[2]!);
      const path = resolveEllipsis(target.path, earlier, block.base(), source);
      earlier.push(path);
      const after = block.text.slice(m.index! + m[0].length);
      const bodyField = /^`?\s*body\s+`\{\s*"(\w+)"/.exec(after)?.[1];
      const flags = flagsOf(target.query.replace('<op>', ''));
      const expanded = target.query.includes('<op>') ? block.tableFlags().map((f) => [...flags, f]) : [flags];
      if (expanded.length === 0) throw new Error(`no table of ?<op> flags for ${m[0]} (${source})`);
      for (const f of expanded)
        add({
          method: method ?? 'ANY',
          path,
          anySuffix: target.anySuffix,
          flags: f,
          ...(bodyField ? { bodyField } : {}),
          source,
        });
      if (m[1] === undefined && /:\s*$/.test(block.text)) barePath = path;
    }
    // A method alone in backticks: SMH's dispatch rules (`PUT` + `convert` → …), or a bullet under a
    // path given just before (VOD's "all on `/v1/…/editing/jobs`:" then "- `POST` body …").
    const methods = [...block.text.matchAll(new RegExp(`\`(${METHODS})( \\?[^\`]*)?\``, 'g'))];
    for (const [i, m] of methods.entries()) {
      const rest = block.text.slice(m.index! + m[0].length, methods[i + 1]?.index ?? block.text.length);
      if (/^\s*(\+|→)/.test(rest)) {
        const base = block.base();
        if (base === undefined) throw new Error(`dispatch rule without a base path (${source})`);
        for (const clause of rest.replace(/^\s*\+/, '').split(/;|\.\s/)) {
          const left = clause.split('→')[0]!;
          const name = /`([^`]+)`/.exec(left)?.[1];
          const plain = name === undefined && (clause.includes('→') || /\b(otherwise|else)\b/.test(left));
          if (name === undefined && !plain) continue;
          const isBody = name !== undefined && /\bbody\b/.test(left);
          add({
            method: m[1]!,
            path: `${base}/{Path}`,
            anySuffix: false,
            flags: name !== undefined && !isBody ? [name] : [],
            ...(isBody ? { bodyField: name } : {}),
            source,
          });
        }
      } else if (barePath !== undefined && /^[-*] /.test(block.text)) {
        add({
          method: m[1]!,
          path: barePath,
          anySuffix: false,
          flags: flagsOf((m[2] ?? '').trim().replace(/^\?/, '')),
          source,
        });
      }
    }
  }
  return found;
}

export interface CosSpecRoute {
  method: string;
  target: 'K' | 'B' | 'any';
  query: string[];
  headers: string[];
  contentType?: string;
  operation: string;
}

/** The COS spec's routing table (cos-api §2) and the sub-resources it says answer 501. */
export function extractCosSpec(markdown: string): { routes: CosSpecRoute[]; notImplemented: string[] } {
  const routes: CosSpecRoute[] = [];
  for (const line of markdown.split('\n')) {
    const m = new RegExp(`^\\| (${METHODS}|OPTIONS) \\| (K|B|any) \\| (.*?) \\| (.+?) \\|$`).exec(line);
    if (!m) continue;
    const names = [...m[3]!.matchAll(/`([^`]+)`/g)].map((n) => n[1]!);
    const contentType = /^Content-Type: (.+)$/i.exec(names[0] ?? '')?.[1];
    routes.push({
      method: m[1]!,
      target: m[2] as CosSpecRoute['target'],
      query: contentType ? [] : names.filter((n) => !n.startsWith('x-')),
      headers: names.filter((n) => n.startsWith('x-')),
      ...(contentType ? { contentType } : {}),
      operation: m[4]!.replace(/\s*\(§[\d.]+\)$/, ''),
    });
  }
  const notImplemented = new Set<string>();
  for (const line of markdown.split('\n')) {
    // "… a sub-resource we do not implement. For `acl`, `tagging`, … return `501 NotImplemented`."
    if (/`501 NotImplemented`/.test(line) && /sub-resource/.test(line))
      for (const n of line.matchAll(/`([a-z-]+)`/g)) notImplemented.add(n[1]!);
    // "`PutObjectTagging` (`PUT ?tagging`). Out of scope → 501"
    for (const n of line.matchAll(new RegExp(`\`(?:${METHODS}) \\?([a-z-]+)\`.*\\b501\\b`, 'g')))
      notImplemented.add(n[1]!);
  }
  return { routes, notImplemented: [...notImplemented] };
}
