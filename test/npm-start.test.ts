import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { builtDist } from './helpers/dist.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Whether anything accepts a connection on `url`'s port. */
function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

/** Whether process group `pgid` still has a member. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

describe('npm start (process)', () => {
  it('starts without building when dist/ is current, and SIGTERM to the npm pid stops the gateway and the demo emulator', async () => {
    await builtDist();
    // Its own process group, so the test can tell whether anything npm started outlives it.
    const npm = spawn('npm', ['start', '--silent', '--', '--port', '0'], {
      cwd: ROOT,
      detached: true,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ROOT },
    });
    let stderr = '';
    npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    npm.stdout.resume();
    // 'close' comes once every process holding npm's stdout and stderr (npm, and whatever it started) has exited.
    const closed = once(npm, 'close');
    onTestFinished(() => {
      if (groupAlive(npm.pid!)) process.kill(-npm.pid!, 'SIGKILL');
    });
    const listening = new Promise<RegExpExecArray>((done, fail) => {
      const check = () => {
        const gateway = /flowgate listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (gateway && /CloudFlow emulator on (http:\/\/127\.0\.0\.1:\d+)/.test(stderr)) done(gateway);
      };
      npm.stderr.on('data', check);
      npm.once('exit', () => fail(new Error(`npm start exited: ${stderr}`)));
    });
    const [, gatewayUrl] = await listening;
    const emulatorUrl = /CloudFlow emulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!;
    expect(stderr).not.toContain('building dist/');
    expect((await fetch(`${gatewayUrl}/healthz`)).status).toBe(200);

    process.kill(npm.pid!, 'SIGTERM');
    await closed;
    expect(groupAlive(npm.pid!)).toBe(false);
    expect(await accepts(gatewayUrl!)).toBe(false);
    expect(await accepts(emulatorUrl)).toBe(false);
    expect(stderr).toContain('draining requests in flight');
  }, 60_000);
});
