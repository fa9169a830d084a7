import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import type { WorkerBuild } from './build-worker.js';
import { PROBE_WORKER, probeAt, type Probe } from './probe.js';

export interface WorkerdGateway {
  url: string;
  /**
   * The instance's Durable Objects and Cache API, reached over HTTP through a probe Worker. Miniflare's
   * own binding proxy is not exposed: it desynchronises under load before cloudflare/workers-sdk#15552
   * (see probe.ts).
   */
  probe: Probe;
  /**
   * Sends a request to a second isolate running the same bundle with the same bindings and the same
   * Durable Objects (only with `isolates: 2`): what two Cloudflare isolates sharing the objects see.
   */
  second(path: string, init?: RequestInit): Promise<Response>;
  /**
   * Sends a request through a client Worker that calls the gateway over a service binding and gives up
   * (aborts its call) as soon as a GET of `giveUpWhen` answers: what a client that disconnects does to
   * a request at the edge. Workerd run locally does not cancel a request when its HTTP client closes the
   * connection; a caller that drops its service-binding call cancels it (only with `client: true`).
   */
  throughClient(path: string, init: RequestInit, giveUpWhen: string): Promise<Response>;
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
  /** Start the client Worker behind `throughClient`. */
  client?: boolean;
  /**
   * An entry module written next to the bundle and run instead of it (it imports `./worker.js`), for a
   * Durable Object class with a test gate in front of the real one; `recordsClass` names that class.
   */
  entry?: { source: string; recordsClass?: string };
}

/** Forwards to the gateway and aborts the call once `x-give-up-when` answers; 499 then, like nginx's "client closed request". */
const CLIENT_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const giveUpWhen = request.headers.get('x-give-up-when');
    const headers = new Headers(request.headers);
    headers.delete('x-give-up-when');
    const controller = new AbortController();
    const init = { method: request.method, headers, signal: controller.signal };
    if (request.body) init.body = request.body;
    const answer = env.GATEWAY.fetch(new Request('http://gateway' + url.pathname + url.search, init));
    answer.catch(() => {});
    const gaveUp = fetch(giveUpWhen).then((res) => res.arrayBuffer()).then(() => null);
    const first = await Promise.race([answer, gaveUp]);
    if (first) return first;
    controller.abort();
    return new Response('client gave up', { status: 499 });
  },
};`;

export async function startWorkerd(build: WorkerBuild, bindings: Record<string, string>, options: WorkerdOptions = {}): Promise<WorkerdGateway> {
  const { records = true, isolates = 1, client = false, entry } = options;
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
  let code: { modules: true; scriptPath: string } | { modules: { type: 'ESModule'; path: string }[] } = { modules: true, scriptPath: build.scriptPath };
  if (entry) {
    const entryPath = join(build.dir, 'entry-under-test.js');
    await writeFile(entryPath, entry.source);
    // Listed rather than discovered: Miniflare's import scanner does not parse the minified bundle.
    code = {
      modules: [
        { type: 'ESModule', path: entryPath },
        { type: 'ESModule', path: build.scriptPath },
      ],
    };
  }
  const worker = { ...code, modulesRoot: build.dir, compatibilityDate: build.compatibilityDate, bindings };
  const objects = { RATE_LIMITER: 'FlowgateRateLimiter', ...(records ? { RECORDS: entry?.recordsClass ?? 'FlowgateRecords' } : {}) };
  const shared = Object.fromEntries(Object.entries(objects).map(([binding, className]) => [binding, { className, scriptName: 'flowgate' }]));
  const services = { ...(isolates === 2 ? { SECOND: 'second' } : {}), ...(client ? { CLIENT: 'client' } : {}) };
  const mf = new Miniflare({
    workers: [
      { name: 'flowgate', ...worker, durableObjects: objects },
      ...(isolates === 2 ? [{ name: 'second', ...worker, durableObjects: shared }] : []),
      ...(client
        ? [{ name: 'client', modules: true, script: CLIENT_WORKER, compatibilityDate: build.compatibilityDate, serviceBindings: { GATEWAY: 'flowgate' } }]
        : []),
      {
        name: 'probe',
        modules: true,
        script: PROBE_WORKER,
        compatibilityDate: build.compatibilityDate,
        durableObjects: shared,
        serviceBindings: services,
        // Its own loopback port, so the gateway's socket and routing stay as they are.
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
      },
    ],
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      collect(stdout);
      collect(stderr);
    },
  });
  let url: string;
  let probe: Probe;
  try {
    url = (await mf.ready).origin;
    probe = probeAt((await mf.unsafeGetDirectURL('probe')).origin);
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw new Error(`workerd did not start:\n${output.join('\n')}`, { cause: error });
  }
  return {
    url,
    probe,
    async second(path, init) {
      if (isolates !== 2) throw new Error('started with one isolate');
      return probe.fetchVia('SECOND', new URL(path, url).href, init);
    },
    async throughClient(path, init, giveUpWhen) {
      if (!client) throw new Error('started without the client Worker');
      const headers = new Headers(init.headers);
      headers.set('x-give-up-when', giveUpWhen);
      return probe.fetchVia('CLIENT', new URL(path, url).href, { ...init, headers });
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
