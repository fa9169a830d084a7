import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { builtDist } from './dist.js';

export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stderr or stdout, checked as output arrives; rejects on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exit(): Promise<number | null>;
}

/** Runs the compiled CLI (`dist/node.js`, built first if a source changed) as a real process. */
export async function spawnCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Spawned> {
  const dist = await builtDist();
  const child = spawn(process.execPath, [join(dist, 'node.js'), ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(err) ?? pattern.exec(out);
          if (m) finish(() => resolve(m));
        };
        const onExit = () => {
          check();
          finish(() => reject(new Error(`process exited (${child.exitCode}) before ${pattern}: ${err}${out}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${pattern}: ${err}${out}`))), timeoutMs);
        let done = false;
        const finish = (settle: () => void) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          child.stdout.off('data', onData);
          child.stderr.off('data', onData);
          child.off('exit', onExit);
          settle();
        };
        // Listeners added after the ones above: the buffers already hold each chunk when they run.
        const onData = () => check();
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', onExit);
        check();
        if (child.exitCode !== null) onExit();
      });
    },
    exit: () => exited,
  };
}
