import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/errors.js';

describe('README', () => {
  it('lists every error code with the status of src/errors.ts, and nothing else', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.split('<!-- errors-table')[1]!.split('<!-- /errors-table -->')[0]!;
    const rows = [...table.matchAll(/^\| `([A-Za-z.]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(ERRORS).map(([code, entry]) => [code, entry.status])));
  });
});

describe('README configuration reference', () => {
  it('is a valid config, as written', async () => {
    const { parseConfigText } = await import('../src/config/load.js');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.split('## Configuration')[1]!;
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const config = parseConfigText(yaml, {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret',
      MOBILE_APP_KEY: 'mobile-app-key-0123456789',
      GH_HOOK_SECRET: 'gh-hook-secret',
    });
    expect(Object.keys(config.flows)).toEqual(['hello', 'github-push', 'create-order']);
  });
});

describe('README "Credentials on Alibaba Cloud"', () => {
  it('has one example per deployment shape, each a config that loads with the type it shows', async () => {
    const { parseConfigText } = await import('../src/config/load.js');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.split('## Credentials on Alibaba Cloud')[1]!.split('\n## ')[0]!;
    const shapes = [...section.matchAll(/^\*\*([^*]+)\*\*/gm)].map((m) => m[1]!.split(/[.:]/)[0]);
    expect(shapes.slice(-5)).toEqual(['ECS or SAE', 'ACK with RRSA', 'CI', 'A sidecar that serves the keys', 'Cloudflare Workers']);
    const blocks = [...section.matchAll(/```(yaml|toml)\n([\s\S]*?)```/g)].map(([, lang, text]) =>
      lang === 'toml' ? /"""\n([\s\S]*?)"""/.exec(text!)![1]! : text!,
    );
    const env = {
      ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890123456:role/flowgate',
      ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa',
      ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token',
      CI_ACCESS_KEY_ID: 'ci-id',
      CI_ACCESS_KEY_SECRET: 'ci-secret',
      ROLE_USER_ID: 'edge-id',
      ROLE_USER_SECRET: 'edge-secret',
    };
    const types = blocks.map((text) => parseConfigText(text.includes('\nflows:') ? text : `${text}flows: { hello: {} }\n`, env).upstream.credentials.type);
    expect(types).toEqual(['ecs_ram_role', 'oidc_role_arn', 'ram_role_arn', 'credentials_uri', 'ram_role_arn', 'ram_role_arn']);
  });
});

describe('README "Try it against the emulator first"', () => {
  it('works as written: the emulator with no --flows serves the flow the config names, and the curl line answers as shown', async () => {
    const { emulatorOptionsFromArgs } = await import('../src/cli/emulator.js');
    const { startEmulator } = await import('../src/platform/node/emulator.js');
    const { parseConfigText } = await import('../src/config/load.js');
    const { createNodeRuntime } = await import('../src/platform/node/runtime.js');
    const { createApp } = await import('../src/app.js');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.split('### Try it against the emulator first')[1]!.split('\n## ')[0]!;
    const yaml = /<!-- tested by test\/readme\.test\.ts as the emulator walkthrough -->\s*```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const curl = /^curl -s -X POST http:\/\/127\.0\.0\.1:8787(\S+) -H 'content-type: application\/json' -d '([^']*)'\n# (.*)$/m.exec(section)!;

    const options = await emulatorOptionsFromArgs(['--port', '0']);
    const emulator = await startEmulator(options);
    const port = new URL(emulator.url).port;
    const logs: Record<string, unknown>[] = [];
    const runtime = createNodeRuntime(parseConfigText(yaml.replace('127.0.0.1:9400', `127.0.0.1:${port}`), {}), { log: (line) => logs.push(line) });
    try {
      const app = createApp(runtime.deps);
      const answer = await app.request(curl[1]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: curl[2]! });
      expect(answer.status).toBe(200);
      expect(await answer.text()).toBe(curl[3]);

      // The dead end it replaces: a flow the emulator does not serve, shown with exposeUpstreamErrors.
      const missing = createNodeRuntime(
        parseConfigText(
          `upstream: { endpoint: "${emulator.url}", credentials: { accessKeyId: testid, accessKeySecret: testsecret } }\nserver: { exposeUpstreamErrors: true }\nflows: { hello: { flowName: hello_world } }\n`,
          {},
        ),
        { log: () => {} },
      );
      const refused = await createApp(missing.deps).request('/flows/hello/run', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(refused.status).toBe(502);
      expect(await refused.json()).toMatchObject({ Code: 'UpstreamError', UpstreamCode: 'FlowNotExists' });
      await missing.close();
    } finally {
      await runtime.close();
      await emulator.close();
    }
  });
});

describe('docs refer only to what is in the repository', () => {
  it('has no section pointers into a design file that does not ship, and no links outside the repository folder', async () => {
    const { readdirSync } = await import('node:fs');
    const docs = ['README.md', ...readdirSync(new URL('../docs/', import.meta.url)).map((name) => `docs/${name}`)];
    for (const doc of docs) {
      const text = readFileSync(new URL(`../${doc}`, import.meta.url), 'utf8');
      expect(text, doc).not.toMatch(/design\.md\s*§|\.\.\/shared|reference\/(anchors|aesthetics|cloudflow-api|cloudflow-fdl)\.md/);
      // Relative links resolve to files that exist.
      for (const [, target] of text.matchAll(/\]\((?!https?:|#|mailto:)([^)#\s]+)/g)) {
        const base = doc.startsWith('docs/') ? '../docs/' : '../';
        expect(statSync(new URL(`${base}${target}`, import.meta.url), { throwIfNoEntry: false }), `${doc} links ${target}`).toBeDefined();
      }
    }
  });
});

/** One `curl` line as the README writes it: method, URL, headers and body, then `# <status> <JSON>`. */
function parseCurl(line: string): { method: string; url: string; headers: Record<string, string>; body?: string; status: number; json: unknown } {
  const [command, comment] = line.split(/\s+#\s+/);
  const words = [...command!.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  let method = 'GET';
  let url = '';
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (word === '-s') continue;
    else if (word === '-X') method = words[++i]!;
    else if (word === '-H') {
      const [name, ...value] = words[++i]!.split(':');
      headers[name!.trim()] = value.join(':').trim();
    } else if (word === '-d') body = words[++i]!;
    else url = word;
  }
  const [, status, json] = /^(\d{3}) (.*)$/.exec(comment!)!;
  return { method, url, headers, ...(body === undefined ? {} : { body }), status: Number(status), json: JSON.parse(json!) };
}

describe('README demo routes', () => {
  it('each route curl line answers as written, against the demo', async () => {
    const { startDemo } = await import('../src/cli/demo.js');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const lines = readme
      .split('<!-- route-demo -->')[1]!
      .split('<!-- /route-demo -->')[0]!
      .split('\n')
      .filter((l) => l.startsWith('curl '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const demo = await startDemo({ port: 0, host: '127.0.0.1', emulatorPort: 0, log: () => {} });
    try {
      const requests = lines.map(parseCurl);
      expect(new Set(requests.map((r) => `${r.method} ${new URL(r.url).pathname.split('/').slice(0, 3).join('/')}`))).toEqual(
        new Set(['GET /v1/quotes', 'POST /v1/orders']),
      );
      for (const request of requests) {
        const target = new URL(request.url);
        const res = await fetch(`${demo.gatewayUrl}${target.pathname}${target.search}`, {
          method: request.method,
          headers: request.headers,
          body: request.body,
        });
        const json = (await res.json()) as Record<string, unknown>;
        const expected = request.json as Record<string, unknown>;
        // "…" stands for a value that differs on every run (the request id).
        for (const [key, value] of Object.entries(expected)) if (value === '…') expected[key] = json[key];
        expect([res.status, json]).toEqual([request.status, expected]);
      }
    } finally {
      await demo.close();
    }
  });
});
