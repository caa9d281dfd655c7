// The layering rules of docs/architecture.md, checked on the import statements of src/: core (and the
// worker) import no I/O; ports speak the domain model of core; surfaces never reach adapters; lib has no
// domain words, threads or I/O; and no module imports itself through others.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const SRC = join(import.meta.dirname, '..', 'src');
const ALLOWED_BUILTINS = new Set([
  'node:crypto',
  'node:stream',
  'node:stream/promises',
  'node:buffer',
  'node:util',
  'node:events',
]);
const CORE_DIRS = ['core', 'ports', 'lib'];
/** Core modules a port may take its vocabulary from. */
const PORT_VOCABULARY = /^core\/(ids|errors)\.ts$|^core\/.+\/model\.ts$/;
/** Built-ins that start threads or processes or reach disks and networks. */
const IO_BUILTINS =
  /^(node:)?(worker_threads|fs|fs\/promises|child_process|cluster|net|http|https|http2|dgram|dns|dns\/promises|tls)$/;

/**
 * Worker modules that still do their own file I/O (ffmpeg's scratch directories and outputs), to be
 * moved behind ports; the rule fails when an entry is no longer needed, so the list only shrinks.
 */
const WORKER_IO_PENDING = [
  'worker/media-handlers.ts -> node:fs/promises',
  'worker/media-handlers.ts -> node:path',
  'worker/media-output.ts -> node:fs/promises',
  'worker/media-output.ts -> node:path',
];

interface Import {
  spec: string;
  typeOnly: boolean;
  /** The module it names under src/ (relative imports only). */
  target?: string;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|js)$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function importsOf(file: string): Import[] {
  const source = readFileSync(file, 'utf8');
  const found = [
    ...source.matchAll(/^\s*(import|export)(\s+type)?\s[^'";]*?from\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*(import)()\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\b(import)()\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return found.map((m) => {
    const spec = m[3]!;
    const target = spec.startsWith('.') ? relative(SRC, resolve(join(file, '..'), spec)) : undefined;
    return { spec, typeOnly: Boolean(m[2]), ...(target !== undefined && { target }) };
  });
}

const modules = new Map(files(SRC).map((f) => [relative(SRC, f), importsOf(f)]));

/** "file -> spec" for every import of the modules under `dir` that `allowed` refuses. */
function violations(dir: string, allowed: (i: Import, file: string) => boolean): string[] {
  return [...modules]
    .filter(([file]) => file.startsWith(`${dir}/`))
    .flatMap(([file, imports]) =>
      imports.filter((i) => !allowed(i, file)).map((i) => `${file} -> ${i.spec}`),
    );
}

const within = (target: string | undefined, dirs: readonly string[]): boolean =>
  target !== undefined && dirs.some((d) => target.startsWith(`${d}/`));

describe('architecture', () => {
  it('core imports only core, ports, lib and side-effect-free built-ins', () => {
    const bad = violations('core', (i) =>
      i.target !== undefined ? within(i.target, CORE_DIRS) : ALLOWED_BUILTINS.has(i.spec),
    );
    assert.deepEqual(bad, []);
  });

  it('the domain model (core/**/model.ts) imports only other model files, ids and errors', () => {
    const bad = violations(
      'core',
      (i, file) => !file.endsWith('/model.ts') || PORT_VOCABULARY.test(i.target ?? ''),
    );
    assert.deepEqual(bad, []);
  });

  it('ports import only other ports, the core model, ids and errors, and types of built-ins', () => {
    const bad = violations('ports', (i) =>
      i.target !== undefined
        ? within(i.target, ['ports']) || PORT_VOCABULARY.test(i.target)
        : i.spec.startsWith('node:') && i.typeOnly,
    );
    assert.deepEqual(bad, []);
  });

  it('records and states are declared in the core model, not in ports', () => {
    const declared = [...modules.keys()]
      .filter((f) => f.startsWith('ports/'))
      .flatMap((f) =>
        [
          ...readFileSync(join(SRC, f), 'utf8').matchAll(
            /^export (?:interface|type) (\w+(?:Record|State))\b/gm,
          ),
        ].map((m) => `${f}: ${m[1]}`),
      );
    assert.deepEqual(declared, []);
  });

  it('surfaces never import adapters', () => {
    assert.deepEqual(
      violations('surfaces', (i) => !within(i.target, ['adapters'])),
      [],
    );
  });

  it("worker follows core's rules (but for the listed file I/O still to move behind ports)", () => {
    const bad = violations('worker', (i) =>
      i.target !== undefined ? within(i.target, ['worker', ...CORE_DIRS]) : ALLOWED_BUILTINS.has(i.spec),
    );
    assert.deepEqual(bad, WORKER_IO_PENDING);
  });

  it('lib has no domain imports', () => {
    assert.deepEqual(
      violations('lib', (i) => i.target === undefined || within(i.target, ['lib'])),
      [],
    );
  });

  it('lib starts no threads or processes and touches no files or network', () => {
    assert.deepEqual(
      violations('lib', (i) => !IO_BUILTINS.test(i.spec)),
      [],
    );
  });

  it('no import cycles among the modules of src/', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      path.push(file);
      for (const { target } of modules.get(file) ?? []) {
        if (target === undefined || !modules.has(target)) continue;
        if (state.get(target) === 'open')
          cycles.push([...path.slice(path.indexOf(target)), target].join(' -> '));
        else if (!state.has(target)) visit(target);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of modules.keys()) if (!state.has(file)) visit(file);
    assert.deepEqual(cycles, []);
  });

  it('the file commands reach the server over HTTP only: no core, adapters or app', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const { target } of modules.get(file) ?? []) if (target !== undefined) visit(target);
    };
    visit('cli/file-commands.ts');
    const reached = [...seen];
    assert.ok(reached.includes('cli/upload-session.ts'), 'the walk follows the imports');
    assert.deepEqual(
      reached.filter((f) => !(f.startsWith('cli/') || f.startsWith('lib/'))),
      [],
    );
  });

  it('only config/load.ts reads process.env', () => {
    const readers = [...modules.keys()].filter((f) =>
      /process\.env\b/.test(readFileSync(join(SRC, f), 'utf8')),
    );
    assert.deepEqual(readers, ['config/load.ts']);
  });
});
