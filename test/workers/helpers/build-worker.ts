import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');

export interface WorkerBuild {
  dir: string;
  /** The bundled module exactly as `wrangler deploy` would upload it. */
  scriptPath: string;
  code: string;
  /** Source files that went into the bundle (from the source map). */
  sources: string[];
  compatibilityDate: string;
  /** The FLOWGATE_CONFIG var that wrangler.toml ships. */
  shippedConfig: string;
  wranglerOutput: string;
  remove(): Promise<void>;
}

/**
 * Bundles the Worker the way a deployment does: `wrangler deploy --dry-run --outdir`, with the repository's
 * wrangler.toml. Returns what wrangler printed.
 */
export async function bundleWorker(outdir: string): Promise<string> {
  const wrangler = join(ROOT, 'node_modules/.bin/wrangler');
  const { stdout, stderr } = await run(wrangler, ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: 60_000,
  });
  return stdout + stderr;
}

/**
 * The Worker as `wrangler deploy` would upload it, in a folder of this caller's own. The suite's global
 * setup bundles it once per run (again only if a source changed), however many test files ask.
 */
export async function buildWorker(): Promise<WorkerBuild> {
  const answer = await fetch(`${inject('builder')}/worker`, { method: 'POST' });
  if (!answer.ok) throw new Error(`bundling the Worker failed: ${await answer.text()}`);
  const bundle = (await answer.json()) as { dir: string; output: string };
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-worker-'));
  for (const file of ['worker.js', 'worker.js.map']) await copyFile(join(bundle.dir, file), join(dir, file));
  const scriptPath = join(dir, 'worker.js');
  const code = await readFile(scriptPath, 'utf8');
  const map = JSON.parse(await readFile(scriptPath + '.map', 'utf8')) as { sources: string[] };
  const toml = await readFile(join(ROOT, 'wrangler.toml'), 'utf8');
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (!compatibilityDate) throw new Error('wrangler.toml has no compatibility_date');
  const shippedConfig = /^FLOWGATE_CONFIG\s*=\s*"""([\s\S]*?)"""/m.exec(toml)?.[1];
  if (!shippedConfig) throw new Error('wrangler.toml has no FLOWGATE_CONFIG var');
  return {
    dir,
    scriptPath,
    code,
    sources: map.sources,
    compatibilityDate,
    shippedConfig,
    wranglerOutput: bundle.output,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
