import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenAddress } from '../src/platform/node/listen-address.js';
import { runMain } from './helpers/run-main.js';
import { spawnCli } from './helpers/spawn.js';
import { startUpstreamStub, type UpstreamStub } from './helpers/upstream-stub.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-cli-'));
const credsEnv = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('flowgate CLI', () => {
  let stub: UpstreamStub;
  beforeAll(async () => {
    stub = await startUpstreamStub();
  });
  afterAll(async () => {
    await stub.close();
  });

  it('check validates a config and prints its routes', async () => {
    const config = file(
      'good.yaml',
      `upstream: { endpoint: "${'http://127.0.0.1:9'}" }\nflows:\n  hello: { flowName: hello_world, qualifier: "1" }\n  order: { access: public, mode: ack }\n`,
    );
    const cli = await spawnCli(['check', '--config', config], { env: credsEnv });
    expect(await cli.exit()).toBe(0);
    expect(cli.stdout()).toContain('POST   /flows/hello/run -> hello_world@1 [access public]');
    expect(cli.stdout()).toContain('POST   /flows/order/run -> order [access public] (ack)');
  });

  it('check prints where the client address comes from', async () => {
    const cases: [string, string][] = [
      ['{}', "client address: the connection's peer (no trusted proxy); IPv6 keyed by /64"],
      ['{ trustProxy: true }', 'client address: X-Forwarded-For, 1 trusted hop; IPv6 keyed by /64'],
      ['{ trustProxy: 2, forwardedHeader: Forwarded }', 'client address: Forwarded (for=), 2 trusted hops; IPv6 keyed by /64'],
      ['{ trustProxy: [loopback, "10.0.0.0/8"] }', 'client address: X-Forwarded-For, trusted proxies loopback, 10.0.0.0/8; IPv6 keyed by /64'],
      ['{ trustProxy: cloudflare }', "client address: CF-Connecting-IP from Cloudflare's published addresses, else the connection's peer; IPv6 keyed by /64"],
    ];
    for (const [i, [server, line]] of cases.entries()) {
      const config = file(
        `trust-${i}.yaml`,
        `upstream: { endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: testid, accessKeySecret: testsecret } }\nserver: ${server}\nanonymous: { ipv6Prefix: 64 }\nflows:\n  hello: {}\n`,
      );
      // In this process: five processes in a row cost more than a test's time on a loaded machine.
      const cli = await runMain(['check', '--config', config]);
      expect(cli.code).toBe(0);
      expect(cli.stdout).toContain(`${line}\n`);
    }
  });

  it('check and serve print the warnings of a trust setting that lets clients choose their address', async () => {
    const config = file('wide-trust.yaml', `upstream: { endpoint: "${stub.url}" }\nserver: { trustProxy: ["0.0.0.0/0", "::/0"] }\nflows:\n  hello: {}\n`);
    const warnings = [
      'warning: server.trustProxy.0: "0.0.0.0/0" trusts every IPv4 address: any client in it can send the address it likes as its own\n',
      'warning: server.trustProxy.1: "::/0" trusts every IPv6 address: any client in it can send the address it likes as its own\n',
    ].join('');
    const check = await spawnCli(['check', '--config', config], { env: credsEnv });
    expect(await check.exit()).toBe(0);
    expect(check.stdout()).toContain(`: valid\n${warnings}`);
    const serve = await spawnCli(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1'], { env: credsEnv });
    await serve.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(serve.stderr().startsWith(warnings)).toBe(true);
    serve.child.kill('SIGTERM');
    expect(await serve.exit()).toBe(0);
    // Without such a setting there is no warning line.
    const plain = await spawnCli(['check', '--config', file('plain.yaml', `upstream: { endpoint: "${stub.url}" }\nflows:\n  hello: {}\n`)], { env: credsEnv });
    expect(await plain.exit()).toBe(0);
    expect(plain.stdout()).not.toContain('warning');
  });

  it('check exits 2 on a trust setting that cannot work, naming the key path', async () => {
    const config = file(
      'bad-trust.yaml',
      `upstream: { endpoint: "http://127.0.0.1:9" }\nserver: { trustProxy: [loopback, "10.0.0.0/33"] }\nanonymous: { ipv6Prefix: 16 }\nflows:\n  hello: {}\n`,
    );
    const cli = await spawnCli(['check', '--config', config], { env: credsEnv });
    expect(await cli.exit()).toBe(2);
    expect(cli.stderr()).toContain(
      'server.trustProxy.1: expected an IP address, a CIDR such as "10.0.0.0/8", or one of loopback, linklocal, uniquelocal, cloudflare',
    );
    expect(cli.stderr()).toContain('anonymous.ipv6Prefix: expected a prefix length from 32 to 128');
  });

  it('a bad config exits with code 2 and names the key path, without echoing secrets', async () => {
    const config = file(
      'bad.yaml',
      `upstream: { region: cn-hangzhou, timeout: someday, credentials: { accessKeyId: testid, accessKeySecret: super-secret-value } }\nflows:\n  hello: { maxInputSize: lots }\n`,
    );
    for (const command of ['check', 'serve']) {
      const cli = await spawnCli([command, '--config', config]);
      expect(await cli.exit()).toBe(2);
      expect(cli.stderr()).toContain('upstream.timeout: expected a duration');
      expect(cli.stderr()).toContain('flows.hello.maxInputSize: expected a size');
      expect(cli.stderr()).not.toContain('super-secret-value');
    }
  });

  it('an unreadable config file and unknown commands exit 2', async () => {
    const missing = await spawnCli(['check', '--config', join(dir, 'nope.yaml')]);
    expect(await missing.exit()).toBe(2);
    expect(missing.stderr()).toContain('cannot read');
    const unknown = await spawnCli(['frobnicate']);
    expect(await unknown.exit()).toBe(2);
    const badPort = await spawnCli(['serve', '--port', 'eighty']);
    expect(await badPort.exit()).toBe(2);
  });

  it('serve listens where it says, prints a working curl line, and drains on SIGTERM', async () => {
    const config = file('serve.yaml', `upstream: { endpoint: "${stub.url}" }\nflows:\n  hello: { flowName: hello_world }\n`);
    const cli = await spawnCli(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1'], { env: credsEnv });
    const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    await cli.waitFor(/curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/flows\/hello\/run/);
    const res = await fetch(`${url}/flows/hello/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"who":"cli"}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echo: { who: 'cli' } });
    // The access log goes to stdout as JSON lines.
    await cli.waitFor(/"path":"\/flows\/hello\/run"/);
    const line = JSON.parse(cli.stdout().trim().split('\n').at(-1)!);
    expect(line).toMatchObject({ flow: 'hello', status: 200, upstreamStatus: 200 });
    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
  });

  it('serve --host 0.0.0.0 says it listens on all interfaces, and prints a URL and curl line that work from this machine', async () => {
    const config = file('serve-all.yaml', `upstream: { endpoint: "${stub.url}" }\nflows:\n  hello: { flowName: hello_world }\n`);
    const cli = await spawnCli(['serve', '--config', config, '--port', '0', '--host', '0.0.0.0'], { env: credsEnv });
    const [, port, url] = await cli.waitFor(/listening on all interfaces \(0\.0\.0\.0:(\d+)\); from this machine (http:\/\/127\.0\.0\.1:\d+) -> /);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    await cli.waitFor(new RegExp(`curl -s -X POST http://127\\.0\\.0\\.1:${port}/flows/hello/run`));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    cli.child.kill('SIGTERM');
    expect(await cli.exit()).toBe(0);
  });
});

describe('listenAddress', () => {
  it('names wildcard hosts as all interfaces with a loopback URL, and brackets IPv6 hosts', () => {
    expect(listenAddress('127.0.0.1', 8787)).toEqual({ url: 'http://127.0.0.1:8787', where: 'http://127.0.0.1:8787' });
    expect(listenAddress('0.0.0.0', 8787)).toEqual({
      url: 'http://127.0.0.1:8787',
      where: 'all interfaces (0.0.0.0:8787); from this machine http://127.0.0.1:8787',
    });
    expect(listenAddress('::', 80)).toEqual({ url: 'http://127.0.0.1:80', where: 'all interfaces ([::]:80); from this machine http://127.0.0.1:80' });
    expect(listenAddress('0:0:0:0:0:0:0:0', 80).where).toMatch(/^all interfaces/);
    expect(listenAddress('::1', 8787)).toEqual({ url: 'http://[::1]:8787', where: 'http://[::1]:8787' });
    expect(listenAddress('192.0.2.7', 8787).url).toBe('http://192.0.2.7:8787');
    expect(listenAddress('localhost', 8787).url).toBe('http://localhost:8787');
  });
});
