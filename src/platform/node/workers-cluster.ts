import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

/**
 * `flowgate serve --workers N`: N processes share one listening port through node:cluster. Each worker
 * is a full gateway (its own upstream pool and store connection); the primary only starts, watches and
 * signals them. The message a worker sends the primary once it listens.
 */
interface ListeningMessage {
  flowgate: 'listening';
  url: string;
  where: string;
}

const isListening = (message: unknown): message is ListeningMessage =>
  typeof message === 'object' && message !== null && (message as { flowgate?: unknown }).flowgate === 'listening';

/** Whether this process is a worker started by {@link runPrimary}. */
export const isClusterWorker = (): boolean => cluster.isWorker;

/**
 * The number of processes from `--workers` (a string, when given) or `server.workers`: `auto` is
 * `os.availableParallelism()`. Returns an error message for anything else.
 */
export function resolveWorkers(flag: string | undefined, configured: number | 'auto'): number | { error: string } {
  const value = flag === undefined ? configured : flag === 'auto' ? 'auto' : Number(flag);
  if (value === 'auto') return availableParallelism();
  if (!Number.isInteger(value) || value < 1 || value > 256) return { error: `--workers must be a number of processes from 1 to 256, or "auto", got "${flag}"` };
  return value;
}

/**
 * How long the primary waits before replacing a worker that exited unasked, given the times (epoch ms)
 * of the recent exits, this one last. The first replacement is immediate; in a crash loop (a bad
 * upstream setting, a port taken) the wait doubles from 500 ms up to 30 s, so the primary never spins.
 * Exits older than `windowMs` (60 s) are forgotten: a worker that ran a minute has recovered.
 */
export function restartDelay(exits: readonly number[], now: number, windowMs = 60_000): number {
  const recent = exits.filter((at) => now - at < windowMs).length;
  if (recent <= 1) return 0;
  return Math.min(30_000, 500 * 2 ** (recent - 2));
}

/** Called by a worker once its server listens: the primary prints one start line for all. Returns false outside a cluster. */
export function reportListening(url: string, where: string): boolean {
  if (!cluster.isWorker || !process.send) return false;
  process.send({ flowgate: 'listening', url, where } satisfies ListeningMessage);
  return true;
}

/**
 * In a worker, signals come from the primary, and a terminal's Ctrl-C reaches the worker too, right
 * before the primary's SIGTERM: persistent listeners keep Node's default (ending the process at once)
 * from ever applying, so the first signal starts the drain and the rest wait for it. SIGHUP is the
 * primary passing a reload on: serve's reload listener handles it while the worker serves, and this one
 * keeps a SIGHUP that arrives during the drain (after that listener is gone) from ending the worker.
 */
export function keepWorkerAliveOnSignals(): void {
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
}

export interface PrimaryOptions {
  workers: number;
  /** `server.shutdownTimeout`: how long a worker drains; the primary kills what is left a little after. */
  shutdownTimeoutMs: number;
  /** Where the primary's lines go (stderr). */
  write(line: string): void;
  /** The start line, once every worker listens. */
  onListening(url: string, where: string): void;
  /** For tests of the backoff: defaults to Date.now. */
  now?: () => number;
}

/**
 * The primary: forks `workers` copies of this command (node:cluster re-runs the same argv), replaces a
 * worker that exits unasked (after {@link restartDelay}), forwards SIGHUP to every worker, and on
 * SIGTERM or SIGINT asks every worker to drain, waits for them, and resolves with the exit code (0, or 1
 * when a worker had to be killed after the drain deadline).
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { workers, shutdownTimeoutMs, write, onListening } = options;
  const now = options.now ?? Date.now;
  const exits: number[] = [];
  const listening = new Set<number>();
  let announced = false;
  let stopping = false;
  let pendingRestarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: unknown) => {
      if (!isListening(message)) return;
      listening.add(worker.id);
      write(`flowgate: worker ${worker.id} (pid ${worker.process.pid}) listening\n`);
      if (!announced && listening.size >= workers) {
        announced = true;
        onListening(message.url, message.where);
      }
    });
  };

  return new Promise<number>((resolve) => {
    let forced = false;
    const finish = () => {
      if (live().length > 0) return;
      process.off('SIGHUP', onHangup);
      resolve(forced ? 1 : 0);
    };
    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      listening.delete(worker.id);
      if (stopping) return finish();
      exits.push(now());
      const delay = restartDelay(exits, now());
      write(
        `flowgate: worker ${worker.id} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}); starting a replacement${delay ? ` in ${delay} ms` : ''}\n`,
      );
      pendingRestarts++;
      const restart = () => {
        restartTimer = undefined;
        if (stopping) return;
        for (; pendingRestarts > 0; pendingRestarts--) fork();
      };
      if (delay === 0) restart();
      else restartTimer ??= setTimeout(restart, delay);
    };
    const onHangup = () => {
      write(`flowgate: SIGHUP: passing it to ${live().length} workers\n`);
      for (const worker of live()) worker.process.kill('SIGHUP');
    };
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      write(`flowgate: ${signal}: draining ${live().length} workers\n`);
      for (const worker of live()) worker.process.kill('SIGTERM');
      // A worker stuck past its own drain deadline is killed, so the primary always ends.
      setTimeout(() => {
        for (const worker of live()) {
          forced = true;
          worker.process.kill('SIGKILL');
        }
      }, shutdownTimeoutMs + 5_000).unref();
      finish();
    };
    cluster.on('exit', onExit);
    process.on('SIGHUP', onHangup);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    for (let i = 0; i < workers; i++) fork();
  });
}
