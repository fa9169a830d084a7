/** `flowgate check` refuses a broken `inputSchema` and a bad route by key path, through the config loader. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli } from './helpers/spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-cli-schema-'));
const credsEnv = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };

describe('flowgate check', () => {
  it('exits 2 naming the broken schema place and the bad route, and 0 once both are fixed', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'upstream: { endpoint: "http://127.0.0.1:9" }',
        'flows:',
        '  orders: { inputSchema: { type: object, properties: { id: { type: integr } } } }',
        'routes:',
        '  - { method: GET, path: /v1/orders/:id, flow: orders, input: { id: "{path.orderId}" } }',
        '  - { method: GET, path: /healthz, flow: orders }',
        '',
      ].join('\n'),
    );
    const cli = await spawnCli(['check', '--config', bad], { env: credsEnv });
    expect(await cli.exit()).toBe(2);
    expect(cli.stderr()).toContain('flows.orders.inputSchema.properties.id.type: not valid by the JSON Schema 2020-12 meta-schema (anyOf)');
    expect(cli.stderr()).toContain('routes.0.input.id: the path declares no parameter "orderId"');
    expect(cli.stderr()).toContain("routes.1.path: could match flowgate's own /healthz");

    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      [
        'upstream: { endpoint: "http://127.0.0.1:9" }',
        'flows:',
        '  orders: { inputSchema: { type: object, properties: { id: { type: integer } } } }',
        'routes:',
        '  - { method: GET, path: /v1/orders/:id, flow: orders, input: { id: "{path.id}" } }',
        '',
      ].join('\n'),
    );
    const ok = await spawnCli(['check', '--config', good], { env: credsEnv });
    expect(await ok.exit()).toBe(0);
  });
});
