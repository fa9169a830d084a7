/** `mode: ack`: 202 at once, the run in the background, the outcome at GET /executions/{name}. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { manualClock } from '../../src/lib/clock.js';
import { memoryRecordStore } from '../../src/records/stores/memory.js';
import type { RecordStore } from '../../src/records/types.js';
import { gate } from '../helpers/gate.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { send } from '../helpers/post.js';
import { inProcessUpstream, startUpstreamStub, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef0';
const OPS = 'ops-key-0123456789abcdef00';

const config = (stubUrl: string) => ({
  upstream: { endpoint: stubUrl, credentials: TEST_CREDENTIALS, timeout: '10s' },
  callers: { alice: { apiKeys: [ALICE] }, bob: { apiKeys: [BOB] }, ops: { apiKeys: [OPS], admin: true } },
  flows: {
    report: { flowName: 'build_report', mode: 'ack', errors: { NoData: 404 } },
    'report-once': { flowName: 'build_report', mode: 'ack', idempotency: { ttl: '1h' } },
    'public-report': { flowName: 'build_report', mode: 'ack', access: 'public' },
  },
});

describe('ack mode', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(Date.UTC(2026, 0, 1));
  const records = memoryRecordStore({ clock, maxSize: 1024 * 1024 });

  beforeAll(async () => {
    stub = inProcessUpstream();
    gw = inProcessGateway(config(stub.url), { clock, records });
  });
  afterEach(() => stub.respond((call) => succeeded({ report: JSON.parse(call.form.Input ?? '{}') }, call)));
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const start = (body: string, apiKey = ALICE, flow = 'report', headers: Record<string, string> = {}) =>
    gw.send(`${gw.url}/flows/${flow}/run`, { body, headers: { 'x-api-key': apiKey, ...headers } });
  /** `null` asks anonymously. */
  const status = (name: string, apiKey: string | null = ALICE) => gw.send(`${gw.url}/executions/${name}`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });

  it('answers 202 while the flow is still running, then reports the outcome', async () => {
    // The flow runs until the test lets it finish.
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ report: 'done', input: JSON.parse(call.form.Input ?? '{}') }, call);
    });
    const marker = randomUUID();
    const before = stub.calls.length;
    const accepted = await start(JSON.stringify({ marker }));
    expect(accepted.status).toBe(202);
    // The 202 came back while the run was held at the upstream: it does not wait for the flow. (How fast it
    // comes is measured in bench/, not here.)
    await stub.received(before + 1);
    expect(stub.calls.at(-1)!.form.Input).toContain(marker);
    expect((await status(accepted.json!.ExecutionName as string)).json!.Status).toBe('Running');
    const name = accepted.json!.ExecutionName as string;
    expect(accepted.json).toEqual({ RequestId: accepted.headers.get('x-request-id'), ExecutionName: name, Status: 'Running', Location: `/executions/${name}` });
    expect(accepted.headers.get('location')).toBe(`/executions/${name}`);
    expect(accepted.headers.get('x-execution-name')).toBe(name);
    expect(name).toMatch(/^fg_/);

    const running = await status(name);
    expect(running.status).toBe(200);
    expect(running.json).toMatchObject({ ExecutionName: name, Flow: 'report', Status: 'Running' });
    expect(running.headers.get('retry-after')).toBe('1');
    expect(running.headers.get('cache-control')).toBe('no-store');

    upstream.open();
    await gw.drain();
    const done = await status(name);
    expect(done.json).toMatchObject({ Status: 'Succeeded', Result: { StatusCode: 200, Body: { report: 'done', input: { marker } } } });
    expect(done.json!.UpstreamExecutionName).toMatch(new RegExp(`^${name}:`));
    const finished = () => gw.logs.find((l) => l.msg === 'background execution finished' && l.requestId === accepted.json!.RequestId);
    expect(finished()).toMatchObject({ status: 200, executionStatus: 'Succeeded', flow: 'report', caller: 'alice' });
  });

  it('a failed execution is reported as Failed with the status and body the sync route would give', async () => {
    stub.respond((c) => ({
      json: { ...(succeeded({}, c).json as object), Status: 'Failed', ErrorCode: 'NoData', ErrorMessage: 'nothing for that day', Output: undefined },
    }));
    const accepted = await start('{"day":"2026-01-01"}');
    const name = accepted.json!.ExecutionName as string;
    await gw.drain();
    expect((await status(name)).json).toMatchObject({
      Status: 'Failed',
      Result: { StatusCode: 404, Body: { Code: 'NoData', Message: 'nothing for that day' } },
    });
  });

  it('the outcome is readable by the caller that started it and by admins (naming the caller), and by nobody else', async () => {
    const name = (await start('{}')).json!.ExecutionName as string;
    expect((await status(name, ALICE)).status).toBe(200);
    expect((await status(`${name}?caller=alice`, ALICE)).status).toBe(200);
    expect((await status(`${name}?caller=alice`, OPS)).json).toMatchObject({ ExecutionName: name, Flow: 'report' });
    // Names are per caller: without ?caller an admin reads its own executions, and has none of that name.
    for (const [path, key] of [
      [name, OPS],
      [name, BOB],
      [name, null],
      [`${name}?caller=alice`, BOB],
      [`${name}?caller=alice`, null],
      [`${name}?caller=bob`, OPS],
    ] as const) {
      const refused = await status(path, key);
      expect(refused.status, `${path} as ${key}`).toBe(404);
      expect(refused.json).toMatchObject({ Code: 'ExecutionNotExists', Message: `Execution ${name} does not exist.` });
    }
    // Only an admin is told that a ?caller is malformed; anyone else gets the 404 of an unknown name, whatever its value.
    for (const bad of ['', 'x'.repeat(513)]) {
      expect((await status(`${name}?caller=${bad}`, OPS)).json).toMatchObject({ Code: 'InvalidArgument' });
      for (const key of [ALICE, BOB, null]) {
        const refused = await status(`${name}?caller=${bad}`, key);
        expect(refused.status, `?caller=${bad.slice(0, 5)} as ${key}`).toBe(404);
        expect(refused.json).toMatchObject({ Code: 'ExecutionNotExists', Message: `Execution ${name} does not exist.` });
      }
    }
    expect((await status('no_such_execution')).status).toBe(404);
    expect((await status('bad%20name')).status).toBe(404);
    expect((await status(name, 'not-a-known-key-0123456789')).status).toBe(401);
  });

  it('X-Execution-Name names the execution; reusing a name is a 409 and runs nothing', async () => {
    const name = `order_${randomUUID().replace(/-/g, '')}`;
    const accepted = await start('{}', ALICE, 'report', { 'x-execution-name': name });
    expect(accepted.json!.ExecutionName).toBe(name);
    await gw.drain();
    const before = stub.calls.length;
    const reused = await start('{}', ALICE, 'report', { 'x-execution-name': name });
    expect(reused.status).toBe(409);
    expect(reused.json).toMatchObject({ Code: 'Conflict' });
    expect(stub.calls.length).toBe(before);
  });

  it('with Idempotency-Key, a retried start is acknowledged with the same execution and runs once', async () => {
    // The run goes on until both starts have been answered.
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({}, call);
    });
    const key = randomUUID();
    const body = JSON.stringify({ marker: key });
    const first = await start(body, ALICE, 'report-once', { 'idempotency-key': key });
    const second = await start(body, ALICE, 'report-once', { 'idempotency-key': key });
    expect(second.status).toBe(202);
    expect(second.json!.ExecutionName).toBe(first.json!.ExecutionName);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    upstream.open();
    await gw.drain();
    expect((await status(first.json!.ExecutionName as string)).json!.Status).toBe('Succeeded');
    const later = await start(body, ALICE, 'report-once', { 'idempotency-key': key });
    expect(later.json).toMatchObject({ ExecutionName: first.json!.ExecutionName, Status: 'Succeeded' });
    expect(stub.calls.filter((c) => c.form.Input?.includes(key))).toHaveLength(1);
  });
});

describe('ack mode: a run whose process died', () => {
  it('is reported as Unknown once its lease has passed', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const stub = inProcessUpstream();
    const gw = inProcessGateway(config(stub.url), { clock, records: memoryRecordStore({ clock, maxSize: 1024 * 1024 }) });
    const status = (name: string) => gw.send(`${gw.url}/executions/${name}`, { headers: { 'x-api-key': ALICE } });
    try {
      // The run never ends, as if the process running it had died: its record stays Running until the lease passes.
      stub.respond(() => ({ hang: true }));
      const name = (await gw.send(`${gw.url}/flows/report/run`, { body: '{}', headers: { 'x-api-key': ALICE } })).json!.ExecutionName as string;
      expect((await status(name)).json!.Status).toBe('Running');
      clock.advance(10_000 + 30_000 + 1);
      expect((await status(name)).json!.Status).toBe('Unknown');
    } finally {
      // The stub going away ends the hung call, so the gateway has nothing left to wait for.
      await stub.close();
      await gw.close();
    }
  });
});

describe('ack mode over a socket', () => {
  let stub: UpstreamStub;
  let gw: TestGateway;

  beforeAll(async () => {
    stub = await startUpstreamStub();
    gw = await startGateway(config(stub.url));
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const status = (name: string) => send(`${gw.url}/executions/${name}`, { headers: { 'x-api-key': ALICE } });

  it('the background run survives the client hanging up right after the 202', async () => {
    // The run finishes only once the client has gone.
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ survived: true }, call);
    });
    const { port } = new URL(gw.url);
    const name = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/flows/report/run',
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'x-api-key': ALICE },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => {
            req.destroy();
            res.socket?.destroy();
            resolve(JSON.parse(text).ExecutionName);
          });
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    upstream.open();
    await gw.drain();
    expect((await status(name)).json).toMatchObject({ Status: 'Succeeded', Result: { Body: { survived: true } } });
  });
});

describe('ack mode: execution names are per caller', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(Date.UTC(2026, 0, 1));
  /** Holds the final write of Idempotency-Key records while `hold` is set, to look inside the in-flight window. */
  let hold: Promise<void> | undefined;
  let held: (() => void) | undefined;
  const inner = memoryRecordStore({ clock, maxSize: 1024 * 1024 });
  const records: RecordStore = {
    ...inner,
    async complete(key, token, value, ttlMs) {
      if (hold && key.startsWith('idem:') && JSON.parse(value).state === 'done') {
        held?.();
        await hold;
      }
      return inner.complete(key, token, value, ttlMs);
    },
  };

  beforeAll(() => {
    stub = inProcessUpstream();
    stub.respond((call) => succeeded({ input: JSON.parse(call.form.Input ?? '{}') }, call));
    gw = inProcessGateway(config(stub.url), { clock, records });
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const start = (apiKey: string | null, headers: Record<string, string>, body = '{}', flow = 'report') =>
    gw.send(`${gw.url}/flows/${flow}/run`, { body, headers: { ...(apiKey ? { 'x-api-key': apiKey } : {}), ...headers } });
  const status = (name: string, apiKey: string | null) => gw.send(`${gw.url}/executions/${name}`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });
  /** Once every background run has ended, the execution is no longer Running. */
  const settled = async (name: string, apiKey: string) => {
    await gw.drain();
    expect((await status(name, apiKey)).json!.Status).not.toBe('Running');
  };
  const unique = () => randomUUID().slice(0, 8);

  it('caller B is not refused because caller A used a request id that differs only in punctuation', async () => {
    const id = unique();
    const a = await start(ALICE, { 'x-request-id': `order.${id}` }, '{"who":"alice"}');
    expect(a.status).toBe(202);
    // Before: both ids became fg_order_<id>, and B got 409 for a name it never chose.
    const b = await start(BOB, { 'x-request-id': `order:${id}` }, '{"who":"bob"}');
    expect(b.status).toBe(202);
    expect(b.json!.ExecutionName).not.toBe(a.json!.ExecutionName);
    await settled(a.json!.ExecutionName as string, ALICE);
    await settled(b.json!.ExecutionName as string, BOB);
    expect((await status(a.json!.ExecutionName as string, ALICE)).json).toMatchObject({ Result: { Body: { input: { who: 'alice' } } } });
    expect((await status(b.json!.ExecutionName as string, BOB)).json).toMatchObject({ Result: { Body: { input: { who: 'bob' } } } });
  });

  it('the same request id, or the same chosen name, from two callers gives each caller its own execution', async () => {
    for (const headers of [{ 'x-request-id': `same.${unique()}` }, { 'x-execution-name': `nightly_${unique()}` }] as Record<string, string>[]) {
      const a = await start(ALICE, headers, '{"who":"alice"}');
      const b = await start(BOB, headers, '{"who":"bob"}');
      expect([a.status, b.status]).toEqual([202, 202]);
      const name = a.json!.ExecutionName as string;
      expect(b.json!.ExecutionName).toBe(name);
      await settled(name, ALICE);
      await settled(name, BOB);
      // One name, two records: each caller reads its own, and an admin picks one with ?caller.
      expect((await status(name, ALICE)).json).toMatchObject({ Result: { Body: { input: { who: 'alice' } } } });
      expect((await status(name, BOB)).json).toMatchObject({ Result: { Body: { input: { who: 'bob' } } } });
      expect((await status(`${name}?caller=bob`, OPS)).json).toMatchObject({ Result: { Body: { input: { who: 'bob' } } } });
      expect((await status(`${name}?caller=alice`, OPS)).json).toMatchObject({ Result: { Body: { input: { who: 'alice' } } } });
    }
  });

  it('a request that chose no name is never refused: the same X-Request-Id twice gets a fresh name', async () => {
    const id = `retry.${unique()}`;
    const first = await start(ALICE, { 'x-request-id': id }, '{"n":1}');
    const second = await start(ALICE, { 'x-request-id': id }, '{"n":2}');
    expect([first.status, second.status]).toEqual([202, 202]);
    const [one, two] = [first.json!.ExecutionName as string, second.json!.ExecutionName as string];
    expect(one).toBe(`fg_retry_d${id.slice(6)}`);
    expect(two).not.toBe(one);
    expect(two).toMatch(/^fg_[0-9a-f-]{36}$/);
    expect(second.headers.get('location')).toBe(`/executions/${two}`);
    expect(second.headers.get('x-execution-name')).toBe(two);
    expect(second.json!.RequestId).toBe(id);
    await settled(one, ALICE);
    await settled(two, ALICE);
    expect((await status(one, ALICE)).json).toMatchObject({ Result: { Body: { input: { n: 1 } } } });
    const fresh = (await status(two, ALICE)).json!;
    expect(fresh).toMatchObject({ Result: { Body: { input: { n: 2 } } } });
    // CloudFlow ran it under the fresh name too.
    expect(fresh.UpstreamExecutionName).toMatch(new RegExp(`^${two}:`));
    // A name the request chose stays its own: reusing it is still 409.
    const chosen = await start(ALICE, { 'x-request-id': id, 'x-execution-name': one });
    expect(chosen.status).toBe(409);
  });

  it("an anonymous caller's execution is its own, and an admin reads it by the caller id from the log", async () => {
    const accepted = await start(null, {}, '{}', 'public-report');
    expect(accepted.status).toBe(202);
    const name = accepted.json!.ExecutionName as string;
    const callerId = gw.logs.find((l) => l.requestId === accepted.json!.RequestId)!.caller as string;
    expect(callerId).toMatch(/^ip:/);
    expect((await status(name, null)).status).toBe(200);
    expect((await status(name, ALICE)).status).toBe(404);
    expect((await status(name, OPS)).status).toBe(404);
    expect((await status(`${name}?caller=${encodeURIComponent(callerId)}`, OPS)).json).toMatchObject({ ExecutionName: name, Flow: 'public-report' });
    expect((await status(`${name}?caller=${encodeURIComponent(callerId)}`, ALICE)).status).toBe(404);
  });

  it('with Idempotency-Key, two callers with the same key and request id each run once; replays report their own execution', async () => {
    const key = randomUUID();
    const headers = { 'idempotency-key': key, 'x-request-id': `job.${unique()}` };
    const a = await start(ALICE, headers, JSON.stringify({ key, who: 'alice' }), 'report-once');
    const b = await start(BOB, headers, JSON.stringify({ key, who: 'bob' }), 'report-once');
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    const name = a.json!.ExecutionName as string;
    await settled(name, ALICE);
    await settled(name, BOB);
    for (const [apiKey, who] of [
      [ALICE, 'alice'],
      [BOB, 'bob'],
    ] as const) {
      const replay = await start(apiKey, headers, JSON.stringify({ key, who }), 'report-once');
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.json).toMatchObject({ ExecutionName: name, Status: 'Succeeded' });
    }
    expect(stub.calls.filter((c) => c.form.Input?.includes(key))).toHaveLength(2);
  });

  it('with Idempotency-Key, a fresh name is what retries see, while the first request is in flight and after', async () => {
    const id = `dup.${unique()}`;
    expect((await start(ALICE, { 'x-request-id': id }, '{}', 'report-once')).status).toBe(202);
    const key = randomUUID();
    const body = JSON.stringify({ key });
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (held = resolve));
    const first = start(ALICE, { 'x-request-id': id, 'idempotency-key': key }, body, 'report-once');
    await Promise.race([reached, first.then((a) => Promise.reject(new Error(`answered ${a.status} before its record was final`)))]);
    // The acknowledgement is built but its record not yet final: a retry now is answered from the in-flight record.
    const during = await start(ALICE, { 'idempotency-key': key }, body, 'report-once');
    hold = undefined;
    release();
    const answer = await first;
    const fresh = answer.json!.ExecutionName as string;
    expect(fresh).not.toBe(`fg_dup_d${id.slice(4)}`);
    expect(during.json).toMatchObject({ ExecutionName: fresh, Status: 'Running' });
    await settled(fresh, ALICE);
    const after = await start(ALICE, { 'idempotency-key': key }, body, 'report-once');
    expect(after.json).toMatchObject({ ExecutionName: fresh, Status: 'Succeeded' });
    expect(stub.calls.filter((c) => c.form.Input?.includes(key))).toHaveLength(1);
  });
});

describe('ack mode and shutdown', () => {
  it('closing the gateway (SIGTERM path) waits for the background run and records its outcome', async () => {
    const stub = await startUpstreamStub();
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ finished: true }, call);
    });
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const records = memoryRecordStore({ clock, maxSize: 1024 * 1024 });
    const gw = await startGateway(config(stub.url), { records, clock });
    const accepted = await send(`${gw.url}/flows/report/run`, { body: '{}', headers: { 'x-api-key': ALICE } });
    expect(accepted.status).toBe(202);
    const name = accepted.json!.ExecutionName as string;
    expect(JSON.parse((await records.get(`exec:alice:${name}`))!).status).toBe('Running');
    await stub.received(1);
    // The run is at the upstream: start the shutdown, then let the run finish while it drains.
    const closed = gw.close();
    upstream.open();
    await closed;
    const recorded = JSON.parse((await records.get(`exec:alice:${name}`))!);
    expect(recorded).toMatchObject({ status: 'Succeeded', response: { status: 200 } });
    expect(JSON.parse(recorded.response.body)).toEqual({ finished: true });
    await stub.close();
  });
});
