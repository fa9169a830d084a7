import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter, once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors } from 'undici';
import { createCloudFlowClient } from '../../src/cloudflow/client.js';
import { staticCredentials } from '../../src/cloudflow/credentials.js';
import { fetchTransport, type Transport, type UpstreamRequest } from '../../src/cloudflow/transport.js';
import { CloudFlowError } from '../../src/cloudflow/types.js';
import { undiciTransport, type PooledTransport } from '../../src/platform/node/transport.js';

// A loopback upstream whose behaviour each test picks by path: answer, hang before the headers, or
// send the headers and then stall the body. Deadlines here are real network timers (undici's and
// fetch's own), so they are short and every wait is bounded by one.
let server: Server;
let origin: string;
const held = new Set<ServerResponse>();
/** Emits `held` each time the server starts holding a request it will not answer. */
const arrivals = new EventEmitter();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/hang') {
        held.add(res);
        return void arrivals.emit('held');
      }
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"Status":');
        return void held.add(res);
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-acs-request-id': 'rid-1' });
      res.end(JSON.stringify({ RequestId: 'rid-1', Status: 'Succeeded', Name: 'e1', Output: '{}' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function call(path: string, timeoutMs: number, signal?: AbortSignal): UpstreamRequest {
  return {
    url: origin + path,
    method: 'POST',
    headers: { host: 'x', 'content-type': 'application/x-www-form-urlencoded' },
    body: new TextEncoder().encode('a=1'),
    timeoutMs,
    signal,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const transports: Array<[string, () => { transport: Transport; close(): Promise<void> }]> = [
  // Short deadlines get an exact timer of the transport's own...
  ['undici pool', () => undiciTransport(origin, { connections: 4 })],
  // ...long ones ride on undici's per-request timers; forcing that here keeps the waits short.
  ['undici pool on its own timers', () => undiciTransport(origin, { connections: 4, exactDeadlineBelowMs: 0 })],
  ['fetch', () => ({ transport: fetchTransport(), close: async () => {} })],
];

describe.each(transports)('%s transport deadline', (_name, make) => {
  let pooled: { transport: Transport; close(): Promise<void> };
  beforeAll(() => {
    pooled = make();
  });
  afterAll(() => pooled.close());

  it('answers within the deadline', async () => {
    const res = await pooled.transport(call('/ok', 5_000));
    expect(res.status).toBe(200);
    expect(res.header('X-Acs-Request-Id')).toBe('rid-1');
    expect(JSON.parse(await res.text())).toMatchObject({ Status: 'Succeeded' });
  });

  it('rejects with a TimeoutError when no headers come before the deadline', async () => {
    const started = Date.now();
    const error = await failure(pooled.transport(call('/hang', 150)));
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('no answer within 150 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    // Which timer ended it, rather than how long it took (a loaded machine may be late either way): the
    // transport's own exact timer, or undici's per-request one, whose error is kept as the cause.
    if (_name === 'undici pool on its own timers') expect(error.cause).toBeInstanceOf(errors.HeadersTimeoutError);
    else expect(error.cause).toBeUndefined();
  });

  it('rejects the body read with a TimeoutError when the body stalls', async () => {
    const res = await pooled.transport(call('/stall', 200));
    expect(res.status).toBe(200);
    expect((await failure(res.text())).name).toBe('TimeoutError');
  });

  it("rejects with the caller's cancellation, not a timeout", async () => {
    const controller = new AbortController();
    const arrived = once(arrivals, 'held');
    const pending = pooled.transport(call('/hang', 10_000, controller.signal));
    // The caller goes away once the call is at the upstream.
    await arrived;
    controller.abort(new Error('client went away'));
    const error = await failure(pending);
    expect(error.name).not.toBe('TimeoutError');
  });

  it('a signal that is already aborted never reaches the upstream', async () => {
    const error = await failure(pooled.transport(call('/ok', 5_000, AbortSignal.abort(new Error('gone')))));
    expect(error.name).not.toBe('TimeoutError');
  });
});

describe('undici pool transport with every connection busy', () => {
  let pooled: PooledTransport;
  beforeAll(() => {
    // Long deadlines would use undici's timers; a call that may queue must not.
    pooled = undiciTransport(origin, { connections: 1, exactDeadlineBelowMs: 0 });
  });
  afterAll(() => pooled.close());

  /**
   * Holds the only connection with a call that ends when the test releases it, or at its own deadline
   * 5 s away: a queued call that is still waiting then sees `ended()` true.
   */
  async function occupy() {
    const arrived = once(arrivals, 'held');
    const controller = new AbortController();
    let ended = false;
    const settled = pooled.transport(call('/hang', 5_000, controller.signal)).then(
      () => (ended = true),
      () => (ended = true),
    );
    await arrived;
    return {
      ended: () => ended,
      async release() {
        controller.abort(new Error('test done'));
        await settled;
      },
    };
  }

  it('a call queued behind a busy connection still ends at its own deadline', async () => {
    // undici's socket timers never start for the queued call, and acts on its signal only once it is
    // dequeued: only the transport's own timer can end it while the connection is still busy.
    const blocker = await occupy();
    const error = await failure(pooled.transport(call('/ok', 150)));
    expect(error.name).toBe('TimeoutError');
    expect(error.cause).toBeUndefined(); // the transport's own timer, not undici's
    expect(blocker.ended()).toBe(false);
    await blocker.release();
  });

  it('a queued call can be cancelled by its caller', async () => {
    // The only connection is busy: the next call waits in the queue.
    const blocker = await occupy();
    const controller = new AbortController();
    const pending = pooled.transport(call('/ok', 10_000, controller.signal));
    controller.abort(new Error('client went away'));
    expect((await failure(pending)).message).toBe('client went away');
    // Ended in the queue, not once the connection came free.
    expect(blocker.ended()).toBe(false);
    await blocker.release();
  });

  it('the connection is free again once the calls have ended', async () => {
    const res = await pooled.transport(call('/ok', 1_000));
    expect(JSON.parse(await res.text())).toMatchObject({ Status: 'Succeeded' });
  });
});

it('rejects bad options when built, not on a call', () => {
  expect(() => undiciTransport('http://127.0.0.1:1', { connections: 0 })).toThrow(/connections/);
  expect(() => undiciTransport('http://127.0.0.1:1', { connections: 2, exactDeadlineBelowMs: -1 })).toThrow(/exactDeadlineBelowMs/);
});

describe('client over a transport deadline', () => {
  it('maps the TimeoutError to a CloudFlowError of kind timeout, and a cancellation to aborted', async () => {
    const pooled = undiciTransport(origin, { connections: 2 });
    try {
      const client = createCloudFlowClient({
        endpoint: origin,
        credentials: staticCredentials({ accessKeyId: 'testid', accessKeySecret: 'testsecret' }),
        transport: pooled.transport,
      });
      // The client always posts to `/`; a transport that rewrites the URL points it at the hanging path.
      const hanging: Transport = (request) => pooled.transport({ ...request, url: origin + '/hang' });
      const viaHang = createCloudFlowClient({
        endpoint: origin,
        credentials: staticCredentials({ accessKeyId: 'testid', accessKeySecret: 'testsecret' }),
        transport: hanging,
      });
      const timeout = await failure(viaHang.startSyncExecution({ flowName: 'f', input: '{}' }, { timeoutMs: 120 }));
      expect(timeout).toBeInstanceOf(CloudFlowError);
      expect((timeout as CloudFlowError).kind).toBe('timeout');
      const aborted = await failure(
        viaHang.startSyncExecution({ flowName: 'f', input: '{}' }, { timeoutMs: 10_000, signal: AbortSignal.abort(new Error('gone')) }),
      );
      expect((aborted as CloudFlowError).kind).toBe('aborted');
      const ok = await client.startSyncExecution({ flowName: 'f', input: '{}' }, { timeoutMs: 1_000 });
      expect(ok.status).toBe('Succeeded');
    } finally {
      await pooled.close();
    }
  });
});
