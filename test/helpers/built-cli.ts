import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtDist } from './dist.js';

/**
 * The compiled CLI (`dist/node.js`, as `npm start` builds it; built first if a source changed) and a
 * scratch folder for config files.
 */
export async function buildCli(): Promise<{ dir: string; cli: string; remove(): void }> {
  const dist = await builtDist();
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-cli-'));
  return { dir, cli: join(dist, 'node.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `flowgate serve --config FILE --port 0`, resolved once it prints the address it listens on. */
export function serveCli(cli: string, configFile: string): Promise<CliProcess> {
  const child = spawn(process.execPath, [cli, 'serve', '--config', configFile, '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env },
  });
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
