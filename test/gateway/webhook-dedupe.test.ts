/**
 * Delivery de-duplication: a delivery id runs at most one execution, however many redeliveries arrive and
 * however they interleave — in one process (memory store) and across processes sharing Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Redis } from 'ioredis';
import { manualClock } from '../../src/lib/clock.js';
import { gate, settledCount, type Gate } from '../helpers/gate.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { send } from '../helpers/post.js';
import { spawnCli, type Spawned } from '../helpers/spawn.js';
import { inProcessUpstream, startUpstreamStub, succeeded, TEST_CREDENTIALS, upstreamError, type UpstreamStub } from '../helpers/upstream-stub.js';
import { NOW_MS, NOW_SEC, githubHeaders, signSlack, signStandardWebhooks, signStripe } from '../webhooks/support.js';

/** The suite's own redis-server (test/global-setup.ts). */
const REDIS_URL = inject('redisUrl');

const GH_SECRET = 'gh-hook-secret-dedupe';
const STRIPE_SECRET = 'whsec_stripe_dedupe_0123456789';
const SLACK_SECRET = 'slack-signing-secret-dedupe';
const SW_SECRET = `whsec_${btoa('standard-webhooks-dedupe')}`;

async function githubDelivery(body: string, deliveryId: string): Promise<Headers> {
  const headers = githubHeaders(await octokitSign(GH_SECRET, body), deliveryId);
  headers.set('content-type', 'application/json');
  return headers;
}

/** Runs the flow once `upstream` is opened. */
const heldUntil = (upstream: Gate) => async (call: Parameters<Parameters<UpstreamStub['respond']>[0]>[0]) => {
  await upstream.opened;
  return succeeded({ ran: JSON.parse(call.form.Input ?? '{}') }, call);
};

describe('delivery de-duplication in one process (memory store)', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(NOW_MS);
  const send = (url: string, init: { body: string; headers: Headers }) => gw.send(url, init);

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '5s' },
        flows: {
          github: { webhook: { provider: 'github', secrets: [GH_SECRET], dedupeTtl: '1h' } },
          'github-ack': { webhook: { provider: 'github', secrets: [GH_SECRET] }, mode: 'ack' },
          stripe: { webhook: { provider: 'stripe', secrets: [STRIPE_SECRET] } },
          slack: { webhook: { provider: 'slack', secrets: [SLACK_SECRET] } },
          standard: { webhook: { provider: 'standard-webhooks', secrets: [SW_SECRET] } },
        },
      },
      { clock },
    );
  });
  afterEach(() => {
    stub.respond((call) => succeeded({ ran: JSON.parse(call.form.Input ?? '{}') }, call));
    clock.set(NOW_MS);
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const callsFor = (id: string) => stub.calls.filter((call) => call.form.Input?.includes(id)).length;

  it('20 simultaneous redeliveries make exactly one execution; the others get 409 while it runs', async () => {
    // The one run goes on until the 19 others have been answered.
    const upstream = gate();
    stub.respond(heldUntil(upstream));
    const id = randomUUID();
    const body = JSON.stringify({ ref: 'refs/heads/main', marker: id });
    const headers = await githubDelivery(body, id);
    const pending = Array.from({ length: 20 }, () => send(`${gw.url}/flows/github/run`, { body, headers }));
    await settledCount(pending, 19);
    upstream.open();
    const answers = await Promise.all(pending);
    expect(callsFor(id)).toBe(1);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(answers.find((a) => a.status === 409)!.json).toMatchObject({ Code: 'Conflict', Message: 'This delivery is already being processed.' });
  });

  it('a redelivery of a finished delivery gets the stored answer, marked as replayed', async () => {
    const id = randomUUID();
    const body = JSON.stringify({ marker: id });
    const first = await send(`${gw.url}/flows/github/run`, { body, headers: await githubDelivery(body, id) });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await send(`${gw.url}/flows/github/run`, { body, headers: await githubDelivery(body, id) });
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-execution-name')).toBe(first.headers.get('x-execution-name'));
    expect(again.headers.get('content-type')).toBe('application/json');
    expect(again.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(callsFor(id)).toBe(1);
  });

  it('a flow failure is stored and replayed; an upstream outage is released so the redelivery runs', async () => {
    const failed = randomUUID();
    stub.respond((call) => ({
      json: { ...(succeeded({}, call).json as object), Status: 'Failed', ErrorCode: 'BadPush', ErrorMessage: 'nope', Output: undefined },
    }));
    const body = JSON.stringify({ marker: failed });
    const first = await send(`${gw.url}/flows/github/run`, { body, headers: await githubDelivery(body, failed) });
    expect(first.status).toBe(500);
    const again = await send(`${gw.url}/flows/github/run`, { body, headers: await githubDelivery(body, failed) });
    expect(again.status).toBe(500);
    expect(again.json).toMatchObject({ Code: 'BadPush' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(callsFor(failed)).toBe(1);

    const outage = randomUUID();
    stub.respond(() => upstreamError(503, 'ServiceUnavailable'));
    const body2 = JSON.stringify({ marker: outage });
    expect((await send(`${gw.url}/flows/github/run`, { body: body2, headers: await githubDelivery(body2, outage) })).status).toBe(502);
    stub.respond((call) => succeeded({ ok: true }, call));
    const retried = await send(`${gw.url}/flows/github/run`, { body: body2, headers: await githubDelivery(body2, outage) });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(callsFor(outage)).toBe(2);
  });

  it('a delivery id is forgotten after dedupeTtl (injected clock)', async () => {
    const id = randomUUID();
    const body = JSON.stringify({ marker: id });
    await send(`${gw.url}/flows/github/run`, { body, headers: await githubDelivery(body, id) });
    clock.advance(3_599_000);
    expect((await send(`${gw.url}/flows/github/run`, { body, headers: await githubDelivery(body, id) })).headers.get('idempotent-replayed')).toBe('true');
    clock.advance(2_000);
    expect((await send(`${gw.url}/flows/github/run`, { body, headers: await githubDelivery(body, id) })).headers.get('idempotent-replayed')).toBeNull();
    expect(callsFor(id)).toBe(2);
  });

  it('Stripe: a retry re-signed with a new timestamp is recognised by the event id in the body', async () => {
    const id = `evt_${randomUUID().replace(/-/g, '')}`;
    const body = JSON.stringify({ id, type: 'invoice.paid' });
    const h1 = signStripe(body, STRIPE_SECRET, NOW_SEC);
    const h2 = signStripe(body, STRIPE_SECRET, NOW_SEC + 60);
    h1.set('content-type', 'application/json');
    h2.set('content-type', 'application/json');
    expect((await send(`${gw.url}/flows/stripe/run`, { body, headers: h1 })).status).toBe(200);
    clock.advance(60_000);
    const again = await send(`${gw.url}/flows/stripe/run`, { body, headers: h2 });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(callsFor(id)).toBe(1);
  });

  it('Slack: an Events API retry (X-Slack-Retry-Num) is recognised by event_id; Standard Webhooks by webhook-id', async () => {
    const eventId = `Ev${randomUUID().replace(/-/g, '')}`;
    const body = JSON.stringify({ type: 'event_callback', event_id: eventId, event: { type: 'message' } });
    const h1 = signSlack(body, SLACK_SECRET, NOW_SEC);
    const h2 = signSlack(body, SLACK_SECRET, NOW_SEC + 3);
    h2.set('x-slack-retry-num', '1');
    h2.set('x-slack-retry-reason', 'http_timeout');
    for (const h of [h1, h2]) h.set('content-type', 'application/json');
    expect((await send(`${gw.url}/flows/slack/run`, { body, headers: h1 })).status).toBe(200);
    expect((await send(`${gw.url}/flows/slack/run`, { body, headers: h2 })).headers.get('idempotent-replayed')).toBe('true');
    expect(callsFor(eventId)).toBe(1);

    const msgId = `msg_${randomUUID()}`;
    const swBody = JSON.stringify({ type: 'user.created', marker: msgId });
    const sw = () => {
      const h = signStandardWebhooks(swBody, SW_SECRET, NOW_SEC, msgId);
      h.set('content-type', 'application/json');
      return h;
    };
    expect((await send(`${gw.url}/flows/standard/run`, { body: swBody, headers: sw() })).status).toBe(200);
    expect((await send(`${gw.url}/flows/standard/run`, { body: swBody, headers: sw() })).headers.get('idempotent-replayed')).toBe('true');
    expect(callsFor(msgId)).toBe(1);
  });

  it('ack mode: 20 simultaneous redeliveries make one execution and every one of them is acknowledged with the same name', async () => {
    // The run goes on until every delivery has been acknowledged.
    const upstream = gate();
    stub.respond(heldUntil(upstream));
    const id = randomUUID();
    const body = JSON.stringify({ marker: id });
    const headers = await githubDelivery(body, id);
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(`${gw.url}/flows/github-ack/run`, { body, headers })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    const names = new Set(answers.map((a) => a.json!.ExecutionName));
    expect(names.size).toBe(1);
    // Every claim has been answered and every background run has ended: exactly one ran.
    upstream.open();
    await gw.drain();
    expect(callsFor(id)).toBe(1);
  });
});

describe('delivery de-duplication across two gateway processes sharing Redis', () => {
  let stub: UpstreamStub;
  let redis: Redis;
  const prefix = `fgtest:${randomUUID()}:`;
  const gateways: Spawned[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    stub = await startUpstreamStub();
    redis = new Redis(REDIS_URL);
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-dedupe-'));
    const file = join(dir, 'flowgate.yaml');
    writeFileSync(
      file,
      [
        `upstream: { endpoint: "${stub.url}", timeout: 10s }`,
        `store: ${REDIS_URL}`,
        `storeOptions: { keyPrefix: "${prefix}", timeout: 1s, onError: closed }`,
        'server: { accessLog: false }',
        'flows:',
        `  github: { webhook: { provider: github, secrets: ["${GH_SECRET}"] } }`,
        `  github-ack: { webhook: { provider: github, secrets: ["${GH_SECRET}"] }, mode: ack }`,
      ].join('\n'),
    );
    for (let i = 0; i < 2; i++) {
      const cli = await spawnCli(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1'], {
        env: { ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret },
      });
      gateways.push(cli);
      urls.push((await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!);
    }
  });
  afterAll(async () => {
    for (const cli of gateways) {
      cli.child.kill('SIGTERM');
      await cli.exit();
    }
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await stub.close();
  });

  it('20 simultaneous redeliveries spread over both processes make exactly one execution', async () => {
    const upstream = gate();
    stub.respond(heldUntil(upstream));
    const id = randomUUID();
    const body = JSON.stringify({ marker: id });
    const headers = await githubDelivery(body, id);
    const pending = Array.from({ length: 20 }, (_, i) => send(`${urls[i % 2]}/flows/github/run`, { body, headers }));
    await settledCount(pending, 19);
    upstream.open();
    const answers = await Promise.all(pending);
    expect(stub.calls.filter((c) => c.form.Input?.includes(id))).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);

    // Finished: either process replays the stored answer.
    for (const url of urls) {
      const again = await send(`${url}/flows/github/run`, { body, headers });
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    }
    expect(stub.calls.filter((c) => c.form.Input?.includes(id))).toHaveLength(1);
    expect(await redis.exists(`${prefix}rec:dlv:github:${id}`)).toBe(1);
  });

  it('ack mode: the outcome recorded by one process is readable through the other, and SIGTERM drains a background run', async () => {
    const upstream = gate();
    stub.respond(heldUntil(upstream));
    const id = randomUUID();
    const body = JSON.stringify({ marker: id });
    const accepted = await send(`${urls[0]}/flows/github-ack/run`, { body, headers: await githubDelivery(body, id) });
    expect(accepted.status).toBe(202);
    const name = accepted.json!.ExecutionName as string;
    // The execution record exists at once; the run is still going when the first process is told to stop.
    const running = JSON.parse((await redis.get(`${prefix}rec:exec:webhook:github:${name}`))!);
    expect(running.status).toBe('Running');
    gateways[0]!.child.kill('SIGTERM');
    // The process is draining while the run is still held at the upstream; then the run may end.
    await gateways[0]!.waitFor(/draining requests in flight/);
    upstream.open();
    expect(await gateways[0]!.exit()).toBe(0);
    const finished = JSON.parse((await redis.get(`${prefix}rec:exec:webhook:github:${name}`))!);
    expect(finished).toMatchObject({ status: 'Succeeded', response: { status: 200 } });
    expect(JSON.parse(finished.response.body)).toEqual({ ran: { marker: id } });
    // A redelivery to the surviving process is acknowledged again, with the current status, and runs nothing.
    const again = await send(`${urls[1]}/flows/github-ack/run`, { body, headers: await githubDelivery(body, id) });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ ExecutionName: name, Status: 'Succeeded' });
    expect(stub.calls.filter((c) => c.form.Input?.includes(id))).toHaveLength(1);
  });
});
