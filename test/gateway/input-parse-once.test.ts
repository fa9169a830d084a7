/**
 * The body is checked (JSON, an object, within maxJsonDepth) on every request, but parsed into objects only when
 * something reads them: an `inputSchema`, or a provider whose delivery id is in the body. Elsewhere the parse was
 * the largest cost of a large request and its result went unread. The Input stays the bytes the caller sent.
 */
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { githubHeaders, NOW_MS, signStripe } from '../webhooks/support.js';

const GH_SECRET = 'gh-parse-once-secret';
const STRIPE_SECRET = 'whsec_parse_once';
// Big integers, odd spacing and a unicode escape: any re-serialization would change them.
const BODY = '{ "order": 12345678901234567890, "items": [ {"sku": "X1", "qty": 2} ], "note": "caf\\u00e9" }';

describe('the Input is parsed only when something reads it', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  let parsed: string[];

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
        flows: {
          plain: { access: 'public' },
          schema: { access: 'public', inputSchema: { type: 'object', required: ['order'], properties: { note: { type: 'string', maxLength: 3 } } } },
          github: { webhook: { provider: 'github', secrets: [GH_SECRET] } },
          stripe: { webhook: { provider: 'stripe', secrets: [STRIPE_SECRET] } },
        },
      },
      { clock: manualClock(NOW_MS) },
    );
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });
  // Records every text the gateway gives JSON.parse, so a parse of the body is seen wherever it happens (the config
  // restores spies after each test).
  beforeEach(() => {
    parsed = [];
    const parse = JSON.parse.bind(JSON);
    vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      // The stand-in upstream parses the Input it is sent; only the gateway's own parses count.
      if (!new Error().stack?.includes('test/helpers/')) parsed.push(text);
      return parse(text, reviver) as unknown;
    });
  });

  const post = (flow: string, body: string, headers: HeadersInit = { 'content-type': 'application/json' }) =>
    gw.send(`${gw.url}/flows/${flow}/run`, { body, headers });

  it('a flow without inputSchema sends the exact bytes and never parses them', async () => {
    const answer = await post('plain', BODY);
    expect(answer.status).toBe(200);
    expect(stub.calls.at(-1)!.form.Input).toBe(BODY);
    expect(parsed).not.toContain(BODY);
    // The spy sees the gateway's parses: the upstream's answer is one.
    expect(parsed.length).toBeGreaterThan(0);
  });

  it('sends raw non-ASCII as the same UTF-8, and drops only the leading byte order mark', async () => {
    const text = '{"name":"Zoë 😀 中文","note":"\ufeff inside stays"}';
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    const answer = await gw.send(`${gw.url}/flows/plain/run`, { body: bytes, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(200);
    expect(stub.calls.at(-1)!.form.Input).toBe(text);
  });

  it('a body of nothing but JSON whitespace is {}; a no-break space, an ideographic space or a second BOM is not JSON', async () => {
    const answer = await post('plain', ' \t\r\n');
    expect(answer.status).toBe(200);
    expect(stub.calls.at(-1)!.form.Input).toBe('{}');
    for (const blank of ['\u00a0', '\u3000', '\ufeff\ufeff', '\ufeff\u00a0']) {
      const refused = await post('plain', blank);
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({ Code: 'InvalidArgument', Message: 'Parameter error. The body is not valid JSON.' });
    }
  });

  it('a GitHub delivery (its id is a header) is not parsed either', async () => {
    const headers = githubHeaders(await octokitSign(GH_SECRET, BODY));
    headers.set('content-type', 'application/json');
    const answer = await post('github', BODY, headers);
    expect(answer.status).toBe(200);
    expect(stub.calls.at(-1)!.form.Input).toBe(BODY);
    expect(parsed).not.toContain(BODY);
  });

  it('an inputSchema reads the parsed value: a violation is still 400, and a match still sends the exact bytes', async () => {
    const bad = await post('schema', BODY);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ Code: 'InvalidArgument', Errors: [{ Pointer: '/note', Keyword: 'maxLength' }] });
    const body = BODY.replace('caf\\u00e9', 'ok');
    const good = await post('schema', body);
    expect(good.status).toBe(200);
    expect(stub.calls.at(-1)!.form.Input).toBe(body);
  });

  it('a Stripe event (its id is in the body) is parsed for that id, and a replay of the same event runs nothing', async () => {
    const event = '{"id": "evt_parse_once_1", "object": "event", "amount": 12345678901234567890}';
    const first = await post('stripe', event, { 'content-type': 'application/json', ...Object.fromEntries(signStripe(event, STRIPE_SECRET)) });
    expect(first.status).toBe(200);
    expect(parsed).toContain(event);
    const calls = stub.calls.length;
    const replay = await post('stripe', event, { 'content-type': 'application/json', ...Object.fromEntries(signStripe(event, STRIPE_SECRET)) });
    expect(replay.status).toBe(200);
    expect(stub.calls.length).toBe(calls);
    expect(stub.calls.at(-1)!.form.Input).toBe(event);
  });

  it('bad bodies are still refused with 400 before anything runs', async () => {
    const calls = stub.calls.length;
    for (const [body, message] of [
      ['{"a": 1,}', 'not valid JSON'],
      ['[1, 2]', 'must be a JSON object, got an array'],
      ['"text"', 'must be a JSON object, got a string'],
      [`{"a": ${'['.repeat(70)}${']'.repeat(70)}}`, 'nested deeper than 64'],
      ['{"a": "\u0001"}', 'not valid JSON'],
    ]) {
      const answer = await post('plain', body!);
      expect(answer.status, body).toBe(400);
      expect((answer.json as { Message: string }).Message).toContain(message);
    }
    expect(stub.calls.length).toBe(calls);
  });
});
