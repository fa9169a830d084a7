#!/usr/bin/env node
/**
 * Builds dist/ from src/: the Node entry and library (tsconfig.build.json) and the Worker module
 * (tsconfig.build-workers.json, the `flowgate/worker` entry), incrementally.
 *
 *   node scripts/build.mjs              build
 *   node scripts/build.mjs --if-stale   build only when a source is newer than dist/ (what `npm start` does)
 *
 * Hand-written rather than a build tool: a stat walk over src/ is all the staleness check needs, and it costs
 * a few milliseconds, where `tsc` on a fresh tree costs seconds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Every build writes it anew, so its time is when dist/ was last built. */
export const ENTRY = join(ROOT, 'dist', 'node.js');
const INPUTS = ['tsconfig.build.json', 'tsconfig.build-workers.json', 'tsconfig.workers.json', 'tsconfig.base.json', 'package.json', 'package-lock.json'];
/**
 * The Node build writes dist/; the Workers build writes a scratch folder, from which only the Workers-only files
 * are copied in (src/worker.ts, src/platform/workers/, *.workers.ts): the two builds run at once and must not
 * write the shared files over each other.
 */
const CONFIGS = [
  { config: 'tsconfig.build.json', outDir: join(ROOT, 'dist') },
  { config: 'tsconfig.build-workers.json', outDir: join(ROOT, 'node_modules', '.cache', 'flowgate-dist-workers') },
];
const WORKERS_ONLY = (path) => /^(worker\.|platform\/workers\/)|\.workers\.(js|d\.ts)$/.test(path);
/** tsc's record of each last build, so a rebuild compiles only what changed. */
const buildInfo = (config) => join(ROOT, 'node_modules', '.cache', `flowgate-${config.replace(/\.json$/, '')}.tsbuildinfo`);

/** The latest change under `path`: files, and folders too (a deleted or renamed source changes its folder). */
function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  let latest = stat.mtimeMs;
  if (stat.isDirectory()) for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** The latest change to anything a build of src/ reads, in ms since the epoch. */
export function sourcesChangedAt() {
  return Math.max(newest(join(ROOT, 'src')), ...INPUTS.map((file) => newest(join(ROOT, file))));
}

/** True when dist/ is missing or older than a source. */
export function distIsStale() {
  const built = statSync(ENTRY, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return sourcesChangedAt() > built;
}

/**
 * Compiles src/ to dist/ (both configs at once, each incremental), then stamps the entry with the start time.
 * Rejects with tsc's output when a build fails.
 */
export async function build() {
  const started = new Date();
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  // tsc's incremental record does not notice outputs that were deleted: without the entry, start afresh.
  const fresh = !statSync(ENTRY, { throwIfNoEntry: false });
  await Promise.all(
    CONFIGS.map(({ config, outDir }) => {
      if (fresh) rmSync(buildInfo(config), { force: true });
      const args = [tsc, '-p', config, '--outDir', outDir, '--incremental', '--tsBuildInfoFile', buildInfo(config)];
      return promisify(execFile)(process.execPath, args, { cwd: ROOT });
    }),
  );
  const workers = CONFIGS[1].outDir;
  cpSync(workers, join(ROOT, 'dist'), {
    recursive: true,
    filter: (source) =>
      statSync(source).isDirectory() ||
      WORKERS_ONLY(
        source
          .slice(workers.length + 1)
          .split('\\')
          .join('/'),
      ),
  });
  utimesSync(ENTRY, started, started);
}

/** Builds when stale; resolves with what it did. */
export async function buildIfStale() {
  if (!distIsStale()) return 'current';
  await build();
  return 'built';
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await (process.argv.includes('--if-stale') ? buildIfStale() : build());
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}` || `${error.message}\n`);
    process.exit(1);
  }
}
