/**
 * Webhook bodies that are not JSON, end to end: the signature is checked over the raw bytes before the
 * content type is judged, and only then does the body become the Input (Slack's slash commands and
 * interactivity, GitHub's form content type, generic hmac forms and text). Flows without a webhook keep
 * the JSON-only rule.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/lib/clock.js';
import { inProcessGateway, type InProcessGateway } from '../helpers/in-process.js';
import { inProcessUpstream, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { NOW_MS, githubHeaders, signSlack } from '../webhooks/support.js';

const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const GH_SECRET = 'gh-form-hook-secret';
const PARTNER_SECRET = 'partner-shared-secret';
const FORM = 'application/x-www-form-urlencoded';

/** A slash command as Slack posts it (the shape of Slack's own "Verifying requests" example). */
const SLASH_COMMAND =
  'token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&enterprise_id=E0001&enterprise_name=Globular%20Construct%20Inc' +
  '&channel_id=C2147483705&channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Fdeploy&text=staging+now+please' +
  '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0&api_app_id=A123456';

const partnerHeaders = (body: string, type: string) =>
  new Headers({ 'content-type': type, 'X-Partner-Signature': createHmac('sha256', PARTNER_SECRET).update(body).digest('hex') });

describe('webhook bodies that are not JSON', () => {
  let stub: UpstreamStub;
  let gw: InProcessGateway;
  const clock = manualClock(NOW_MS);

  beforeAll(() => {
    stub = inProcessUpstream();
    gw = inProcessGateway(
      {
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '2s' },
        server: { maxJsonDepth: 8 },
        flows: {
          slack: { flowName: 'on_slack', webhook: { provider: 'slack', secrets: [SLACK_SECRET] } },
          github: { flowName: 'on_push', webhook: { provider: 'github', secrets: [GH_SECRET] } },
          partner: { webhook: { provider: 'hmac', secrets: [PARTNER_SECRET], header: 'X-Partner-Signature' }, maxInputSize: 1024 },
          'partner-text': { webhook: { provider: 'hmac', secrets: [PARTNER_SECRET], header: 'X-Partner-Signature', body: 'text' }, maxInputSize: 1024 },
          plain: {},
        },
      },
      { clock },
    );
  });
  afterAll(async () => {
    await gw.close();
    await stub.close();
  });

  const post = (flow: string, body: string, headers: Headers) => gw.send(`${gw.url}/flows/${flow}/run`, { body, headers });
  const lastInput = () => stub.calls.at(-1)!.form.Input!;

  /** Runs `send` and asserts CloudFlow was not called for it. */
  async function nothingRuns<T>(send: () => Promise<T>): Promise<T> {
    const before = stub.calls.length;
    const answer = await send();
    expect(stub.calls.length).toBe(before);
    return answer;
  }

  describe('slack', () => {
    it('a signed slash command runs the flow with its form fields as the Input', async () => {
      const answer = await post('slack', SLASH_COMMAND, signSlack(SLASH_COMMAND, SLACK_SECRET, undefined, FORM));
      expect(answer.status).toBe(200);
      const input = JSON.parse(lastInput()) as Record<string, string>;
      expect(input).toMatchObject({ command: '/deploy', text: 'staging now please', user_name: 'Steve', enterprise_name: 'Globular Construct Inc' });
      expect(input.response_url).toBe('https://hooks.slack.com/commands/1234/5678');
      expect(Object.keys(input)).toHaveLength(14);
    });

    it('the same command with a wrong secret is 401, not 415, and runs nothing', async () => {
      const answer = await nothingRuns(() => post('slack', SLASH_COMMAND, signSlack(SLASH_COMMAND, 'not-the-signing-secret', undefined, FORM)));
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ Code: 'InvalidSignature' });
    });

    it('interactivity, shortcuts and options loads: the JSON in payload is the Input, as sent', async () => {
      const payload = '{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"approve","value":"12345678901234567890"}],"n":12345678901234567890}';
      const body = `payload=${encodeURIComponent(payload)}`;
      expect((await post('slack', body, signSlack(body, SLACK_SECRET, undefined, FORM))).status).toBe(200);
      expect(lastInput()).toBe(payload);
    });

    it('ssl_check gets an empty 200 once signed, and runs nothing', async () => {
      const body = 'ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO';
      const answer = await nothingRuns(() => post('slack', body, signSlack(body, SLACK_SECRET, undefined, FORM)));
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('');
      expect((await nothingRuns(() => post('slack', body, signSlack(body, 'wrong', undefined, FORM)))).status).toBe(401);
    });

    it('a signed body of a type Slack never posts is 415 after the signature; unsigned it is 401', async () => {
      const body = 'hello';
      const answer = await nothingRuns(() => post('slack', body, signSlack(body, SLACK_SECRET, undefined, 'text/plain')));
      expect(answer.status).toBe(415);
      expect(answer.json).toMatchObject({
        Code: 'UnsupportedMediaType',
        Message: 'The content type must be "application/json" or "application/x-www-form-urlencoded".',
      });
      expect((await nothingRuns(() => post('slack', body, new Headers({ 'content-type': 'text/plain' })))).status).toBe(401);
    });
  });

  describe('github', () => {
    it('a hook set to application/x-www-form-urlencoded: the payload JSON is the Input', async () => {
      const payload = JSON.stringify({ ref: 'refs/heads/main', marker: randomUUID() });
      const body = `payload=${encodeURIComponent(payload)}`;
      const headers = githubHeaders(await octokitSign(GH_SECRET, body), randomUUID());
      headers.set('content-type', FORM);
      expect((await post('github', body, headers)).status).toBe(200);
      expect(lastInput()).toBe(payload);
    });

    it('a form without its payload field is 400 once signed', async () => {
      const body = 'ref=refs%2Fheads%2Fmain';
      const headers = githubHeaders(await octokitSign(GH_SECRET, body), randomUUID());
      headers.set('content-type', FORM);
      const answer = await nothingRuns(() => post('github', body, headers));
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ Message: 'Parameter error. The form body must have exactly one "payload" field.' });
    });
  });

  describe('generic hmac', () => {
    it('JSON as before, and a form body as an object of its fields, a repeated name as an array', async () => {
      expect((await post('partner', '{"a":1}', partnerHeaders('{"a":1}', 'application/json'))).status).toBe(200);
      expect(lastInput()).toBe('{"a":1}');
      const form = 'order=17&item=book&item=pen&note=gift+wrap';
      expect((await post('partner', form, partnerHeaders(form, FORM))).status).toBe(200);
      expect(lastInput()).toBe('{"order":"17","item":["book","pen"],"note":"gift wrap"}');
    });

    it('another type is 415 unless the flow says how to read it; body: text gives {"body": …}', async () => {
      const xml = '<order id="17"/>';
      expect((await nothingRuns(() => post('partner', xml, partnerHeaders(xml, 'application/xml')))).status).toBe(415);
      expect((await post('partner-text', xml, partnerHeaders(xml, 'application/xml'))).status).toBe(200);
      expect(lastInput()).toBe('{"body":"<order id=\\"17\\"/>"}');
    });

    it('maxInputSize applies to the decoded Input, not to the raw body', async () => {
      // 600 quote marks are 600 bytes sent, and 1,211 bytes of Input once each is escaped in JSON.
      const text = '"'.repeat(600);
      const answer = await nothingRuns(() => post('partner-text', text, partnerHeaders(text, 'text/plain')));
      expect(answer.status).toBe(413);
      expect(answer.json).toMatchObject({ Code: 'EntityTooLarge', Message: 'The payload size exceeds maximum allowed size (1024 bytes).' });
    });
  });

  it('the depth limit applies to JSON inside a payload field', async () => {
    const payload = `{"a":${'['.repeat(10)}${']'.repeat(10)}}`;
    const body = `payload=${encodeURIComponent(payload)}`;
    const answer = await nothingRuns(() => post('slack', body, signSlack(body, SLACK_SECRET, undefined, FORM)));
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ Message: 'Parameter error. The "payload" field is nested deeper than 8 levels of JSON.' });
  });

  it('a flow without webhook keeps the JSON-only rule', async () => {
    const answer = await nothingRuns(() => post('plain', 'a=1', new Headers({ 'content-type': FORM })));
    expect(answer.status).toBe(415);
    expect(answer.json).toMatchObject({ Code: 'UnsupportedMediaType', Message: 'The content type must be "application/json".' });
  });
});
