/**
 * Every digest a request needs goes through the runtime's `sha256Hex`: on Node a synchronous node:crypto hash,
 * where Web Crypto's asynchronous one costs a thread-pool round trip per call. API keys, Idempotency-Key scopes
 * and request fingerprints must come out the same either way (records in a shared store outlive any one process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/cloudflow/signing/digests.js';
import { requestFingerprint } from '../../src/idempotency/keys.js';
import { nodeCrypto } from '../../src/platform/node/digests.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';

const KEY = 'digest-test-key-0123456789abcdef';

describe('request digests on Node', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const digested: string[] = [];

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
        callers: { app: { apiKeys: [KEY] } },
        flows: { orders: { access: ['app'], idempotency: { ttl: '1h' } } },
      },
      {
        adjustDeps(deps) {
          const digest = deps.sha256Hex;
          deps.sha256Hex = (data) => {
            const result = digest(data);
            // Only synchronous results: a promise here would mean the Web Crypto path is still in use.
            if (typeof result !== 'string') throw new Error('the Node runtime digest must be synchronous');
            digested.push(typeof data === 'string' ? data : new TextDecoder().decode(data));
            return result;
          };
        },
      },
    );
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  it('API keys, Idempotency-Key scopes and fingerprints go through the runtime digest, and a replay still matches', async () => {
    const send = () =>
      gw.send(`${gw.url}/flows/orders/run`, {
        body: '{"order":1}',
        headers: { 'x-api-key': KEY, 'idempotency-key': 'k-1', 'content-type': 'application/json' },
      });
    const first = await send();
    expect(first.status).toBe(200);
    const replay = await send();
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(stub.calls).toHaveLength(1);
    expect(digested).toContain(KEY);
    expect(digested).toContain('app\nk-1');
    expect(digested).toContain('\n{"order":1}');
    const wrong = await gw.send(`${gw.url}/flows/orders/run`, { body: '{}', headers: { 'x-api-key': 'not-the-key', 'content-type': 'application/json' } });
    expect(wrong.status).toBe(401);
  });

  it('the synchronous digest is Web Crypto’s, for text and for bytes', async () => {
    for (const text of ['', KEY, 'app\nk-1', 'é😀\u0000']) expect(nodeCrypto.sha256Hex(text)).toBe(await sha256Hex(text));
    const body = new TextEncoder().encode('{"order":1}');
    expect(await requestFingerprint(body, 'prod', nodeCrypto.sha256Hex)).toBe(await requestFingerprint(body, 'prod'));
  });
});
