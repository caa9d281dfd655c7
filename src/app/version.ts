// The version of this mediahost: the one in package.json, which releases are tagged with (CHANGELOG.md).
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function mediahostVersion(): string {
  version ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return version;
}
