import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderApiCoverageDoc } from './api-coverage.ts';

describe('API coverage page', () => {
  it('docs/api-coverage.md is rendered from the operation tables (run `npm run docs` after changing one)', () => {
    const onDisk = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api-coverage.md'), 'utf8');
    assert.equal(onDisk, renderApiCoverageDoc());
  });
});
