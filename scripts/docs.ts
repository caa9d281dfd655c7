// Rewrites the generated documentation (docs/configuration.md, docs/api-coverage.md) from the code.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationDoc } from '../src/config/docs.ts';
import { renderApiCoverageDoc } from '../src/surfaces/api-coverage.ts';

const root = join(import.meta.dirname, '..');
writeFileSync(join(root, 'docs', 'configuration.md'), renderConfigurationDoc());
writeFileSync(join(root, 'docs', 'api-coverage.md'), renderApiCoverageDoc());
process.stdout.write('wrote docs/configuration.md and docs/api-coverage.md\n');
