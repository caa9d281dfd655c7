// The layering rule of docs/architecture.md: core imports only core, ports, lib and side-effect-free
// Node built-ins; never a framework, a database driver, the filesystem or child processes.
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
const ALLOWED_DIRS = ['core', 'ports', 'lib'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function imports(source: string): string[] {
  return [
    ...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ].map((m) => m[1]!);
}

describe('architecture', () => {
  it('core imports only core, ports, lib and side-effect-free built-ins', () => {
    const violations: string[] = [];
    for (const file of files(join(SRC, 'core')).filter((f) => !f.endsWith('.test.ts'))) {
      for (const spec of imports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = relative(SRC, resolve(join(file, '..'), spec));
          if (!ALLOWED_DIRS.some((d) => target.startsWith(`${d}/`)))
            violations.push(`${relative(SRC, file)} -> ${spec}`);
        } else if (!ALLOWED_BUILTINS.has(spec)) {
          violations.push(`${relative(SRC, file)} -> ${spec}`);
        }
      }
    }
    assert.deepEqual(violations, []);
  });

  it('lib has no domain imports', () => {
    const violations: string[] = [];
    for (const file of files(join(SRC, 'lib'))) {
      for (const spec of imports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.') && !relative(SRC, resolve(join(file, '..'), spec)).startsWith('lib/')) {
          violations.push(`${relative(SRC, file)} -> ${spec}`);
        }
      }
    }
    assert.deepEqual(violations, []);
  });

  it('the file commands reach the server over HTTP only: no core, adapters or app', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of imports(readFileSync(file, 'utf8')))
        if (spec.startsWith('.')) visit(resolve(join(file, '..'), spec));
    };
    visit(join(SRC, 'cli', 'file-commands.ts'));
    const reached = [...seen].map((f) => relative(SRC, f));
    assert.ok(reached.includes('cli/upload-session.ts'), 'the walk follows the imports');
    assert.deepEqual(
      reached.filter((f) => !(f.startsWith('cli/') || f.startsWith('lib/'))),
      [],
    );
  });

  it('only config/load.ts reads process.env', () => {
    const readers = files(SRC)
      .filter((f) => !f.endsWith('.test.ts') && /process\.env\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    assert.deepEqual(readers, ['config/load.ts']);
  });
});
