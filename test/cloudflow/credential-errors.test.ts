/**
 * Credential errors as log lines and `/readyz` carry them: URLs keep scheme, host, port and path, never user
 * info, query or fragment; JSON secrets are masked. The messages are the ones the sources really produce.
 */
import { describe, expect, it } from 'vitest';
import { credentialErrorReason, redactUrls } from '../../src/cloudflow/credentials.js';
import { refreshingCredentials } from '../../src/cloudflow/refreshing-credentials.js';
import { credentialsUriSource } from '../../src/cloudflow/sts.js';
import { manualClock } from '../../src/lib/clock.js';
import type { LogLine } from '../../src/log.js';

const URI = 'http://user:pa55word@127.0.0.1:1/creds?token=SECRETTOKEN123#frag';
const SECRETS = /pa55word|SECRETTOKEN123|user:|frag/;

describe('credential error messages', () => {
  it('cut every URL to scheme, host, port and path', () => {
    expect(redactUrls(`GET ${URI} failed`)).toBe('GET http://***@127.0.0.1:1/creds?***#*** failed');
    expect(redactUrls('connect to https://sts.cn-hangzhou.aliyuncs.com/?Action=AssumeRole&Signature=abc timed out')).toBe(
      'connect to https://sts.cn-hangzhou.aliyuncs.com/?*** timed out',
    );
    expect(redactUrls('(http://100.100.100.200/latest/meta-data/ram/security-credentials/role)')).toBe(
      '(http://100.100.100.200/latest/meta-data/ram/security-credentials/role)',
    );
    expect(redactUrls('"https://a:b@[2001:db8::1]:8443/p#x" and http://h')).toBe('"https://***@[2001:db8::1]:8443/p#***" and http://h');
    expect(redactUrls('no URL, a token file /var/run/secrets/tokens/oidc-token')).toBe('no URL, a token file /var/run/secrets/tokens/oidc-token');
  });

  it('are redacted in credentialErrorReason, with JSON secrets masked too', () => {
    const reason = credentialErrorReason(new Error(`${URI} answered {"AccessKeySecret":"leak","SecurityToken":"leak"}`));
    expect(reason).toBe('http://***@127.0.0.1:1/creds?***#*** answered {"AccessKeySecret":"***","SecurityToken":"***"}');
  });

  it("the Workers credentials URI source's real fetch error names the URI: the log keeps it redacted, /readyz only the type", async () => {
    const logs: LogLine[] = [];
    const managed = refreshingCredentials(credentialsUriSource({ uri: URI, timeoutMs: 2_000, connectTimeoutMs: 1_000, fetch }), {
      clock: manualClock(Date.UTC(2024, 0, 1)),
      log: (line) => logs.push(line),
      counters: {},
      keepAlive: () => {},
    });
    await expect(Promise.resolve().then(() => managed.get())).rejects.toThrow(/^credentials_uri: /);
    const failed = logs.find((l) => l.msg === 'credentials refresh failed')!;
    // Fetch refuses a URL with user info, and says which one.
    expect(failed.reason).toContain('http://***@127.0.0.1:1/creds?***');
    expect(await managed.check()).toEqual({ ok: false, detail: 'credentials_uri: no valid credentials: the last refresh failed (the reason is in the log)' });
    let thrown = '';
    await Promise.resolve()
      .then(() => managed.get())
      .catch((error: Error) => (thrown = error.message));
    expect(thrown).toMatch(/^credentials_uri: /);
    expect(JSON.stringify(logs) + thrown).not.toMatch(SECRETS);
  });
});
