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
