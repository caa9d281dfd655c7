import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from './cli-error.ts';
import { encodePath, parseRemotePath, showPath } from './remote-path.ts';

describe('remote paths', () => {
  it('reads SMH paths: leading slash optional, a trailing slash names a directory', () => {
    assert.deepEqual(parseRemotePath('/photos/2026/'), { segments: ['photos', '2026'], isDirectory: true });
    assert.deepEqual(parseRemotePath('photos/a.jpg'), { segments: ['photos', 'a.jpg'], isDirectory: false });
    assert.deepEqual(parseRemotePath('/'), { segments: [], isDirectory: true });
    assert.deepEqual(parseRemotePath('//a//b'), { segments: ['a', 'b'], isDirectory: false });
  });

  it('refuses empty paths and . or .. (exit 2)', () => {
    for (const bad of ['', ' ', '/a/../b', './a']) {
      assert.throws(
        () => parseRemotePath(bad),
        (err: unknown) => err instanceof CliError && err.exitCode === 2,
      );
    }
  });

  it('shows and encodes paths', () => {
    assert.equal(showPath([]), '/');
    assert.equal(showPath(['a', 'b'], true), '/a/b/');
    assert.equal(encodePath(['a b', 'c#?.jpg']), 'a%20b/c%23%3F.jpg');
  });
});
