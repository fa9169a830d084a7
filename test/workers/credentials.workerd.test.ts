/**
 * The Worker bundle in workerd with temporary keys: `ram_role_arn` (AssumeRole over `fetch`, signed by the
 * project's RPC signer) and `credentials_uri` against the emulator on loopback, whose clock the test moves to make
 * it refuse the keys the Worker holds; and the types a Worker has no means for, refused by key path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/lib/clock.js';
import { startEmulator, type CallLogLine, type RunningEmulator } from '../../src/platform/node/emulator.js';
import { startCredentialsUri } from '../helpers/credential-stand-ins.js';
import { buildWorker, type WorkerBuild } from './helpers/build-worker.js';
import { postJson } from './helpers/http.js';
import { startWorkerd, type WorkerdGateway } from './helpers/workerd.js';
import { HELLO_PASS_FLOW as HELLO } from '../helpers/flows.js';

const KEY = { accessKeyId: 'edge-user', accessKeySecret: 'edge-user-secret' };
const ROLE = 'acs:ram::1234567890123456:role/flowgate-edge';

let build: WorkerBuild;
let emulator: RunningEmulator;
/** The emulator's clock; the Worker keeps real time. */
const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
const calls: CallLogLine[] = [];

beforeAll(async () => {
  [build, emulator] = await Promise.all([
    buildWorker(),
    startEmulator({ port: 0, accessKeys: [KEY], flows: [{ definition: HELLO }], clock, stsTokenTtlMs: 60_000, log: (line) => calls.push(line) }),
  ]);
}, 90_000);

afterAll(async () => {
  await emulator?.close(0);
  await build?.remove();
});

function config(credentials: unknown) {
  return JSON.stringify({
    upstream: { endpoint: emulator.url, timeout: '5s', credentials },
    server: { exposeUpstreamErrors: true },
    flows: { hello: { access: 'public' } },
  });
}

describe('ram_role_arn in workerd', () => {
  let edge: WorkerdGateway;

  beforeAll(async () => {
    edge = await startWorkerd(build, {
      FLOWGATE_CONFIG: config({
        type: 'ram_role_arn',
        accessKeyId: '${ROLE_USER_ID}',
        accessKeySecret: '${ROLE_USER_SECRET}',
        roleArn: ROLE,
        stsEndpoint: emulator.url,
      }),
      ROLE_USER_ID: KEY.accessKeyId,
      ROLE_USER_SECRET: KEY.accessKeySecret,
    });
  }, 60_000);

  afterAll(() => edge?.close());

  it('assumes the role once, then signs every call with the temporary keys', async () => {
    const from = calls.length;
    expect((await postJson(`${edge.url}/flows/hello/run`, '{}')).status).toBe(200);
    expect((await postJson(`${edge.url}/flows/hello/run`, '{}')).status).toBe(200);
    const seen = calls.slice(from);
    expect(seen.map((c) => [c.action, c.status])).toEqual([
      ['AssumeRole', 200],
      ['StartSyncExecution', 200],
      ['StartSyncExecution', 200],
    ]);
    expect(seen[0]!.accessKeyId).toBe(KEY.accessKeyId);
    expect(new Set(seen.slice(1).map((c) => c.accessKeyId))).toEqual(new Set([expect.stringMatching(/^STS\./)]));
    expect(edge.logs().find((l) => l.msg === 'credentials refreshed')).toMatchObject({
      type: 'ram_role_arn',
      provider: 'ram_role_arn',
      lifetimeS: expect.any(Number),
    });
    expect(edge.logs().find((l) => l.msg === 'gateway ready')).toMatchObject({ credentials: 'ram_role_arn' });
  });

  it('keys the emulator has seen expire (its clock ran ahead) are refreshed, and the call retried once', async () => {
    clock.advance(61_000);
    const from = calls.length;
    const answer = await postJson(`${edge.url}/flows/hello/run`, '{}');
    expect(answer.status).toBe(200);
    expect(calls.slice(from).map((c) => [c.action, c.code ?? c.status])).toEqual([
      ['StartSyncExecution', 'InvalidSecurityToken.Expired'],
      ['AssumeRole', 200],
      ['StartSyncExecution', 200],
    ]);
    expect(edge.logs().some((l) => l.msg === 'upstream refused the credentials as expired; refreshing')).toBe(true);
    expect(edge.output.join('\n')).not.toMatch(new RegExp(`${KEY.accessKeySecret}|CAIS|Signature=`));
  });
});

describe('credentials_uri in workerd', () => {
  it('fetches the keys from the URI', async () => {
    const sidecar = await startCredentialsUri({ issue: () => emulator.emulator.sts.issue(900) });
    const edge = await startWorkerd(build, { FLOWGATE_CONFIG: config({ type: 'credentials_uri', credentialsURI: sidecar.url }) });
    try {
      expect((await postJson(`${edge.url}/flows/hello/run`, '{}')).status).toBe(200);
      expect(sidecar.requests).toHaveLength(1);
      expect(edge.logs().find((l) => l.msg === 'credentials refreshed')).toMatchObject({ type: 'credentials_uri' });
      sidecar.failWith = 500;
      clock.advance(61_000); // the keys expire for the emulator; the Worker is refused, and the sidecar is down
      const answer = await postJson(`${edge.url}/flows/hello/run`, '{}');
      expect(answer.status).toBe(502);
      expect(answer.json).toMatchObject({ Code: 'UpstreamError' });
      expect(edge.logs().find((l) => l.msg === 'credentials refresh failed')).toMatchObject({
        type: 'credentials_uri',
        reason: 'the credentials URI answered HTTP 500',
      });
    } finally {
      await edge.close();
      await sidecar.close();
    }
  }, 60_000);
});

describe('credential errors in workerd', () => {
  it('a credentials URI with user info and a token in its query: neither is in the log, the answer or /readyz', async () => {
    const uri = 'http://user:pa55word@127.0.0.1:1/creds?token=SECRETTOKEN123#frag';
    const edge = await startWorkerd(build, { FLOWGATE_CONFIG: config({ type: 'credentials_uri', credentialsURI: uri }) });
    try {
      const answer = await postJson(`${edge.url}/flows/hello/run`, '{}');
      expect(answer.status).toBe(502);
      const failed = edge.logs().find((l) => l.msg === 'credentials refresh failed');
      expect(failed).toMatchObject({ type: 'credentials_uri' });
      const ready = await fetch(`${edge.url}/readyz`);
      const readyText = await ready.text();
      expect(ready.status).toBe(503);
      expect(JSON.parse(readyText)).toMatchObject({
        checks: { credentials: { ok: false, detail: 'credentials_uri: no valid credentials: the last refresh failed (the reason is in the log)' } },
      });
      for (const text of [JSON.stringify(edge.logs()), JSON.stringify(answer.json), readyText]) {
        expect(text).not.toMatch(/pa55word|SECRETTOKEN123|user:|frag/);
      }
    } finally {
      await edge.close();
    }
  }, 60_000);
});

describe('types a Worker has no means for', () => {
  it('ecs_ram_role is an invalid configuration, named by key path', async () => {
    const edge = await startWorkerd(build, { FLOWGATE_CONFIG: config({ type: 'ecs_ram_role' }) });
    try {
      const answer = await postJson(`${edge.url}/flows/hello/run`, '{}');
      expect(answer.status).toBe(500);
      expect(answer.json).toMatchObject({
        Code: 'InternalError',
        Message: expect.stringMatching(/^invalid configuration: upstream\.credentials\.type: ecs_ram_role is not available on Workers/),
      });
    } finally {
      await edge.close();
    }
  }, 60_000);
});
