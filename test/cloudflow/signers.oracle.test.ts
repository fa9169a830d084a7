import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { signV3 } from '../../src/cloudflow/signing/v3.js';
import { signRpc } from '../../src/cloudflow/signing/rpc.js';
import { createCloudFlowClient } from '../../src/cloudflow/client.js';
import { staticCredentials } from '../../src/cloudflow/credentials.js';
import type { UpstreamRequest } from '../../src/cloudflow/transport.js';
import { sha256Hex } from '../../src/cloudflow/signing/digests.js';

/**
 * The official Alibaba client is the oracle. Its date and nonce are pinned, it sends real requests
 * to a loopback capture server, and our signer must reproduce the Authorization (V3) and Signature
 * (RPC) it computed, over the same headers and body, for awkward generated inputs.
 */
const require = createRequire(import.meta.url);
const clientRequire = createRequire(require.resolve('@alicloud/openapi-client'));
const OpenApi = clientRequire('@alicloud/openapi-client');
const TeaUtil = clientRequire('@alicloud/tea-util').default;
const OpenApiUtil = clientRequire('@alicloud/openapi-util').default;

const DATE = '2024-01-01T00:00:00Z';
const NONCE = '3156853299f313e23d1673dc12e1703d';
const CREDS = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };
const RUNS = 200;

interface Captured {
  url: string;
  headers: Record<string, string>;
  body: string;
}

let server: Server;
let port = 0;
let last: Captured | undefined;
const originals = { getTimestamp: OpenApiUtil.getTimestamp, getNonce: TeaUtil.getNonce };

beforeAll(async () => {
  OpenApiUtil.getTimestamp = () => DATE;
  TeaUtil.getNonce = () => NONCE;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      last = { url: req.url ?? '/', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ RequestId: 'r', Status: 'Succeeded', Output: '{}', Name: 'n:1', FlowName: 'f' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  OpenApiUtil.getTimestamp = originals.getTimestamp;
  TeaUtil.getNonce = originals.getNonce;
  await new Promise<void>((r) => server.close(() => r()));
});

const awkwardPiece = fc.oneof(
  fc.constantFrom(
    'ü',
    '😀',
    '🇨🇳',
    ' ',
    '*',
    '~',
    "'",
    '!',
    '(',
    ')',
    '+',
    '%',
    '\n',
    '\r\n',
    '&',
    '=',
    '?',
    '/',
    '"',
    '\\',
    '中文',
    '\t',
    '#',
    '%20',
    '%2A',
    ':',
    ';',
    ',',
  ),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const awkward = fc.array(awkwardPiece, { maxLength: 24 }).map((parts) => parts.join(''));
const bigText = fc.constantFrom('a', 'ü', ' *~', '😀').map((unit) => unit.repeat(Math.floor((60 * 1024) / new TextEncoder().encode(unit).length)));
const flowName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,40}$/);
const request = fc.record({
  FlowName: flowName,
  Input: fc.oneof({ weight: 9, arbitrary: awkward }, { weight: 1, arbitrary: bigText }).map((text) => JSON.stringify({ key: text, n: 1 })),
  ExecutionName: fc.option(flowName, { nil: undefined }),
  Qualifier: fc.option(
    fc.oneof(
      fc.constantFrom('1', 'prod', 'LATEST'),
      awkward.filter((s) => s.length > 0),
    ),
    { nil: undefined },
  ),
  securityToken: fc.option(fc.constantFrom('testtoken', 'CAIS+token/with==chars'), { nil: undefined }),
});

type Generated = { FlowName: string; Input: string; ExecutionName: string | undefined; Qualifier: string | undefined; securityToken: string | undefined };

function bodyOf(r: Generated): Record<string, string> {
  const body: Record<string, string> = { FlowName: r.FlowName, Input: r.Input };
  if (r.ExecutionName) body.ExecutionName = r.ExecutionName;
  if (r.Qualifier) body.Qualifier = r.Qualifier;
  return body;
}

async function officialCall(r: Generated, mode: 'v3' | 'rpc'): Promise<Captured> {
  const config = new OpenApi.Config({ ...CREDS, securityToken: r.securityToken, endpoint: `127.0.0.1:${port}`, protocol: 'http', regionId: 'cn-hangzhou' });
  if (mode === 'rpc') config.signatureAlgorithm = 'v2';
  const client = new OpenApi.default(config);
  const params = new OpenApi.Params({
    action: 'StartSyncExecution',
    version: '2019-03-15',
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  last = undefined;
  await client.callApi(params, new OpenApi.OpenApiRequest({ body: bodyOf(r) }), new (clientRequire('@alicloud/tea-util').RuntimeOptions)({ autoretry: false }));
  return last!;
}

describe('signers agree with the official client (property-based)', () => {
  it(`V3: the same Authorization over the official client's own headers and body (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const sent = await officialCall(r, 'v3');
        const { authorization, ...headers } = sent.headers;
        const signedByClient = /SignedHeaders=([^,]+)/.exec(authorization!)![1]!.split(';');
        const ours = await signV3(
          {
            method: 'POST',
            headers: Object.fromEntries(Object.entries(headers).filter(([name]) => signedByClient.includes(name) && name !== 'x-acs-security-token')),
            body: sent.body,
          },
          { ...CREDS, securityToken: r.securityToken },
          { date: DATE, nonce: NONCE },
        );
        expect(ours.authorization).toBe(authorization);
        expect(ours['x-acs-content-sha256']).toBe(headers['x-acs-content-sha256']);
      }),
      { numRuns: RUNS },
    );
  });

  it(`RPC: the same Signature over the official client's query and form (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const sent = await officialCall(r, 'rpc');
        const query = Object.fromEntries(new URL(sent.url, 'http://x').searchParams);
        const { Signature, ...common } = query;
        const form = Object.fromEntries(new URLSearchParams(sent.body));
        expect(form).toEqual(bodyOf(r));
        expect(await signRpc('POST', { ...common, ...form }, CREDS.accessKeySecret)).toBe(Signature);
      }),
      { numRuns: RUNS },
    );
  });

  it(`our client's requests verify under the official util, V3 and RPC, with and without STS, the Input as text or bytes (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(request, fc.constantFrom('v3' as const, 'rpc' as const), fc.boolean(), async (r, signatureVersion, inputAsBytes) => {
        let captured: UpstreamRequest | undefined;
        const client = createCloudFlowClient({
          endpoint: 'https://cn-hangzhou.fnf.aliyuncs.com',
          credentials: staticCredentials({ ...CREDS, securityToken: r.securityToken }),
          signatureVersion,
          clock: { now: () => Date.parse(DATE) },
          random: { uuid: () => 'u', nonce: () => NONCE },
          transport: async (req) => {
            captured = req;
            return { status: 200, header: () => null, text: async () => '{"Status":"Succeeded","Output":"{}","Name":"n:1"}' };
          },
        });
        const input = inputAsBytes ? new TextEncoder().encode(r.Input) : r.Input;
        await client.startSyncExecution({ flowName: r.FlowName, input, executionName: r.ExecutionName, qualifier: r.Qualifier });
        const req = captured!;
        const form = Object.fromEntries(new URLSearchParams(new TextDecoder().decode(req.body)));
        expect(form).toEqual(bodyOf(r));
        if (signatureVersion === 'v3') {
          const { authorization, ...headers } = req.headers;
          const hash = await sha256Hex(req.body);
          const expected = OpenApiUtil.getAuthorization(
            { method: 'POST', pathname: '/', headers, query: {} },
            'ACS3-HMAC-SHA256',
            hash,
            CREDS.accessKeyId,
            CREDS.accessKeySecret,
          );
          expect(authorization).toBe(expected);
          if (r.securityToken) expect(headers['x-acs-security-token']).toBe(r.securityToken);
        } else {
          const query = Object.fromEntries(new URL(req.url).searchParams);
          const { Signature, ...common } = query;
          expect(OpenApiUtil.getRPCSignature({ ...common, ...bodyOf(r) }, 'POST', CREDS.accessKeySecret)).toBe(Signature);
          if (r.securityToken) expect(common.SecurityToken).toBe(r.securityToken);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
