import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCloudFlowClient } from '../src/cloudflow/client.js';
import { staticCredentials } from '../src/cloudflow/credentials.js';
import { fetchTransport } from '../src/cloudflow/transport.js';
import { spawnCli } from './helpers/spawn.js';

/** `flowgate emulator` and the demo as real processes (the compiled dist/, as users run them). */
describe('flowgate emulator (process)', () => {
  it('starts, prints where it listens and the key, answers signed calls, and stops on SIGTERM', async () => {
    const cli = spawnCli(['emulator', '--port', '0', '--flows', 'examples/flows', '--handlers', 'examples/handlers/index.mjs', '--access-key', 'cli-id:cli-secret', '--time-scale', '0.01'], {
      cwd: process.cwd(),
    });
    try {
      const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      // The key line is a later write than the address line and may arrive in a later chunk.
      await cli.waitFor(/access key: cli-id \(secret as given\)/);
      expect(cli.stderr()).not.toContain('cli-secret');
      for (const signatureVersion of ['v3', 'rpc'] as const) {
        const client = createCloudFlowClient({ endpoint: url!, credentials: staticCredentials({ accessKeyId: 'cli-id', accessKeySecret: 'cli-secret' }), transport: fetchTransport(), signatureVersion });
        const quote = await client.startSyncExecution({ flowName: 'quote', input: '{"sku":"pear","qty":2}' });
        expect(quote).toMatchObject({ status: 'Succeeded', output: '{"quote":{"sku":"pear","qty":2,"unitPrice":0.75,"total":1.5}}' });
        const slow = await client.startSyncExecution({ flowName: 'slow', input: '{}' });
        expect(slow).toMatchObject({ status: 'TimedOut', errorCode: 'FnF.Timeout' });
      }
      const wrongKey = createCloudFlowClient({ endpoint: url!, credentials: staticCredentials({ accessKeyId: 'testid', accessKeySecret: 'testsecret' }), transport: fetchTransport() });
      await expect(wrongKey.startSyncExecution({ flowName: 'hello', input: '{}' })).rejects.toMatchObject({ status: 404, code: 'InvalidAccessKeyId.NotFound' });
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exit()).toBe(0);
    expect(cli.stderr()).toContain('stopping');
  });

  it('refuses bad flags and bad flows with exit code 2 and a message', async () => {
    const badRate = spawnCli(['emulator', '--failure-rate', '1.5']);
    expect(await badRate.exit()).toBe(2);
    expect(badRate.stderr()).toMatch(/--failure-rate must be a number from 0 to 1/);
    const badFolder = spawnCli(['emulator', '--flows', 'no/such/folder']);
    expect(await badFolder.exit()).toBe(2);
    expect(badFolder.stderr()).toMatch(/flows folder no\/such\/folder does not exist/);
  });
});

describe('the demo (process)', () => {
  it('with no flowgate.yaml, `serve` runs emulator and gateway from any folder and prints a curl line that works', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'flowgate-demo-'));
    const cli = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1'], { cwd: empty });
    try {
      const [, curlUrl, body] = await cli.waitFor(/try: curl -s -X POST (\S+) -H 'content-type: application\/json' -d '([^']*)'/);
      const res = await fetch(curlUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body! });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ message: 'Hello, ada!' });
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exit()).toBe(0);
    expect(cli.stderr()).toContain('draining');
  });
});
