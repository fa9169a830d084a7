import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import type { WorkerBuild } from './build-worker.js';

export interface WorkerdGateway {
  url: string;
  mf: Miniflare;
  /**
   * Sends a request to a second isolate running the same bundle with the same bindings and the same
   * Durable Objects (only with `isolates: 2`): what two Cloudflare isolates sharing the objects see.
   */
  second(path: string, init?: RequestInit): Promise<Response>;
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
export interface WorkerdOptions {
  /** Bind `RECORDS` (the records Durable Object); true unless a test checks the fallback without it. */
  records?: boolean;
  /** 2 starts a second isolate that shares the first one's Durable Objects. */
  isolates?: 1 | 2;
}

export async function startWorkerd(build: WorkerBuild, bindings: Record<string, string>, options: WorkerdOptions = {}): Promise<WorkerdGateway> {
  const { records = true, isolates = 1 } = options;
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
  const worker = { modules: true, scriptPath: build.scriptPath, modulesRoot: build.dir, compatibilityDate: build.compatibilityDate, bindings } as const;
  const objects = { RATE_LIMITER: 'FlowgateRateLimiter', ...(records ? { RECORDS: 'FlowgateRecords' } : {}) };
  const shared = Object.fromEntries(Object.entries(objects).map(([binding, className]) => [binding, { className, scriptName: 'flowgate' }]));
  const mf = new Miniflare({
    workers: [
      { name: 'flowgate', ...worker, durableObjects: objects },
      ...(isolates === 2 ? [{ name: 'second', ...worker, durableObjects: shared }] : []),
    ],
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
    async second(path, init) {
      if (isolates !== 2) throw new Error('started with one isolate');
      const fetcher = await mf.getWorker('second');
      return (await fetcher.fetch(new URL(path, url).href, init as never)) as unknown as Response;
    },
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
