/**
 * The ready configs in examples/webhooks/ run offline as shipped: each file is loaded with its secrets in the
 * environment, pointed at a real emulator serving examples/webhooks/flows (as `flowgate emulator --flows
 * examples/webhooks/flows` would), and given a delivery its provider's library signed. Handshakes are answered.
 */
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { executionKey, type ExecutionRecord } from '../../src/executions/record.js';
import { loadFlowsFolder, startEmulator, type RunningEmulator } from '../../src/platform/node/emulator.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { PRESETS, type Delivery, type PresetCase } from '../webhooks/presets.js';
import { discordKeyPair, signDiscord, signSlack, signTwilio, standardWebhooksSecret } from '../webhooks/support.js';

const DIR = join(import.meta.dirname, '../../examples/webhooks');
const TWILIO_WEBHOOK_URL = 'http://127.0.0.1:8787/flows/sms-status/run';

/** What each example reads from the environment. */
const ENV: Record<string, string> = {
  GH_HOOK_SECRET: 'gh-example-secret',
  GITLAB_HOOK_TOKEN: 'gitlab-example-token',
  STRIPE_WHSEC: 'whsec_example_0123456789',
  SLACK_SIGNING_SECRET: 'slack-example-signing-secret',
  SHOPIFY_CLIENT_SECRET: 'shopify-example-client-secret',
  TWILIO_AUTH_TOKEN: 'twilio-example-auth-token',
  TWILIO_WEBHOOK_URL,
  DISCORD_PUBLIC_KEY: discordKeyPair('discord-example').publicKey,
  ZOOM_SECRET_TOKEN: 'zoom-example-secret-token',
  TWITCH_EVENTSUB_SECRET: 'twitch-example-secret',
  LINEAR_WEBHOOK_SECRET: 'lin_wh_example',
  SVIX_WHSEC: standardWebhooksSecret('example'),
  PARTNER_SECRET: 'partner-example-secret',
};
/** The key each example's deliveries are signed with (Discord: the seed of the key pair above). */
const KEY: Record<string, string> = {
  github: ENV.GH_HOOK_SECRET!,
  gitlab: ENV.GITLAB_HOOK_TOKEN!,
  stripe: ENV.STRIPE_WHSEC!,
  slack: ENV.SLACK_SIGNING_SECRET!,
  shopify: ENV.SHOPIFY_CLIENT_SECRET!,
  twilio: ENV.TWILIO_AUTH_TOKEN!,
  discord: 'discord-example',
  zoom: ENV.ZOOM_SECRET_TOKEN!,
  twitch: ENV.TWITCH_EVENTSUB_SECRET!,
  linear: ENV.LINEAR_WEBHOOK_SECRET!,
  'standard-webhooks': ENV.SVIX_WHSEC!,
  hmac: ENV.PARTNER_SECRET!,
};

const nowSec = () => Math.floor(Date.now() / 1000);
const presetOf = (provider: string) => PRESETS.find((preset) => preset.provider === provider)!;

/** A delivery for the example's flow: the preset's own, except where the example's flow expects a shape. */
async function deliveryFor(provider: string, flow: string, id: string): Promise<Delivery> {
  const key = KEY[provider]!;
  if (flow === 'slack-command') {
    const body = 'token=x&team_id=T1&channel_id=C1&user_id=U1&user_name=ada&command=%2Fdeploy&text=staging+now+please&trigger_id=1.2.3';
    return { body, headers: signSlack(body, key, nowSec(), 'application/x-www-form-urlencoded') };
  }
  if (flow === 'discord-interactions') {
    const body = JSON.stringify({ id: `9${id.replace(/\D/g, '').slice(0, 17)}`, type: 2, data: { name: 'hello' }, token: 't', version: 1 });
    return { body, headers: signDiscord(body, key, nowSec()) };
  }
  if (provider === 'twilio') {
    const body = `MessageSid=SM${id.replace(/-/g, '')}&MessageStatus=delivered&To=%2B15005550006`;
    return { body, headers: signTwilio(body, key, TWILIO_WEBHOOK_URL, `RU-${id}`) };
  }
  if (provider === 'hmac') {
    const body = `<event id="${id}">paid</event>`;
    const timestamp = String(nowSec());
    const digest = createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
    return { body, headers: new Headers({ 'content-type': 'application/xml', 'X-Partner-Signature': `sha256=${digest}`, 'X-Partner-Timestamp': timestamp }) };
  }
  return presetOf(provider).deliver(key, { id, timestampSec: nowSec() });
}

/** What the example's flow answers for that delivery (sync flows), given the Input it ran with. */
const SYNC_OUTPUT: Record<string, unknown> = {
  'slack-command': { response_type: 'ephemeral', text: 'Running /deploy staging now please' },
  'discord-interactions': { type: 4, data: { content: 'Hello from flowgate, /hello' } },
};

const files = readdirSync(DIR).filter((file) => file.endsWith('.yaml'));

describe('examples/webhooks, offline against the emulator', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, flows: loadFlowsFolder(join(DIR, 'flows')) });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('has one example per provider', () => {
    expect(files.map((file) => file.replace(/\.yaml$/, '')).sort()).toEqual(PRESETS.map((preset) => preset.provider).sort());
  });

  describe.each(files)('%s', (file) => {
    let gw: InProcessGateway;
    const raw = parseYaml(readFileSync(join(DIR, file), 'utf8')) as { upstream: Record<string, unknown>; flows: Record<string, { mode?: string }> };
    beforeAll(() => {
      // Only the emulator's port differs from the file: it listens on a free one here.
      expect(raw.upstream.endpoint).toBe('http://127.0.0.1:9400');
      gw = inProcessGateway({ ...raw, upstream: { ...raw.upstream, endpoint: emulator.url } }, { env: ENV });
    });
    afterAll(async () => {
      await gw?.close();
    });

    it('runs each flow with a delivery its provider signed, and de-duplicates the redelivery', async () => {
      for (const [flow, options] of Object.entries(gw.config.flows)) {
        const provider = options.webhook!.provider;
        const id = crypto.randomUUID();
        const delivery = await deliveryFor(provider, flow, id);
        const answer = await gw.send(`${gw.url}/flows/${flow}/run`, { body: delivery.body, headers: delivery.headers });
        if (options.mode === 'ack') {
          expect({ flow, status: answer.status }).toEqual({ flow, status: 202 });
          await gw.drain();
          const record = JSON.parse(
            (await gw.runtime.deps.records.get(executionKey(`webhook:${provider}`, answer.headers.get('x-execution-name')!)))!,
          ) as ExecutionRecord;
          expect(record.status).toBe('Succeeded');
          expect(JSON.parse(record.response!.body)).toHaveProperty('received');
        } else {
          expect({ flow, status: answer.status, json: answer.json }).toEqual({ flow, status: 200, json: SYNC_OUTPUT[flow] });
        }
        if (presetOf(provider).hasDeliveryId && flow !== 'slack-command') {
          const again = await gw.send(`${gw.url}/flows/${flow}/run`, { body: delivery.body, headers: delivery.headers });
          expect(again.headers.get('idempotent-replayed')).toBe('true');
        }
      }
    });

    it('answers its provider’s handshakes', async () => {
      for (const [flow, options] of Object.entries(gw.config.flows)) {
        const provider = options.webhook!.provider;
        for (const handshake of (presetOf(provider) as PresetCase).handshakes ?? []) {
          const answer = await gw.send(`${gw.url}/flows/${flow}/run`, await handshake.deliver(KEY[provider]!, nowSec()));
          expect({ flow, handshake: handshake.name, status: answer.status, body: answer.text }).toEqual({
            flow,
            handshake: handshake.name,
            status: handshake.status,
            body: handshake.body(KEY[provider]!),
          });
        }
      }
    });
  });
});
