import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildDistIfStale } from './helpers/dist.js';
import { startDedicatedRedis } from './helpers/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the suite's own redis-server. */
    redisUrl: string;
    /** POST here to have `dist/` built when it is stale (see helpers/dist.ts). */
    distBuilder: string;
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

/**
 * Once per run: a private `redis-server` on a free port for every test that needs Redis (the suite never
 * touches a Redis it did not start), and a build service that compiles `dist/` for the tests that run
 * the compiled CLI, only when one asks and only when a source changed since the last build.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureRedisServer();
  const redis = await startDedicatedRedis();
  project.provide('redisUrl', redis.url);

  let building: Promise<unknown> | undefined;
  const builder = createServer((req, res) => {
    building ??= buildDistIfStale().finally(() => (building = undefined));
    building.then(
      () => res.end('ok'),
      (error: unknown) => {
        res.statusCode = 500;
        const output = error as { stdout?: string; stderr?: string; message?: string };
        res.end(`${output.stdout ?? ''}${output.stderr ?? ''}` || String(output.message));
      },
    );
    req.resume();
  });
  await new Promise<void>((resolve) => builder.listen(0, '127.0.0.1', resolve));
  project.provide('distBuilder', `http://127.0.0.1:${(builder.address() as AddressInfo).port}/`);

  return async () => {
    builder.closeAllConnections();
    await new Promise<void>((resolve) => builder.close(() => resolve()));
    await redis.stop();
  };
}
