import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildDistIfStale, sourcesChangedAt } from './helpers/dist.js';
import { startDedicatedRedis } from './helpers/redis-server.js';
import { bundleWorker } from './workers/helpers/build-worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the suite's own redis-server. */
    redisUrl: string;
    /**
     * The build service: POST `/dist` has `dist/` built when it is stale (helpers/dist.ts); POST `/worker`
     * answers `{ dir, output }`, the Worker bundled once per run (workers/helpers/build-worker.ts).
     */
    builder: string;
  }
}

const onPath = (command: string) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** A one-line error, without a stack: what to do is all there is to say. */
function plainError(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}

/** The tests need `redis-server`: Debian's package, installed here when the machine allows it (root and apt). */
function ensureRedisServer(): void {
  if (onPath('redis-server')) return;
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    console.error("redis-server is missing: installing Debian's package (apt-get install redis-server)");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env });
    if (onPath('redis-server')) return;
  }
  throw plainError(
    'The tests start their own redis-server, and it is not installed: run `sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), then run the tests again.',
  );
}

/** What a failed build printed, or its message. */
const failure = (error: unknown) => {
  const output = error as { stdout?: string; stderr?: string; message?: string };
  return `${output.stdout ?? ''}${output.stderr ?? ''}` || String(output.message);
};

/**
 * Once per run: a private `redis-server` on a free port for every test that needs Redis (the suite never
 * touches a Redis it did not start), and a build service, so that each build runs once for all test files
 * and only for the tests that need it: `dist/` for those that run the compiled CLI (only when a source
 * changed since the last build), the Worker bundle for those that run it in workerd.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureRedisServer();
  const redis = await startDedicatedRedis();
  project.provide('redisUrl', redis.url);

  let dist: Promise<unknown> | undefined;
  const bundles = mkdtempSync(join(tmpdir(), 'flowgate-bundles-'));
  let bundle: { startedAt: number; done: Promise<{ dir: string; output: string }> } | undefined;
  const worker = () => {
    if (!bundle || sourcesChangedAt() > bundle.startedAt) {
      const startedAt = Date.now();
      const dir = mkdtempSync(join(bundles, 'worker-'));
      bundle = { startedAt, done: bundleWorker(dir).then((output) => ({ dir, output })) };
      bundle.done.catch(() => (bundle = undefined));
    }
    return bundle.done;
  };
  const builder = createServer((req, res) => {
    req.resume();
    const reply = (work: Promise<unknown>, body: (value: unknown) => string) =>
      work.then(
        (value) => res.end(body(value)),
        (error: unknown) => {
          res.statusCode = 500;
          res.end(failure(error));
        },
      );
    if (req.url === '/dist') {
      dist ??= buildDistIfStale().finally(() => (dist = undefined));
      return void reply(dist, () => 'ok');
    }
    if (req.url === '/worker') return void reply(worker(), (value) => JSON.stringify(value));
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => builder.listen(0, '127.0.0.1', resolve));
  project.provide('builder', `http://127.0.0.1:${(builder.address() as AddressInfo).port}`);

  return async () => {
    builder.closeAllConnections();
    await new Promise<void>((resolve) => builder.close(() => resolve()));
    rmSync(bundles, { recursive: true, force: true });
    await redis.stop();
  };
}
