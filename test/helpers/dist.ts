import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
/** The compiled Node entry and everything it imports, as `npm start` and the `flowgate` bin run them. */
export const DIST = join(ROOT, 'dist');
/** Every build (this one, `npm run build`, `npm start`, `npm ci`'s prepare) writes it anew: a source changed since makes dist/ stale. */
const ENTRY = join(DIST, 'node.js');
const INPUTS = ['tsconfig.build.json', 'tsconfig.base.json', 'package.json', 'package-lock.json'];

/** The latest change under `path`: files, and folders too (a deleted or renamed source changes its folder). */
function newest(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  let latest = stat.mtimeMs;
  if (stat.isDirectory()) for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** The latest change to anything a build of `src/` reads, in ms since the epoch. */
export function sourcesChangedAt(): number {
  return Math.max(newest(join(ROOT, 'src')), ...INPUTS.map((file) => newest(join(ROOT, file))));
}

export function distIsStale(): boolean {
  const built = statSync(ENTRY, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return sourcesChangedAt() > built;
}

/** Compiles `src/` to `dist/` with the build tsconfig (what `npm run build` does), unless dist/ is current. */
export async function buildDistIfStale(): Promise<'current' | 'built'> {
  if (!distIsStale()) return 'current';
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
  return 'built';
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
