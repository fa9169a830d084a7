import { join } from 'node:path';
import { inject } from 'vitest';
import { buildIfStale, distIsStale, ROOT, sourcesChangedAt } from '../../scripts/build.mjs';

/** The compiled Node entry and everything it imports, as `npm start` and the `flowgate` bin run them. */
export const DIST = join(ROOT, 'dist');

export { distIsStale, sourcesChangedAt };

/**
 * Compiles `src/` to `dist/` the way `npm start` does (scripts/build.mjs), unless dist/ is current. The build is
 * incremental; the entry's time is then set to when the build started, which is what `distIsStale` compares with.
 */
export async function buildDistIfStale(): Promise<'current' | 'built'> {
  return buildIfStale();
}

/**
 * Resolves once `dist/` is current, building it first when a source changed. The suite's global setup
 * does the work, once for all test files at a time; only tests that run the compiled CLI ask for it.
 */
export async function builtDist(): Promise<string> {
  const answer = await fetch(`${inject('builder')}/dist`, { method: 'POST' });
  if (!answer.ok) throw new Error(`building dist/ failed: ${await answer.text()}`);
  return DIST;
}
