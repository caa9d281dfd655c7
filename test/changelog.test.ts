// CHANGELOG.md is what "read the release notes" in docs/deploy.md points at: the version package.json
// declares has its dated section, sections run newest first, and unreleased work sits on top.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const headings = [...changelog.matchAll(/^## (.*)$/gm)].map((m) => m[1]!);

const semver = (v: string): number[] => v.split('.').map(Number);
const newer = (a: string, b: string): boolean => {
  const [x, y] = [semver(a), semver(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return false;
};

describe('CHANGELOG.md', () => {
  it('every section is "[Unreleased]" (first, at most once) or "[X.Y.Z] - YYYY-MM-DD"', () => {
    assert.ok(headings.length > 0, 'no sections');
    for (const [i, heading] of headings.entries()) {
      if (heading === '[Unreleased]') assert.equal(i, 0, 'Unreleased comes first');
      else assert.match(heading, /^\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}$/);
    }
  });

  it('has a dated section for the version in package.json', () => {
    assert.ok(
      headings.some((h) => h.startsWith(`[${version}] - `)),
      `no "## [${version}] - YYYY-MM-DD" section; a release moves Unreleased there`,
    );
  });

  it('lists versions newest first, with dates that do not go forward', () => {
    const released = headings
      .filter((h) => h !== '[Unreleased]')
      .map((h) => /^\[(.+)\] - (.+)$/.exec(h)!)
      .map((m) => ({ version: m[1]!, date: m[2]! }));
    for (let i = 1; i < released.length; i++) {
      assert.ok(
        newer(released[i - 1]!.version, released[i]!.version),
        `${released[i - 1]!.version} after ${released[i]!.version}`,
      );
      assert.ok(
        released[i - 1]!.date >= released[i]!.date,
        `${released[i - 1]!.date} before ${released[i]!.date}`,
      );
    }
  });
});
