import { readFileSync } from 'node:fs';
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
