import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../helpers/built-cli.js';
import { gate } from '../helpers/gate.js';
import { startUpstreamStub, succeeded, TEST_CREDENTIALS, type UpstreamStub } from '../helpers/upstream-stub.js';
import { resolveWorkers, restartDelay } from '../../src/platform/node/workers-cluster.js';

/** `flowgate serve --workers 2` as a real process tree: its stderr, read line by line, is the event source. */
class Primary {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private waiters: { pattern: RegExp; from: number; resolve: (match: RegExpExecArray) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(cli: string, configFile: string, workers: string) {
    this.child = spawn(process.execPath, [cli, 'serve', '--config', configFile, '--port', '0', '--host', '127.0.0.1', '--workers', workers], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buffered = '';
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => {
          const match = this.lines.length - 1 >= w.from ? w.pattern.exec(line) : null;
          if (match) w.resolve(match);
          return !match;
        });
      }
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The first line from index `from` on matching `pattern`, already written or still to come. */
  line(pattern: RegExp, from = 0): Promise<RegExpExecArray> {
    for (let i = from; i < this.lines.length; i++) {
      const match = pattern.exec(this.lines[i]!);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ pattern, from, resolve });
      void this.exited.then((code) => reject(new Error(`flowgate exited (${code}) before ${pattern}: ${this.lines.join('\n')}`)));
    });
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('flowgate serve --workers 2', () => {
  let stub: UpstreamStub;
  let build: Awaited<ReturnType<typeof buildCli>>;
  let configFile: string;
  let primary: Primary;
  let url: string;
  const workerPids: number[] = [];

  const writeConfig = (flows: Record<string, object>) =>
    writeFileSync(
      configFile,
      JSON.stringify({
        upstream: { endpoint: stub.url, credentials: TEST_CREDENTIALS, timeout: '10s' },
        server: { accessLog: false, shutdownTimeout: '30s' },
        flows,
      }),
    );
  const run = (body = '{}') => fetch(`${url}/flows/hello/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  beforeAll(async () => {
    [stub, build] = await Promise.all([startUpstreamStub(), buildCli()]);
    configFile = join(build.dir, 'flowgate.json');
    writeConfig({ hello: {} });
    primary = new Primary(build.cli, configFile, '2');
    url = (await primary.line(/listening on (http:\/\/[\d.]+:\d+)/))[1]!;
    for (const line of primary.lines) {
      const pid = /worker \d+ \(pid (\d+)\) listening/.exec(line)?.[1];
      if (pid) workerPids.push(Number(pid));
    }
  }, 120_000);

  afterAll(async () => {
    if (primary?.child.exitCode === null) {
      primary.child.kill('SIGTERM');
      await primary.exited;
    }
    await stub?.close();
    build?.remove();
  });

  it('starts two worker processes on one port, and warns that a memory store is per process', async () => {
    expect(workerPids).toHaveLength(2);
    expect(new Set([...workerPids, primary.child.pid]).size).toBe(3);
    expect(primary.lines.join('\n')).toContain(
      'warning: --workers: with store "memory" each of the 2 processes keeps its own rate limits, cache and records; use a Redis store to share them',
    );
    expect(primary.lines.filter((l) => /listening on http/.test(l))).toHaveLength(1);
    // Each request on a fresh connection: the primary hands connections to the workers in turn.
    const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${url}/healthz`, { headers: { connection: 'close' } })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect((await run()).status).toBe(200);
  });

  it('replaces a worker that is killed, and keeps serving meanwhile', async () => {
    const victim = workerPids[0]!;
    const from = primary.lines.length;
    process.kill(victim, 'SIGKILL');
    await primary.line(new RegExp(`\\(pid ${victim}\\) exited \\(SIGKILL\\); starting a replacement$`), from);
    // The other worker still answers while the replacement starts.
    expect((await run()).status).toBe(200);
    const replacement = Number((await primary.line(/worker 3 \(pid (\d+)\) listening/, from))[1]);
    expect(alive(replacement)).toBe(true);
    expect(workerPids).not.toContain(replacement);
    workerPids[0] = replacement;
    const answers = await Promise.all(Array.from({ length: 10 }, () => run()));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
  });

  it('passes SIGHUP to every worker, and each reloads the config file: a flow added there answers from every worker', async () => {
    // Each call on a fresh connection: the primary hands connections to the workers in turn.
    const callSecond = () =>
      Promise.all(
        Array.from({ length: 6 }, () =>
          fetch(`${url}/flows/second/run`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: '{}' }),
        ),
      );
    expect((await callSecond()).map((r) => r.status)).toEqual(Array(6).fill(404));
    writeConfig({ hello: {}, second: {} });
    const from = primary.lines.length;
    primary.child.kill('SIGHUP');
    await primary.line(/SIGHUP: passing it to 2 workers/, from);
    // Every worker ran the reload of a single process, and said so under its own pid.
    await Promise.all(
      workerPids.map((pid) => primary.line(new RegExp(`^flowgate: worker pid ${pid}: reloaded ${configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), from)),
    );
    expect(workerPids.every(alive)).toBe(true);
    expect((await callSecond()).map((r) => r.status)).toEqual(Array(6).fill(200));
    expect((await run()).status).toBe(200);
  });

  it('drains every worker on SIGTERM: a request in flight completes, then all processes exit 0', async () => {
    const upstream = gate();
    stub.respond(async (call) => {
      await upstream.opened;
      return succeeded({ drained: true }, call);
    });
    const before = stub.calls.length;
    const inFlight = run('{"slow":true}');
    await stub.received(before + 1);
    const from = primary.lines.length;
    primary.child.kill('SIGTERM');
    await primary.line(/SIGTERM: draining 2 workers/, from);
    upstream.open();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ drained: true });
    expect(await primary.exited).toBe(0);
    expect(workerPids.some(alive)).toBe(false);
  });
});

describe('worker count and restart backoff', () => {
  it('reads --workers over server.workers, auto as the core count, and refuses the rest', () => {
    expect(resolveWorkers('3', 1)).toBe(3);
    expect(resolveWorkers(undefined, 2)).toBe(2);
    expect(resolveWorkers('auto', 1)).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '-1', '1.5', 'many', '257']) expect(resolveWorkers(bad, 1)).toEqual({ error: expect.stringContaining(`got "${bad}"`) });
  });

  it('replaces a first crash at once, then doubles the wait in a crash loop, up to 30 s, and forgets crashes after a minute', () => {
    expect(restartDelay([1_000], 1_000)).toBe(0);
    expect(restartDelay([1_000, 1_100], 1_100)).toBe(500);
    expect(restartDelay([1_000, 1_100, 1_700], 1_700)).toBe(1_000);
    const loop = Array.from({ length: 12 }, (_, i) => i * 100);
    expect(restartDelay(loop, 1_200)).toBe(30_000);
    expect(restartDelay([0, 100, 70_000], 70_000)).toBe(0);
  });
});
