/**
 * Who a request comes from: trusted proxies, one key per address, and that one key behind every
 * address-keyed store (rate limits, failed authentications, the caller-scoped cache, Idempotency-Key
 * records, ack executions). In process, with the socket peer injected, so any address can call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Server, type Socket } from 'node:net';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { LogLine } from '../../src/log.js';
import { manualClock } from '../../src/lib/clock.js';
import { createNodeRuntime } from '../../src/platform/node/runtime.js';
import { startServer } from '../../src/platform/node/server.js';
import { send } from '../helpers/post.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type InProcessUpstream } from '../helpers/upstream-stub.js';

const KEY = 'partner-key-0123456789abcdef';
const PROXY = '10.0.0.2';
const CLOUDFLARE_EDGE = '173.245.48.7';

// The upstream is reached in process everywhere: the sockets that matter here are the clients'.
let stub: InProcessUpstream;
const clock = manualClock(Date.UTC(2026, 0, 1));
const gateways: InProcessGateway[] = [];

beforeAll(() => {
  stub = inProcessUpstream();
});
afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await stub.close();
});

function gateway(extra: Record<string, unknown> = {}, flows: Record<string, unknown> = { open: {} }): InProcessGateway {
  const gw = inProcessGateway({ upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '5s' }, ...extra, flows }, { clock });
  gateways.push(gw);
  return gw;
}

const limited = (server: Record<string, unknown>, anonymous: Record<string, unknown> = {}) =>
  gateway({ server, anonymous: { rateLimit: { rate: '1/m', burst: 2 }, ...anonymous } });

async function statuses(gw: InProcessGateway, requests: { peer: string | undefined; headers?: Record<string, string> }[]): Promise<number[]> {
  const out: number[] = [];
  for (const r of requests) out.push((await gw.request('/flows/open/run', { ...r, body: '{}' })).status);
  return out;
}

const callersLogged = (gw: InProcessGateway) => gw.logs.filter((l) => l.path === '/flows/open/run').map((l) => l.caller);
const sixTimes = <T>(make: (i: number) => T): T[] => Array.from({ length: 6 }, (_, i) => make(i + 1));

describe('trusted proxies', () => {
  it('behind one proxy that appends to X-Forwarded-For, the entries a client sends are not its address', async () => {
    const gw = limited({ trustProxy: true });
    const answers = await statuses(
      gw,
      sixTimes((i) => ({ peer: PROXY, headers: { 'x-forwarded-for': `10.9.9.${i}, 198.51.100.9` } })),
    );
    expect(answers).toEqual([200, 200, 429, 429, 429, 429]);
    expect(new Set(callersLogged(gw))).toEqual(new Set(['ip:198.51.100.9']));
  });

  it('the same walk holds for RFC 7239 Forwarded, in its quoted, bracketed and port forms', async () => {
    const gw = limited({ trustProxy: 1, forwardedHeader: 'forwarded' });
    const appended = ['for=198.51.100.9', 'For="198.51.100.9:4711"', 'for=198.51.100.9;proto=https;by=_edge', 'for="198.51.100.9"'];
    const answers = await statuses(
      gw,
      appended.map((own, i) => ({ peer: PROXY, headers: { forwarded: `for=10.9.9.${i}, ${own}` } })),
    );
    expect(answers).toEqual([200, 200, 429, 429]);
    const v6 = limited({ trustProxy: 1, forwardedHeader: 'forwarded' });
    const brackets = ['for="[2001:db8:cafe::17]"', 'for="[2001:DB8:CAFE::17]:4711"', 'for="[2001:db8:cafe:0:0:0:0:17]:_port"'];
    expect(
      await statuses(
        v6,
        brackets.map((own) => ({ peer: PROXY, headers: { forwarded: `for=10.9.9.1;proto=http, ${own}` } })),
      ),
    ).toEqual([200, 200, 429]);
    expect(new Set(callersLogged(v6))).toEqual(new Set(['ip:2001:db8:cafe::/64']));
  });

  it('with forwardedHeader: forwarded, an X-Forwarded-For the client adds is not read, nor the reverse', async () => {
    const gw = limited({ trustProxy: 1, forwardedHeader: 'forwarded' });
    expect(
      await statuses(
        gw,
        sixTimes((i) => ({ peer: PROXY, headers: { 'x-forwarded-for': `10.9.9.${i}`, forwarded: 'for=198.51.100.9' } })),
      ),
    ).toEqual([200, 200, 429, 429, 429, 429]);
    const xff = limited({ trustProxy: 1 });
    expect(
      await statuses(
        xff,
        sixTimes((i) => ({ peer: PROXY, headers: { forwarded: `for=10.9.9.${i}`, 'x-forwarded-for': '198.51.100.9' } })),
      ),
    ).toEqual([200, 200, 429, 429, 429, 429]);
  });

  it('a hop count trusts that many hops and no more; a list trusts the addresses it names', async () => {
    const two = limited({ trustProxy: 2 });
    // The peer and the hop nearest it are trusted; the next one to the left is the client.
    await statuses(
      two,
      sixTimes((i) => ({ peer: PROXY, headers: { 'x-forwarded-for': `10.9.9.${i}, 198.51.100.9, 10.0.0.3` } })),
    );
    expect(new Set(callersLogged(two))).toEqual(new Set(['ip:198.51.100.9']));

    const list = limited({ trustProxy: ['10.0.0.0/24', 'loopback'] });
    await statuses(list, [
      { peer: PROXY, headers: { 'x-forwarded-for': '10.9.9.1, 198.51.100.9, 10.0.0.3, 127.0.0.1' } },
      { peer: '::ffff:10.0.0.2', headers: { 'x-forwarded-for': '198.51.100.9' } },
      // Not a trusted peer: its header is not believed, whatever it says.
      { peer: '192.0.2.50', headers: { 'x-forwarded-for': '198.51.100.9' } },
      // Every hop trusted: the farthest one is the client (proxy-addr does the same).
      { peer: PROXY, headers: { 'x-forwarded-for': '10.0.0.7, 10.0.0.3' } },
    ]);
    expect(callersLogged(list)).toEqual(['ip:198.51.100.9', 'ip:198.51.100.9', 'ip:192.0.2.50', 'ip:10.0.0.7']);
  });

  it('more hops trusted than a request lists: the farthest listed hop is the client', async () => {
    const gw = limited({ trustProxy: 5 });
    await statuses(gw, [{ peer: PROXY, headers: { 'x-forwarded-for': '198.51.100.9, 10.0.0.3' } }, { peer: PROXY }]);
    expect(callersLogged(gw)).toEqual(['ip:198.51.100.9', `ip:${PROXY}`]);
  });

  it('an entry that names no address is never a key: the hop that passed it on is the client', async () => {
    const gw = gateway({ server: { trustProxy: 2 } });
    const garbage = [
      'garbage',
      'unknown',
      '_hidden',
      '1.2.3',
      '256.1.1.1',
      '01.2.3.4',
      '127.1',
      '2001:db8::g',
      '198.51.100.9:99999',
      '[2001:db8::1',
      '"198.51.100.9"',
    ];
    for (const entry of garbage) await gw.request('/flows/open/run', { peer: PROXY, body: '{}', headers: { 'x-forwarded-for': `${entry}, 198.51.100.9` } });
    for (const entry of garbage) await gw.request('/flows/open/run', { peer: PROXY, body: '{}', headers: { 'x-forwarded-for': `198.51.100.7, ${entry}` } });
    expect(callersLogged(gw)).toEqual([...garbage.map(() => 'ip:198.51.100.9'), ...garbage.map(() => `ip:${PROXY}`)]);

    const fwd = gateway({ server: { trustProxy: 2, forwardedHeader: 'forwarded' } });
    const elements = [
      'for=unknown',
      'for=_hidden',
      'for="_gazonk"',
      'for=2001:db8::1',
      'proto=https',
      'for=198.51.100.7;for=198.51.100.8',
      'for="[198.51.100.7]"',
      'for="198.51.100.7',
    ];
    for (const element of elements) await fwd.request('/flows/open/run', { peer: PROXY, body: '{}', headers: { forwarded: `for=203.0.113.1, ${element}` } });
    expect(callersLogged(fwd)).toEqual(elements.map(() => `ip:${PROXY}`));
  });

  it("CF-Connecting-IP is believed only in cloudflare mode, and only from Cloudflare's published addresses", async () => {
    const hops = limited({ trustProxy: true });
    expect(
      await statuses(
        hops,
        sixTimes((i) => ({ peer: PROXY, headers: { 'cf-connecting-ip': `203.0.113.${i}`, 'x-forwarded-for': '198.51.100.9' } })),
      ),
    ).toEqual([200, 200, 429, 429, 429, 429]);

    const cloudflare = limited({ trustProxy: 'cloudflare' });
    await statuses(cloudflare, [
      { peer: CLOUDFLARE_EDGE, headers: { 'cf-connecting-ip': '198.51.100.9' } },
      { peer: '2606:4700::6810:1', headers: { 'cf-connecting-ip': '2001:db8:1:2::a1' } },
      // A client that reaches the origin directly can send the header too.
      { peer: '192.0.2.50', headers: { 'cf-connecting-ip': '198.51.100.9' } },
      // X-Forwarded-For is not read in this mode, and a malformed header is no key.
      { peer: CLOUDFLARE_EDGE, headers: { 'cf-connecting-ip': 'not-an-ip', 'x-forwarded-for': '198.51.100.9' } },
    ]);
    expect(callersLogged(cloudflare)).toEqual(['ip:198.51.100.9', 'ip:2001:db8:1:2::/64', 'ip:192.0.2.50', `ip:${CLOUDFLARE_EDGE}`]);
  });

  it('without trustProxy no header is believed', async () => {
    const gw = limited({});
    const spoofed = { 'x-forwarded-for': '198.51.100.9', forwarded: 'for=198.51.100.9', 'cf-connecting-ip': '198.51.100.9' };
    await statuses(gw, [
      { peer: CLOUDFLARE_EDGE, headers: spoofed },
      { peer: PROXY, headers: spoofed },
    ]);
    expect(callersLogged(gw)).toEqual([`ip:${CLOUDFLARE_EDGE}`, `ip:${PROXY}`]);
  });
});

describe('one key per address', () => {
  it('IPv6 callers in one /64 share one bucket', async () => {
    const gw = limited({});
    expect(
      await statuses(
        gw,
        sixTimes((i) => ({ peer: `2001:db8:1:2::a${i}` })),
      ),
    ).toEqual([200, 200, 429, 429, 429, 429]);
    expect(await statuses(gw, [{ peer: '2001:db8:1:3::a1' }])).toEqual([200]);
    expect(new Set(callersLogged(gw))).toEqual(new Set(['ip:2001:db8:1:2::/64', 'ip:2001:db8:1:3::/64']));
  });

  it('anonymous.ipv6Prefix sets the network size', async () => {
    const wide = limited({}, { ipv6Prefix: 48 });
    expect(
      await statuses(
        wide,
        ['2001:db8:1:2::1', '2001:db8:1:ff::1', '2001:db8:1:ffff::1'].map((peer) => ({ peer })),
      ),
    ).toEqual([200, 200, 429]);
    const exact = limited({}, { ipv6Prefix: 128 });
    expect(
      await statuses(
        exact,
        sixTimes((i) => ({ peer: `2001:db8:1:2::a${i}` })),
      ),
    ).toEqual([200, 200, 200, 200, 200, 200]);
    expect(callersLogged(exact)[0]).toBe('ip:2001:db8:1:2::a1');
  });

  it('one address in other spellings is one key: case, zero padding, uncompressed, IPv4-mapped', async () => {
    const gw = limited({ trustProxy: true });
    const v6 = ['2001:DB8:1:2::A1', '2001:0db8:0001:0002:0000:0000:0000:00a1', '2001:db8:1:2:0:0:0:a1'];
    expect(
      await statuses(
        gw,
        v6.map((peer) => ({ peer })),
      ),
    ).toEqual([200, 200, 429]);
    const v4 = [
      { peer: '198.51.100.7' },
      { peer: '::ffff:198.51.100.7' },
      { peer: '::FFFF:c633:6407' },
      { peer: PROXY, headers: { 'x-forwarded-for': '0:0:0:0:0:ffff:198.51.100.7' } },
      { peer: PROXY, headers: { 'x-forwarded-for': '[::ffff:198.51.100.7]:443' } },
    ];
    expect(await statuses(gw, v4)).toEqual([200, 200, 429, 429, 429]);
    expect(new Set(callersLogged(gw))).toEqual(new Set(['ip:2001:db8:1:2::/64', 'ip:198.51.100.7']));
  });

  it('IPv4 clients reaching the gateway through NAT64, 6to4 or Teredo are keyed by their IPv4 address, not one shared /64', async () => {
    const carriers = [
      (i: number) => `64:ff9b::198.51.100.${i}`,
      (i: number) => `64:ff9b:1::198.51.100.${i}`,
      (i: number) => `::ffff:0:198.51.100.${i}`,
      (i: number) => `::198.51.100.${i}`,
      (i: number) => `2002:c633:64${i.toString(16).padStart(2, '0')}::1`,
      // Teredo: the client's address inverted in the last 32 bits (198.51.100.i -> 39cc:9bxx).
      (i: number) => `2001:0:4136:e378:8000:63bf:39cc:9b${(0xff - i).toString(16)}`,
    ];
    for (const carrier of carriers) {
      const gw = limited({});
      // Six IPv4 clients behind one translation prefix: six buckets.
      expect(
        await statuses(
          gw,
          sixTimes((i) => ({ peer: carrier(i) })),
        ),
        carrier(1),
      ).toEqual([200, 200, 200, 200, 200, 200]);
      // The same client, translated or not, is one bucket.
      expect(await statuses(gw, [{ peer: '198.51.100.1' }, { peer: carrier(1) }])).toEqual([200, 429]);
      expect(new Set(callersLogged(gw))).toEqual(new Set(sixTimes((i) => `ip:198.51.100.${i}`)));
    }
  });

  it('::1 and :: are keyed by themselves, apart from the IPv4-compatible addresses around them', async () => {
    const gw = limited({});
    expect(await statuses(gw, [{ peer: '::1' }, { peer: '::1' }, { peer: '::2' }, { peer: '::' }, { peer: '::1' }])).toEqual([200, 200, 200, 200, 429]);
    expect(new Set(callersLogged(gw))).toEqual(new Set(['ip:::1', 'ip:0.0.0.2', 'ip:::']));
  });
});

describe('the same key behind every address-keyed store', () => {
  it("auth.failureLimit: a client cannot spend another address's failures by naming it", async () => {
    const gw = gateway(
      { server: { trustProxy: true }, callers: { partner: { apiKeys: [KEY] } }, auth: { failureLimit: { rate: '1/h', burst: 3 } } },
      { open: { access: ['partner'] } },
    );
    const victim = '203.0.113.50';
    const attack = () =>
      gw.request('/flows/open/run', {
        peer: PROXY,
        body: '{}',
        headers: { 'x-api-key': 'wrong-key-0123456789abcdef', 'x-forwarded-for': `${victim}, 198.51.100.66` },
      });
    const refused = [];
    for (let i = 0; i < 4; i++) refused.push((await attack()).status);
    expect(refused).toEqual([401, 401, 401, 429]);
    const own = await gw.request('/flows/open/run', { peer: PROXY, body: '{}', headers: { 'x-api-key': KEY, 'x-forwarded-for': victim } });
    expect(own.status).toBe(200);
    // The held address is the attacker's, in any spelling.
    const held = await gw.request('/flows/open/run', { peer: '::ffff:198.51.100.66', body: '{}', headers: { 'x-api-key': KEY } });
    expect(held.status).toBe(429);
  });

  it('auth.failureLimit holds a whole IPv6 /64', async () => {
    const gw = gateway({ callers: { partner: { apiKeys: [KEY] } }, auth: { failureLimit: { rate: '1/h', burst: 2 } } }, { open: { access: ['partner'] } });
    const tries = [];
    for (let i = 1; i <= 3; i++)
      tries.push(
        (await gw.request('/flows/open/run', { peer: `2001:db8:5:6::${i}`, body: '{}', headers: { 'x-api-key': 'wrong-key-0123456789abcdef' } })).status,
      );
    expect(tries).toEqual([401, 401, 429]);
    expect((await gw.request('/flows/open/run', { peer: '2001:db8:5:7::1', body: '{}', headers: { 'x-api-key': KEY } })).status).toBe(200);
  });

  it('the caller-scoped cache: naming another address does not read its entry', async () => {
    const gw = gateway({ server: { trustProxy: true } }, { open: { cache: { ttl: '60s' } } });
    const ask = (forwarded: string, peer = PROXY) => gw.request('/flows/open/run', { peer, body: '{"q":1}', headers: { 'x-forwarded-for': forwarded } });
    expect((await ask('203.0.113.50')).headers.get('cache-status')).toContain('fwd=miss');
    await gw.drain();
    expect((await ask('203.0.113.50')).headers.get('cache-status')).toContain('hit');
    expect((await ask('203.0.113.50, 198.51.100.66')).headers.get('cache-status')).toContain('fwd=miss');
  });

  it('the caller-scoped cache: one IPv6 /64 in any spelling is one scope', async () => {
    const gw = gateway({}, { open: { cache: { ttl: '60s' } } });
    const ask = (peer: string) => gw.request('/flows/open/run', { peer, body: '{"q":2}' });
    expect((await ask('2001:db8:9:9::1')).headers.get('cache-status')).toContain('fwd=miss');
    await gw.drain();
    expect((await ask('2001:0DB8:0009:0009:0000:0000:0000:0002')).headers.get('cache-status')).toContain('hit');
    expect((await ask('2001:db8:9:a::1')).headers.get('cache-status')).toContain('fwd=miss');
  });

  it('Idempotency-Key records belong to the address key', async () => {
    const gw = gateway({}, { open: { idempotency: { ttl: '1h' } } });
    const calls = stub.calls.length;
    const send = (peer: string) => gw.request('/flows/open/run', { peer, body: '{"order":7}', headers: { 'idempotency-key': 'order-7' } });
    const first = await send('2001:db8:7:7::1');
    expect(first.status).toBe(200);
    await gw.drain();
    const again = await send('2001:DB8:7:7::beef');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await send('2001:db8:7:8::1');
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(stub.calls.length - calls).toBe(2);
  });

  it('an ack execution is readable from its address key in any spelling, and by no other address', async () => {
    const gw = gateway({}, { job: { mode: 'ack' } });
    const accepted = await gw.request('/flows/job/run', { peer: '::ffff:198.51.100.20', body: '{}' });
    expect(accepted.status).toBe(202);
    const name = accepted.json!.ExecutionName as string;
    await gw.drain();
    expect((await gw.request(`/executions/${name}`, { peer: '198.51.100.20' })).status).toBe(200);
    expect((await gw.request(`/executions/${name}`, { peer: '198.51.100.21' })).status).toBe(404);
    const v6 = await gw.request('/flows/job/run', { peer: '2001:db8:4:4::1', body: '{}' });
    const v6Name = v6.json!.ExecutionName as string;
    await gw.drain();
    expect((await gw.request(`/executions/${v6Name}`, { peer: '2001:DB8:4:4:0:0:0:2' })).status).toBe(200);
    expect((await gw.request(`/executions/${v6Name}`, { peer: '2001:db8:4:5::1' })).status).toBe(404);
  });
});

describe('over a real socket', () => {
  it('a dual-stack listener reports IPv4 peers as ::ffff: addresses; they key and match trusted ranges as IPv4', async () => {
    const config = parseConfig(
      { upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS }, server: { trustProxy: ['loopback'] }, flows: { open: {} } },
      {},
    );
    const logs: LogLine[] = [];
    const runtime = createNodeRuntime(config, { log: (line) => logs.push(line), clock, transport: stub.transport });
    const server = await startServer(createApp(runtime.deps), config, { port: 0, host: '::' });
    try {
      const post = (host: string, headers: Record<string, string> = {}) => send(`http://${host}:${server.port}/flows/open/run`, { body: '{}', headers });
      expect((await post('127.0.0.1')).status).toBe(200);
      expect((await post('127.0.0.1', { 'x-forwarded-for': '198.51.100.9' })).status).toBe(200);
      expect((await post('[::1]', { 'x-forwarded-for': '2001:db8:1:2::a1' })).status).toBe(200);
      expect(logs.filter((l) => l.path === '/flows/open/run').map((l) => l.caller)).toEqual(['ip:127.0.0.1', 'ip:198.51.100.9', 'ip:2001:db8:1:2::/64']);
    } finally {
      await server.shutdown(() => runtime.drain());
      await runtime.close();
    }
  });

  it('a client that resets the connection right after its request keeps its address, and its limit', async () => {
    const config = parseConfig(
      { upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS }, anonymous: { rateLimit: { rate: '1/m', burst: 2 } }, flows: { open: {} } },
      {},
    );
    const runs: LogLine[] = [];
    const wake: (() => void)[] = [];
    const log = (line: LogLine) => {
      if (line.path !== '/flows/open/run') return;
      runs.push(line);
      for (const w of wake.splice(0)) w();
    };
    const logged = async (n: number) => {
      while (runs.length < n) await new Promise<void>((resolve) => wake.push(resolve));
    };
    const runtime = createNodeRuntime(config, { log, clock, transport: stub.transport });
    const server = await startServer(createApp(runtime.deps), config, { port: 0, host: '127.0.0.1' });
    try {
      for (let i = 1; i <= 3; i++) {
        // Sent only once the server has the connection, so the peer is there to be read when it is accepted.
        const accepted = new Promise<Socket>((resolve) => (server.server as Server).once('connection', resolve));
        const socket = connect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        await accepted;
        socket.write('POST /flows/open/run HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
        // An RST right behind the request: the server's socket is gone before the app looks at the request.
        socket.resetAndDestroy();
        await logged(i);
      }
      expect(runs.map((l) => l.caller)).toEqual(['ip:127.0.0.1', 'ip:127.0.0.1', 'ip:127.0.0.1']);
      // Three requests from 127.0.0.1 against a burst of 2: the next one from it is over its limit.
      expect((await send(`http://127.0.0.1:${server.port}/flows/open/run`, { body: '{}' })).status).toBe(429);
    } finally {
      await server.shutdown(() => runtime.drain());
      await runtime.close();
    }
  });
});
