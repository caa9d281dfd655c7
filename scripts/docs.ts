// Rewrites the generated documentation (docs/configuration.md) from the code.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationDoc } from '../src/config/docs.ts';

const root = join(import.meta.dirname, '..');
writeFileSync(join(root, 'docs', 'configuration.md'), renderConfigurationDoc());
process.stdout.write('wrote docs/configuration.md\n');
