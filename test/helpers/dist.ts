import { execFile } from 'node:child_process';
import { readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
/** The compiled Node entry and everything it imports, as `npm start` and the `flowgate` bin run them. */
export const DIST = join(ROOT, 'dist');
/** Every build (this one, `npm run build`, `npm start`, `npm ci`'s prepare) writes it anew: a source changed since makes dist/ stale. */
const ENTRY = join(DIST, 'node.js');
const INPUTS = ['tsconfig.build.json', 'tsconfig.base.json', 'package.json', 'package-lock.json'];
/** tsc's record of the last build here, so a rebuild compiles only what changed (a few seconds, not ten). */
const BUILD_INFO = join(ROOT, 'node_modules', '.cache', 'flowgate-dist.tsbuildinfo');

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

/**
 * Compiles `src/` to `dist/` with the build tsconfig (what `npm run build` does), unless dist/ is current.
 * The build is incremental; the entry's time is then set to when the build started, which is what
 * `distIsStale` compares with.
 */
export async function buildDistIfStale(): Promise<'current' | 'built'> {
  if (!distIsStale()) return 'current';
  // tsc's incremental record does not notice outputs that were deleted: without the entry, start afresh.
  if (!statSync(ENTRY, { throwIfNoEntry: false })) rmSync(BUILD_INFO, { force: true });
  const started = new Date();
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', BUILD_INFO], { cwd: ROOT });
  utimesSync(ENTRY, started, started);
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
