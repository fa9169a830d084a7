import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface DedicatedRedis {
  port: number;
  url: string;
  /** SIGKILL: the server vanishes mid-conversation, as in a crash. */
  kill(): Promise<void>;
  /** SIGSTOP: the server stays connected but answers nothing, as a stalled host would. */
  pause(): void;
  /** SIGCONT after `pause`: it answers again, the queued commands first. */
  resume(): void;
  /** Starts a fresh server on the same port. */
  restart(): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Runs `redis-server` on `port` in `dir` (no snapshots, no append-only file) and resolves once it logs
 * that it accepts connections; rejects with its last lines if it exits first (a port taken meanwhile).
 */
function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const output = createInterface({ input: child.stdout! });
    output.on('line', (line) => {
      lines.push(line);
      if (line.includes('Ready to accept connections')) {
        output.removeAllListeners('line');
        child.stdout!.resume();
        child.off('exit', early);
        resolve(child);
      }
    });
    const early = (code: number | null) => reject(new Error(`redis-server on port ${port} exited (${code}): ${lines.slice(-3).join(' | ')}`));
    child.once('exit', early);
    child.once('error', reject);
  });
}

/**
 * A `redis-server` of the test's own on an ephemeral loopback port, in a scratch folder: the suite
 * never uses, flushes or stops a Redis it did not start.
 */
export async function startDedicatedRedis(): Promise<DedicatedRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  // The probed port can be taken between the probe and the bind: try a few.
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir);
    } catch (error) {
      if (attempt === 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  async function kill(): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async restart() {
      child = await launch(port, dir);
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
