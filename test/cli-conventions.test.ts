import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { describeConfig } from '../src/cli/describe-config.js';
import { tryLines } from '../src/cli/try-lines.js';
import { runMain } from './helpers/run-main.js';
import { spawnCli } from './helpers/spawn.js';
import { startUpstreamStub } from './helpers/upstream-stub.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-conventions-'));
const credsEnv = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };
const creds = 'credentials: { accessKeyId: testid, accessKeySecret: testsecret }';

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('every command follows the command-line conventions (process)', () => {
  it("--help and -h print that command's usage on stdout and exit 0", async () => {
    // As a real process once: the exit code is what a shell sees.
    const spawned = await spawnCli(['serve', '--help']);
    expect(await spawned.exit()).toBe(0);
    expect(spawned.stdout()).toMatch(/^Usage: flowgate serve/);
    for (const command of [['serve'], ['check'], ['emulator'], ['reload'], []]) {
      for (const flag of ['--help', '-h']) {
        const cli = await runMain([...command, flag]);
        expect(cli.code, `${command.join(' ')} ${flag}`).toBe(0);
        expect(cli.stdout).toMatch(command.length ? new RegExp(`^Usage: flowgate ${command[0]}`) : /Usage:\n {2}flowgate serve/);
        expect(cli.stderr).toBe('');
      }
    }
  });

  it('flowgate --version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const cli = await spawnCli(['--version']);
    expect(await cli.exit()).toBe(0);
    expect(cli.stdout()).toBe(`${version}\n`);
  });

  it("a usage mistake prints the problem and that command's usage on stderr, and exits 2", async () => {
    const cases: [string[], RegExp][] = [
      [['serve', '--bogus'], /^flowgate serve: Unknown option '--bogus'/],
      [['serve', '--port', 'eighty'], /^flowgate serve: --port must be a port number, got "eighty"/],
      [['serve', '--config'], /^flowgate serve: Option '-c, --config <value>' argument missing/],
      [['serve', '--workers', 'many'], /^flowgate serve: --workers must be a number of processes from 1 to 256, or "auto", got "many"/],
      [['serve', '--workers', '0'], /^flowgate serve: --workers must be a number of processes from 1 to 256, or "auto", got "0"/],
      // No --config and no ./flowgate.yaml here: the demo, which is one process.
      [['serve', '--workers', '2'], /^flowgate serve: --workers needs a config/],
      [['check', '--bogus'], /^flowgate check: Unknown option '--bogus'/],
      [['check', 'flowgate.yaml'], /^flowgate check: Unexpected argument 'flowgate.yaml'/],
      [['emulator', '--bogus'], /^flowgate emulator: Unknown option '--bogus'/],
      [['reload'], /^flowgate reload: --pid is required/],
      [['reload', '--pid', 'x'], /^flowgate reload: --pid must be a process id/],
    ];
    for (const [args, message] of cases) {
      const cli = await runMain(args);
      expect(cli.code, args.join(' ')).toBe(2);
      expect(cli.stderr).toMatch(message);
      expect(cli.stderr).toContain(`Usage: flowgate ${args[0]}`);
    }
    const none = await runMain([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage:');
    // As a real process once.
    const spawned = await spawnCli(['check', '--bogus']);
    expect(await spawned.exit()).toBe(2);
    expect(spawned.stderr()).toContain('Usage: flowgate check');
  });

  it('check prints every route it serves, with access, limits, cache and webhook, and sizes and durations as resolved', async () => {
    const config = file(
      'routes.yaml',
      [
        `upstream: { endpoint: "http://127.0.0.1:9", timeout: 2m, ${creds} }`,
        'server: { maxBodySize: 512KB }',
        'callers:',
        '  app: { apiKeys: ["app-key-0123456789abcdef"], rateLimit: { rate: 20/s, burst: 40 } }',
        '  ops: { apiKeys: ["ops-key-0123456789abcdef"], admin: true }',
        'flows:',
        '  hello: { flowName: hello_world, qualifier: "1", maxInputSize: 64KB, access: [app], rateLimit: { rate: 5/s }, cache: { ttl: 60s, scope: shared } }',
        '  binary: { maxInputSize: 64KiB, access: public, mode: ack, idempotency: { ttl: 1h, required: true } }',
        '  push: { webhook: { provider: github, secrets: ["gh-secret"] } }',
        '  stripe: { webhook: { provider: stripe, secrets: ["whsec_0123456789"], tolerance: 2m } }',
        'routes:',
        '  - { method: GET, path: /v1/hello/:name, flow: hello, input: { name: "{path.name}" } }',
        '',
      ].join('\n'),
    );
    const cli = await spawnCli(['check', '--config', config]);
    expect(await cli.exit()).toBe(0);
    const out = cli.stdout();
    expect(out).toContain('POST   /flows/hello/run -> hello_world@1 [access callers app]\n');
    expect(out).toMatch(/maxInputSize: 64000 bytes; timeout: 120000 ms \(upstream\.timeout\)\n/);
    expect(out).toContain('rateLimit (per caller on this flow): rate 5 per 1000 ms, burst 5\n');
    expect(out).toContain('cache: ttl 60000 ms, scope shared\n');
    expect(out).toContain('POST   /flows/binary/run -> binary [access public] (ack)\n');
    expect(out).toMatch(/maxInputSize: 65536 bytes;/);
    expect(out).toContain('idempotency: ttl 3600000 ms, Idempotency-Key required\n');
    expect(out).toContain('POST   /flows/push/run -> push [access signed by the sender (github)]\n');
    expect(out).toMatch(/webhook: github, 1 secret\(s\); tolerance none \(the sender signs no timestamp\); dedupeTtl 345600000 ms\n/);
    expect(out).toMatch(/webhook: stripe, 1 secret\(s\); tolerance 120000 ms;/);
    expect(out).toContain('GET    /v1/hello/:name -> flow hello (routes.0) [access callers app]\n');
    expect(out).toContain('maxBodySize: 512000 bytes');
    expect(out).toContain('caller app: 1 API key(s); rate 20 per 1000 ms, burst 40\n');
    expect(out).toContain('caller ops (admin): 1 API key(s); no caller-wide limit\n');
    for (const route of [
      'GET    /executions/{name}',
      'DELETE /flows/{name}/cache',
      'GET    /metrics',
      'GET    /flows',
      'GET    /healthz',
      'GET    /readyz',
      'GET    /openapi.json',
    ]) {
      expect(out).toContain(`  ${route} -> `);
    }
    // Never a key or a secret.
    expect(out).not.toMatch(/app-key-|ops-key-|gh-secret|whsec_/);
  });

  it('an endpoint without a scheme is refused at load, with the fix and the key path', async () => {
    const config = file('no-scheme.yaml', `upstream: { endpoint: "127.0.0.1:9400", ${creds} }\nflows: { hello: {} }\n`);
    const cli = await spawnCli(['check', '--config', config]);
    expect(await cli.exit()).toBe(2);
    expect(cli.stderr()).toContain('upstream.endpoint: needs a scheme: write "http://127.0.0.1:9400" for a local endpoint such as the emulator');
  });

  it('a metrics port of its own is refused with several workers, by key path: in the config at load and with --workers', async () => {
    const refusal = 'server.metrics.port: a metrics port of its own is served by one process';
    expect(() =>
      parseConfigText(`upstream: { endpoint: "http://127.0.0.1:9400", ${creds} }\nserver: { workers: 2, metrics: { port: 9464 } }\nflows: { hello: {} }\n`, {}),
    ).toThrow(refusal);
    expect(() =>
      parseConfigText(
        `upstream: { endpoint: "http://127.0.0.1:9400", ${creds} }\nserver: { workers: auto, metrics: { port: 9464 } }\nflows: { hello: {} }\n`,
        {},
      ),
    ).toThrow(refusal);
    const config = file(
      'metrics-port.yaml',
      `upstream: { endpoint: "http://127.0.0.1:9400", ${creds} }\nserver: { metrics: { port: 9464 } }\nflows: { hello: {} }\n`,
    );
    const cli = await runMain(['serve', '--config', config, '--workers', '2']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`flowgate serve: --workers 2 with ${refusal}`);
  });

  it('serve prints a try line per flow that works as printed: a key placeholder for protected flows, the sender for webhook flows', async () => {
    const stub = await startUpstreamStub();
    try {
      const config = file(
        'try.yaml',
        [
          `upstream: { endpoint: "${stub.url}" }`,
          'callers: { app: { apiKeys: ["app-key-0123456789abcdef"] } }',
          'flows:',
          '  open: { access: public }',
          '  guarded: { access: [app] }',
          '  push: { webhook: { provider: github, secrets: ["gh-secret"] } }',
          '',
        ].join('\n'),
      );
      const cli = await spawnCli(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1'], { env: credsEnv });
      try {
        await cli.waitFor(/try: push: .*\n/);
        const lines = cli
          .stderr()
          .split('\n')
          .filter((line) => line.startsWith('try: '));
        expect(lines).toHaveLength(3);
        const [open, guarded, push] = lines;
        expect(guarded).toContain("-H 'x-api-key: <API key of app>'");
        expect(push).toMatch(/^try: push: POST http:\/\/127\.0\.0\.1:\d+\/flows\/push\/run is signed by the sender \(github\)/);
        // Run the printed lines, with the placeholder filled.
        const run = async (line: string, key?: string) => {
          const [, url, headers, body] = /curl -s -X POST (\S+) (.*) -d '([^']*)'$/.exec(line)!;
          const sent: Record<string, string> = {};
          for (const [, name, value] of headers!.matchAll(/-H '([^:]+): ([^']*)'/g)) sent[name!] = value!.startsWith('<') ? key! : value!;
          return fetch(url!, { method: 'POST', headers: sent, body });
        };
        expect((await run(open!)).status).toBe(200);
        expect((await run(guarded!, 'app-key-0123456789abcdef')).status).toBe(200);
      } finally {
        cli.child.kill('SIGTERM');
        await cli.exit();
      }
    } finally {
      await stub.close();
    }
  });
});

describe('describeConfig and tryLines', () => {
  const load = (text: string) => parseConfigText(text, {});

  it('say KB is 1000 bytes and KiB 1024, as resolved', () => {
    const lines = describeConfig(
      load(`upstream: { endpoint: "http://x", ${creds} }\nflows: { a: { maxInputSize: 64KB }, b: { maxInputSize: 64KiB }, c: { maxInputSize: 1MB } }\n`),
    );
    expect(lines.filter((line) => line.includes('maxInputSize')).map((line) => /maxInputSize: (\d+) bytes/.exec(line)![1])).toEqual([
      '64000',
      '65536',
      '1000000',
    ]);
  });

  it('put the required input fields and an Idempotency-Key placeholder in the try line, and a bearer token when callers use JWTs', () => {
    const config = load(
      [
        `upstream: { endpoint: "http://x", ${creds} }`,
        'auth: { jwt: { secret: "0123456789abcdef0123456789abcdef" } }',
        'flows:',
        '  order: { idempotency: { required: true }, inputSchema: { type: object, required: [orderId, qty], properties: { qty: { type: integer } } } }',
        '',
      ].join('\n'),
    );
    expect(tryLines(config, 'http://127.0.0.1:8787')).toEqual([
      `curl -s -X POST http://127.0.0.1:8787/flows/order/run -H 'content-type: application/json' -H 'authorization: Bearer <token of a caller>' -H 'idempotency-key: <a new unique key per operation>' -d '{"orderId":"…","qty":0}'`,
    ]);
  });
});
