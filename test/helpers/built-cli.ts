import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Compiles src/ with the project's own tsc into `.test-build/<id>/` (inside the repo, so the compiled
 * files resolve node_modules as dist/ would). `--noCheck`: vitest and `npm run typecheck` check types;
 * this only emits. Works from a clean clone: no prior `npm run build` needed.
 */
export async function buildCli(): Promise<{ dir: string; cli: string; remove(): void }> {
  const dir = join(ROOT, '.test-build', randomUUID());
  mkdirSync(dir, { recursive: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dir, '--noCheck', '--sourceMap', 'false'], { cwd: ROOT });
  return { dir, cli: join(dir, 'cli.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `flowgate serve --config FILE --port 0`, resolved once it prints the address it listens on. */
export function serveCli(cli: string, configFile: string): Promise<CliProcess> {
  const child = spawn(process.execPath, [cli, 'serve', '--config', configFile, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
  return new Promise((resolvePromise, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`flowgate did not start: ${stderr}`)), 20_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolvePromise({
          url: match[1]!,
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`flowgate exited with ${code}: ${stderr}`));
    });
  });
}
