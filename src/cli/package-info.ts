import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this file, both as src/cli/*.ts and as dist/cli/*.js. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The installed package's version, from its package.json (`flowgate --version`). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(`${PACKAGE_ROOT}package.json`, 'utf8')) as { version: string }).version;
}
