/** The `webhook` block is checked per provider at load, so a bad one stops the start naming the key path. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { createApp } from '../../src/app.js';
import { createNodeRuntime } from '../../src/platform/node/runtime.js';
import { spawnCli } from '../helpers/spawn.js';
import { discordKeyPair } from '../webhooks/support.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret' };
const withWebhook = (webhook: unknown) => ({ upstream: { endpoint: 'http://127.0.0.1:9' }, flows: { hook: { webhook } } });

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('webhook config', () => {
  it('accepts each provider with its own options, hmac with timestampHeader', () => {
    for (const provider of ['github', 'stripe', 'slack', 'standard-webhooks'] as const) {
      expect(issuesOf(withWebhook({ provider, secrets: provider === 'standard-webhooks' ? [`whsec_${btoa('a'.repeat(24))}`] : ['s3cret'] }))).toEqual([]);
    }
    const config = parseConfig(
      withWebhook({
        provider: 'hmac',
        secrets: ['s3cret'],
        header: 'X-Sig',
        algorithm: 'sha512',
        encoding: 'base64',
        prefix: 'sha512=',
        timestampHeader: 'X-Ts',
      }),
      env,
    );
    expect(config.flows.hook!.webhook).toMatchObject({ timestampHeader: 'X-Ts', tolerance: 300_000, dedupeTtl: 4 * 86_400_000 });
    expect(config.flows.hook!.access).toBe('public');
  });

  it('hmac-only options on another provider are refused, naming the key', () => {
    expect(issuesOf(withWebhook({ provider: 'github', secrets: ['s'], header: 'X-Sig', timestampHeader: 'X-Ts' }))).toEqual([
      'flows.hook.webhook.header: applies only to provider "hmac", not "github"',
      'flows.hook.webhook.timestampHeader: applies only to provider "hmac", not "github"',
    ]);
    expect(issuesOf(withWebhook({ provider: 'hmac', secrets: ['s'] }))).toEqual([
      'flows.hook.webhook.header: provider "hmac" needs "header", the header carrying the signature',
    ]);
    expect(issuesOf(withWebhook({ provider: 'bitbucket', secrets: ['s'] }))[0]).toMatch(/^flows\.hook\.webhook\.provider: /);
  });

  it('each provider loads with its own options, and its default window', () => {
    const config = parseConfig(
      {
        upstream: { endpoint: 'http://127.0.0.1:9' },
        flows: {
          gl: { webhook: { provider: 'gitlab', secrets: ['t'] } },
          shop: { webhook: { provider: 'shopify', secrets: ['s'] } },
          sms: { webhook: { provider: 'twilio', secrets: ['s'], publicUrl: 'https://gw.example.com/flows/sms/run' } },
          bot: { webhook: { provider: 'discord', publicKey: discordKeyPair('a').publicKey } },
          bots: { webhook: { provider: 'discord', publicKey: [discordKeyPair('a').publicKey, discordKeyPair('b').publicKey] } },
          meet: { webhook: { provider: 'zoom', secrets: ['s'] } },
          stream: { webhook: { provider: 'twitch', secrets: ['ten-or-more-chars'] } },
          issues: { webhook: { provider: 'linear', secrets: ['s'] } },
          issues30: { webhook: { provider: 'linear', secrets: ['s'], tolerance: '30s' } },
          partner: { webhook: { provider: 'hmac', secrets: ['s'], header: 'X-Sig', body: 'text' } },
        },
      },
      env,
    );
    const tolerance = (name: string) => config.flows[name]!.webhook!.tolerance;
    expect([tolerance('meet'), tolerance('stream'), tolerance('issues'), tolerance('issues30')]).toEqual([300_000, 600_000, 60_000, 30_000]);
    expect(config.flows.partner!.webhook!.body).toBe('text');
  });

  it('options missing or misplaced for a provider are refused, naming the key', () => {
    expect(issuesOf(withWebhook({ provider: 'twilio', secrets: ['s'] }))).toEqual([
      'flows.hook.webhook.publicUrl: provider "twilio" needs "publicUrl", the URL Twilio posts to (Twilio signs it)',
    ]);
    expect(issuesOf(withWebhook({ provider: 'discord', secrets: ['s'] }))).toEqual([
      'flows.hook.webhook.secrets: provider "discord" verifies with "publicKey"; "secrets" do not apply',
      'flows.hook.webhook.publicKey: provider "discord" needs "publicKey", the application\'s public key (hex)',
    ]);
    expect(issuesOf(withWebhook({ provider: 'zoom' }))).toEqual(['flows.hook.webhook.secrets: provider "zoom" needs "secrets", a non-empty list']);
    expect(issuesOf(withWebhook({ provider: 'slack', secrets: ['s'], body: 'form', publicUrl: 'https://x.example', publicKey: 'ab' }))).toEqual([
      'flows.hook.webhook.body: applies only to provider "hmac", not "slack"',
      'flows.hook.webhook.publicUrl: applies only to provider "twilio", not "slack"',
      'flows.hook.webhook.publicKey: applies only to provider "discord", not "slack"',
    ]);
    expect(issuesOf(withWebhook({ provider: 'hmac', secrets: ['s'], header: 'X-Sig', body: 'xml' }))[0]).toMatch(/^flows\.hook\.webhook\.body: /);
  });

  it('a replay window is refused where the sender signs no timestamp, naming the key', () => {
    for (const webhook of [
      { provider: 'github', secrets: ['s'] },
      { provider: 'gitlab', secrets: ['s'] },
      { provider: 'shopify', secrets: ['s'] },
      { provider: 'twilio', secrets: ['s'], publicUrl: 'https://gw.example.com/flows/sms/run' },
    ]) {
      expect(issuesOf(withWebhook({ ...webhook, tolerance: '5m' }))).toEqual([
        `flows.hook.webhook.tolerance: provider "${webhook.provider}" signs no timestamp, so there is no replay window to set`,
      ]);
    }
    expect(issuesOf(withWebhook({ provider: 'hmac', secrets: ['s'], header: 'X-Sig', tolerance: '5m' }))).toEqual([
      'flows.hook.webhook.tolerance: provider "hmac" without "timestampHeader" signs no timestamp, so there is no replay window to set',
    ]);
    // Without tolerance these load, and carry no window.
    const config = parseConfig(withWebhook({ provider: 'github', secrets: ['s'] }), env);
    expect(config.flows.hook!.webhook!.tolerance).toBeUndefined();
    expect(
      parseConfig(withWebhook({ provider: 'hmac', secrets: ['s'], header: 'X-Sig', timestampHeader: 'X-Ts', tolerance: '2m' }), env).flows.hook!.webhook!
        .tolerance,
    ).toBe(120_000);
  });

  it('tolerance and dedupeTtl out of their ranges, or a dedupeTtl shorter than the window, are refused', () => {
    for (const tolerance of ['500ms', '0s', '61m', '2h']) {
      expect(issuesOf(withWebhook({ provider: 'stripe', secrets: ['s'], tolerance })), tolerance).toEqual([
        'flows.hook.webhook.tolerance: must be from 1s to 1h',
      ]);
    }
    for (const tolerance of ['1s', '1h']) expect(issuesOf(withWebhook({ provider: 'stripe', secrets: ['s'], tolerance, dedupeTtl: '1h' }))).toEqual([]);
    for (const dedupeTtl of ['59s', '0s', '31d']) {
      expect(issuesOf(withWebhook({ provider: 'github', secrets: ['s'], dedupeTtl })), dedupeTtl).toEqual([
        'flows.hook.webhook.dedupeTtl: must be from 1m to 30d',
      ]);
    }
    expect(issuesOf(withWebhook({ provider: 'github', secrets: ['s'], dedupeTtl: '1m' }))).toEqual([]);
    // Twitch's window is 10 minutes by default: ids remembered for 5 would let a replay at minute 7 run again.
    expect(issuesOf(withWebhook({ provider: 'twitch', secrets: ['ten-or-more-chars'], dedupeTtl: '5m' }))).toEqual([
      'flows.hook.webhook.dedupeTtl: must be at least the tolerance: a delivery replayed after its id is forgotten but inside the window would run again',
    ]);
    expect(issuesOf(withWebhook({ provider: 'stripe', secrets: ['s'], tolerance: '30m', dedupeTtl: '20m' }))[0]).toMatch(
      /^flows\.hook\.webhook\.dedupeTtl: must be at least/,
    );
  });

  it('hmac refuses a timestampHeader that is the signature header', () => {
    expect(issuesOf(withWebhook({ provider: 'hmac', secrets: ['s'], header: 'X-Sig', timestampHeader: 'x-sig' }))).toEqual([
      'flows.hook.webhook.timestampHeader: must be another header than "header": one header cannot carry both the signature and the timestamp',
    ]);
  });

  it('values the factory checks stop the load: a public key, a public URL, a Twitch secret', () => {
    expect(issuesOf(withWebhook({ provider: 'discord', publicKey: 'not-a-key' }))).toEqual([
      'flows.hook.webhook: webhook publicKey must be 64 hex digits (an Ed25519 public key)',
    ]);
    expect(issuesOf(withWebhook({ provider: 'twilio', secrets: ['s'], publicUrl: 'https://gw.example.com/flows/sms/run?from=twilio' }))).toEqual([
      "flows.hook.webhook: webhook publicUrl must have no query or fragment: the request's own query string is what Twilio signs after the path",
    ]);
    expect(issuesOf(withWebhook({ provider: 'twilio', secrets: ['s'], publicUrl: 'gw.example.com/flows/sms/run' }))).toEqual([
      'flows.hook.webhook: webhook publicUrl must be an absolute http(s) URL',
    ]);
    expect(issuesOf(withWebhook({ provider: 'twitch', secrets: ['short'] }))).toEqual([
      "flows.hook.webhook: webhook secrets[0] must be 10 to 100 ASCII characters (Twitch's rule)",
    ]);
  });

  it("the verifier factory's checks stop the load too, without echoing the secret", () => {
    const issues = issuesOf(withWebhook({ provider: 'stripe', secrets: ['whsec_abc\n'] }));
    expect(issues).toEqual(['flows.hook.webhook: webhook secrets[0] has leading or trailing whitespace']);
    expect(issuesOf(withWebhook({ provider: 'hmac', secrets: ['s'], header: 'bad header' }))).toEqual([
      'flows.hook.webhook: webhook provider "hmac" needs "header", a valid header name',
    ]);
  });

  it('createApp builds the verifiers, so options that slipped past the loader still stop the start', () => {
    const config = parseConfig(withWebhook({ provider: 'github', secrets: ['s'] }), env);
    const runtime = createNodeRuntime({
      ...config,
      flows: { hook: { ...config.flows.hook!, webhook: { ...config.flows.hook!.webhook!, secrets: [' padded'] } } },
    });
    expect(() => createApp(runtime.deps)).toThrow('flows.hook.webhook: webhook secrets[0] has leading or trailing whitespace');
  });

  it('flowgate check and serve exit 2 on a bad webhook block and name the key path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-webhook-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'upstream: { endpoint: "http://127.0.0.1:9" }\nflows:\n  hook: { webhook: { provider: slack, secrets: ["very-secret-value"], prefix: "v0=" } }\n',
    );
    for (const command of ['check', 'serve']) {
      const cli = await spawnCli([command, '--config', file], { env });
      expect(await cli.exit()).toBe(2);
      expect(cli.stderr()).toContain('flows.hook.webhook.prefix: applies only to provider "hmac", not "slack"');
      expect(cli.stderr()).not.toContain('very-secret-value');
    }
  });
});
