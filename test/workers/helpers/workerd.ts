import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import type { WorkerBuild } from './build-worker.js';

export interface WorkerdGateway {
  url: string;
  mf: Miniflare;
  /** Every line the Worker wrote to stdout/stderr (its JSON log lines among them). */
  output: string[];
  /** The Worker's JSON log lines. */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Runs the built Worker in the real workerd runtime through Miniflare, listening on a loopback
 * port, so tests reach it over HTTP exactly as a client would.
 */
export async function startWorkerd(build: WorkerBuild, bindings: Record<string, string>): Promise<WorkerdGateway> {
  const output: string[] = [];
  const collect = (stream: Readable) => {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      output.push(...lines.filter(Boolean));
    });
  };
  const mf = new Miniflare({
    modules: true,
    scriptPath: build.scriptPath,
    modulesRoot: build.dir,
    compatibilityDate: build.compatibilityDate,
    bindings,
    durableObjects: { RATE_LIMITER: 'FlowgateRateLimiter' },
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      collect(stdout);
      collect(stderr);
    },
  });
  let url: string;
  try {
    url = (await mf.ready).origin;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw new Error(`workerd did not start:\n${output.join('\n')}`, { cause: error });
  }
  return {
    url,
    mf,
    output,
    logs: () =>
      output.flatMap((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return parsed && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
    close: () => mf.dispose(),
  };
}
