import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCloudFlowClient } from '../src/cloudflow/client.js';
import { staticCredentials } from '../src/cloudflow/credentials.js';
import { fetchTransport } from '../src/cloudflow/transport.js';
import { spawnCli } from './helpers/spawn.js';

/** `flowgate emulator` and the demo as real processes (the compiled dist/, as users run them). */
describe('flowgate emulator (process)', () => {
  it('starts, prints where it listens and the key, answers signed calls, and stops on SIGTERM', async () => {
    const cli = await spawnCli(
      [
        'emulator',
        '--port',
        '0',
        '--flows',
        'examples/flows',
        '--handlers',
        'examples/handlers/index.mjs',
        '--access-key',
        'cli-id:cli-secret',
        '--time-scale',
        '0.01',
      ],
      {
        cwd: process.cwd(),
      },
    );
    try {
      const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      // The key line is a later write than the address line and may arrive in a later chunk.
      await cli.waitFor(/access key: cli-id \(secret as given\)/);
      expect(cli.stderr()).not.toContain('cli-secret');
      for (const signatureVersion of ['v3', 'rpc'] as const) {
        const client = createCloudFlowClient({
          endpoint: url!,
          credentials: staticCredentials({ accessKeyId: 'cli-id', accessKeySecret: 'cli-secret' }),
          transport: fetchTransport(),
          signatureVersion,
        });
        const quote = await client.startSyncExecution({ flowName: 'quote', input: '{"sku":"pear","qty":2}' });
        expect(quote).toMatchObject({ status: 'Succeeded', output: '{"quote":{"sku":"pear","qty":2,"unitPrice":0.75,"total":1.5}}' });
        const slow = await client.startSyncExecution({ flowName: 'slow', input: '{}' });
        expect(slow).toMatchObject({ status: 'TimedOut', errorCode: 'FnF.Timeout' });
      }
      const wrongKey = createCloudFlowClient({
        endpoint: url!,
        credentials: staticCredentials({ accessKeyId: 'testid', accessKeySecret: 'testsecret' }),
        transport: fetchTransport(),
      });
      await expect(wrongKey.startSyncExecution({ flowName: 'hello', input: '{}' })).rejects.toMatchObject({ status: 403, code: 'InvalidAccessKeyID' });
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exit()).toBe(0);
    expect(cli.stderr()).toContain('stopping');
  });

  it('without --flows serves the example flows and their handlers from any folder, and says so', async () => {
    const cli = await spawnCli(['emulator', '--port', '0'], { cwd: mkdtempSync(join(tmpdir(), 'flowgate-emulator-')) });
    try {
      const [, url] = await cli.waitFor(
        /listening on (http:\/\/127\.0\.0\.1:\d+) \(Version 2019-03-15, 7 flows from the examples \(--flows DIR serves your own\): fanout, hello,/,
      );
      const client = createCloudFlowClient({
        endpoint: url!,
        credentials: staticCredentials({ accessKeyId: 'testid', accessKeySecret: 'testsecret' }),
        transport: fetchTransport(),
      });
      // quote runs a local handler: the examples' handlers came along.
      const quote = await client.startSyncExecution({ flowName: 'quote', input: '{"sku":"apple","qty":2}' });
      expect(quote).toMatchObject({ status: 'Succeeded', output: '{"quote":{"sku":"apple","qty":2,"unitPrice":0.5,"total":1}}' });
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exit()).toBe(0);
  });

  it('refuses bad flags and bad flows with exit code 2 and a message', async () => {
    const badRate = await spawnCli(['emulator', '--failure-rate', '1.5']);
    expect(await badRate.exit()).toBe(2);
    expect(badRate.stderr()).toMatch(/--failure-rate must be a number from 0 to 1/);
    const badFolder = await spawnCli(['emulator', '--flows', 'no/such/folder']);
    expect(await badFolder.exit()).toBe(2);
    expect(badFolder.stderr()).toMatch(/flows folder no\/such\/folder does not exist/);
  });
});

describe('the demo (process)', () => {
  it('with no flowgate.yaml, `serve` runs emulator and gateway from any folder and prints a curl line that works', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'flowgate-demo-'));
    const cli = await spawnCli(['serve', '--port', '0', '--host', '127.0.0.1'], { cwd: empty });
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

/** Whether a TCP connection to host:port is accepted (a refusal is an answer, not an error). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? resolve(false) : reject(error)));
  });
}

describe('the demo listens on loopback only unless --host says otherwise (process)', () => {
  // On Linux all of 127.0.0.0/8 is this machine, but a socket bound to 127.0.0.1 accepts nothing sent to
  // 127.0.0.2, while one bound to every address (0.0.0.0) does: that tells the two apart without a network.
  it('without --host it listens on 127.0.0.1 and says so', async () => {
    const cli = await spawnCli(['serve', '--port', '0'], { cwd: mkdtempSync(join(tmpdir(), 'flowgate-demo-')) });
    try {
      const [, port] = await cli.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      expect(await accepts('127.0.0.1', Number(port))).toBe(true);
      expect(await accepts('127.0.0.2', Number(port))).toBe(false);
      await cli.waitFor(/reachable from this machine only.*--host 0\.0\.0\.0 opens it up/);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exit()).toBe(0);
  });

  it('--host 0.0.0.0 opens it up on purpose', async () => {
    const cli = await spawnCli(['serve', '--port', '0', '--host', '0.0.0.0'], { cwd: mkdtempSync(join(tmpdir(), 'flowgate-demo-')) });
    try {
      const [, port] = await cli.waitFor(/listening on all interfaces \(0\.0\.0\.0:(\d+)\); from this machine http:\/\/127\.0\.0\.1:\1 /);
      await cli.waitFor(new RegExp(`try: curl -s -X POST http://127\\.0\\.0\\.1:${port}/flows/hello/run`));
      const res = await fetch(`http://127.0.0.2:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(cli.stderr()).not.toContain('reachable from this machine only');
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exit()).toBe(0);
  });
});
