import { describe, expect, it } from 'vitest';
import { canonicalRequestV3, signV3, stringToSignV3, v3Signer, EMPTY_SHA256 } from '../../src/cloudflow/signing/v3.js';
import { signRpc, stringToSignRpc } from '../../src/cloudflow/signing/rpc.js';
import { formEncode } from '../../src/cloudflow/signing/encoding.js';
import { webCrypto } from '../../src/cloudflow/signing/digests.js';
import { nodeCrypto } from '../../src/platform/node/digests.js';

describe.each([
  ['Web Crypto', webCrypto],
  ['node:crypto', nodeCrypto],
])('digest provider %s', (_name, digests) => {
  it('reproduces the official V3 and RPC vectors', async () => {
    const headers = await signV3(
      {
        method: 'POST',
        query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
        headers: { host: 'ecs.cn-shanghai.aliyuncs.com', 'x-acs-action': 'RunInstances', 'x-acs-version': '2014-05-26' },
        body: '',
      },
      { accessKeyId: 'YourAccessKeyId', accessKeySecret: 'YourAccessKeySecret' },
      { date: '2023-10-26T10:22:32Z', nonce: '3156853299f313e23d1673dc12e1703d', crypto: digests },
    );
    expect(headers.authorization).toMatch(/Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0$/);
    const params = {
      AccessKeyId: 'testid',
      Action: 'DescribeDedicatedHosts',
      Format: 'JSON',
      RegionId: 'cn-beijing',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: 'edb2b34af0af9a6d14deaf7c1a5315eb',
      SignatureVersion: '1.0',
      Timestamp: '2023-03-13T08:34:30Z',
      Version: '2014-05-26',
    };
    expect(await signRpc('GET', params, 'testsecret', digests)).toBe('9NaGiOspFP5UPcwX8Iwt2YJXXuk=');
  });

  it('hashes unicode bodies identically', async () => {
    const body = '{"k":"ü😀 中文 *()!~"}';
    expect(await digests.sha256Hex(body)).toBe(await webCrypto.sha256Hex(new TextEncoder().encode(body)));
  });
});

describe('V3 ACS3-HMAC-SHA256: the official test vector', () => {
  const req = {
    method: 'POST',
    query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
    headers: { host: 'ecs.cn-shanghai.aliyuncs.com', 'x-acs-action': 'RunInstances', 'x-acs-version': '2014-05-26' },
    body: '',
  };
  const options = { date: '2023-10-26T10:22:32Z', nonce: '3156853299f313e23d1673dc12e1703d' };

  it('builds the documented canonical request and string to sign', async () => {
    const headers = { ...req.headers, 'x-acs-date': options.date, 'x-acs-signature-nonce': options.nonce, 'x-acs-content-sha256': EMPTY_SHA256 };
    const { canonicalRequest } = canonicalRequestV3({ ...req, headers }, EMPTY_SHA256);
    expect(canonicalRequest).toBe(
      [
        'POST',
        '/',
        'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
        'host:ecs.cn-shanghai.aliyuncs.com',
        'x-acs-action:RunInstances',
        `x-acs-content-sha256:${EMPTY_SHA256}`,
        'x-acs-date:2023-10-26T10:22:32Z',
        'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
        'x-acs-version:2014-05-26',
        '',
        'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        EMPTY_SHA256,
      ].join('\n'),
    );
    expect(await stringToSignV3(canonicalRequest)).toBe('ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259');
  });

  it('produces the documented Authorization', async () => {
    const headers = await signV3(req, { accessKeyId: 'YourAccessKeyId', accessKeySecret: 'YourAccessKeySecret' }, options);
    expect(headers.authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
    );
  });
});

describe('V3: the StartSyncExecution fixtures', () => {
  const body = formEncode({ FlowName: 'my_flow', Input: '{"key":"value"}' });
  const base = {
    method: 'POST',
    headers: {
      host: 'cn-hangzhou.fnf.aliyuncs.com',
      'x-acs-action': 'StartSyncExecution',
      'x-acs-version': '2019-03-15',
      'content-type': 'application/x-www-form-urlencoded',
    } as Record<string, string>,
    body,
  };
  const options = { date: '2024-01-01T00:00:00Z', nonce: '3156853299f313e23d1673dc12e1703d' };
  const creds = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };

  it('encodes the body as the fixture does', () => {
    expect(body).toBe('FlowName=my_flow&Input=%7B%22key%22%3A%22value%22%7D');
  });

  it('matches the derived gateway fixture', async () => {
    const headers = await signV3(base, creds, options);
    expect(headers['x-acs-content-sha256']).toBe('1778b111f2cde262c81c875145d63595cb1b8ca7f81e8098e07e3af42a875462');
    expect(headers.authorization).toMatch(/,Signature=c6d60a435c0cf34b66cc77fdc40894335c4a4037fb4908a1708beb51603e14c7$/);
  });

  it('matches the official client capture #7 (with x-acs-credentials-provider signed)', async () => {
    const headers = await signV3({ ...base, headers: { ...base.headers, 'x-acs-credentials-provider': 'static_ak' } }, creds, options);
    expect(headers.authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=c6a73b571504693a4c81f19bdef2ed6d9708d6ba2b951dd2ef7ef7ad7969a6bf',
    );
  });

  it('adds and signs x-acs-security-token with STS credentials', async () => {
    const headers = await signV3(base, { ...creds, securityToken: 'testtoken' }, options);
    expect(headers['x-acs-security-token']).toBe('testtoken');
    expect(headers.authorization).toContain(
      'SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,',
    );
  });
});

describe.each([
  ['Web Crypto', webCrypto],
  ['node:crypto', nodeCrypto],
])("V3: the client's precomputed signer, digest provider %s", (_name, digests) => {
  const body = formEncode({ FlowName: 'my_flow', Input: '{"key":"value"}' });
  const fixed = {
    host: 'cn-hangzhou.fnf.aliyuncs.com',
    'content-type': 'application/x-www-form-urlencoded',
    'x-acs-action': 'StartSyncExecution',
    'x-acs-version': '2019-03-15',
    accept: 'application/json',
  };
  const creds = { accessKeyId: 'testid', accessKeySecret: 'testsecret' };
  const sign = v3Signer(fixed);

  it('matches the derived gateway fixture', async () => {
    const headers = await sign(body, creds, { date: '2024-01-01T00:00:00Z', nonce: '3156853299f313e23d1673dc12e1703d', crypto: digests });
    expect(headers['x-acs-content-sha256']).toBe('1778b111f2cde262c81c875145d63595cb1b8ca7f81e8098e07e3af42a875462');
    expect(headers.authorization).toMatch(/,Signature=c6d60a435c0cf34b66cc77fdc40894335c4a4037fb4908a1708beb51603e14c7$/);
  });

  it.each([
    ['long-term keys', creds],
    ['STS credentials', { ...creds, securityToken: 'testtoken' }],
  ])('gives the same headers, in the same order, as signV3 with %s', async (_what, credentials) => {
    for (let i = 0; i < 3; i++) {
      const options = { date: `2024-01-0${i + 1}T00:00:00Z`, nonce: `nonce-${i}`, crypto: digests };
      const fast = await sign(body + i, credentials, options);
      const reference = await signV3({ method: 'POST', headers: fixed, body: body + i }, credentials, options);
      expect(Object.entries(fast)).toEqual(Object.entries(reference));
    }
  });

  it('falls back to signV3 when a fixed header has the name of a per-call one', async () => {
    const clashing = { ...fixed, 'X-Acs-Date': '1999-01-01T00:00:00Z' };
    const options = { date: '2024-01-01T00:00:00Z', nonce: 'n', crypto: digests };
    expect(await v3Signer(clashing)(body, creds, options)).toEqual(await signV3({ method: 'POST', headers: clashing, body }, creds, options));
  });
});

describe('RPC HMAC-SHA1', () => {
  it('reproduces the official test vector', async () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'DescribeDedicatedHosts',
      Format: 'JSON',
      RegionId: 'cn-beijing',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: 'edb2b34af0af9a6d14deaf7c1a5315eb',
      SignatureVersion: '1.0',
      Timestamp: '2023-03-13T08:34:30Z',
      Version: '2014-05-26',
    };
    expect(stringToSignRpc('GET', params)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26',
    );
    expect(await signRpc('GET', params, 'testsecret')).toBe('9NaGiOspFP5UPcwX8Iwt2YJXXuk=');
  });

  it('reproduces the official client StartSyncExecution capture #8', async () => {
    const params = {
      Action: 'StartSyncExecution',
      Format: 'json',
      Version: '2019-03-15',
      Timestamp: '2024-01-01T00:00:00Z',
      SignatureNonce: '3156853299f313e23d1673dc12e1703d',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      AccessKeyId: 'testid',
      FlowName: 'my_flow',
      Input: '{"key":"value"}',
    };
    expect(await signRpc('POST', params, 'testsecret')).toBe('Y8078wNo1/P2vS08kj+igZrb8wM=');
  });

  it("reproduces capture #2, whose Input holds * ( ) ! ' ~ and spaces", async () => {
    const params = {
      Action: 'StartSyncExecution',
      Format: 'json',
      Version: '2019-03-15',
      Timestamp: '2026-11-25T21:05:02Z',
      SignatureNonce: '40325d187024d43e6624767fc0f38ae0',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      AccessKeyId: 'testid',
      FlowName: 'my_flow',
      ExecutionName: 'my_exec',
      Input: `{"key":"value with space & *()!'~"}`,
      Qualifier: '1',
    };
    expect(await signRpc('POST', params, 'testsecret')).toBe('VVqcNKnAKtM46/lNcpebPuUtvDM=');
  });
});
