import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Runs `redis-server` with `args` and resolves once it logs `ready`; rejects with its last lines if it exits first. */
function launch(args: string[], ready: RegExp): Promise<{ child: ChildProcess; lines: string[]; events: EventEmitter }> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: string[] = [];
  const events = new EventEmitter();
  return new Promise((resolve, reject) => {
    const output = createInterface({ input: child.stdout! });
    let started = false;
    output.on('line', (line) => {
      lines.push(line);
      events.emit('line', line);
      if (!started && ready.test(line)) {
        started = true;
        child.off('exit', early);
        resolve({ child, lines, events });
      }
    });
    const early = (code: number | null) => reject(new Error(`redis-server ${args[0]} exited (${code}): ${lines.slice(-3).join(' | ')}`));
    child.once('exit', early);
    child.once('error', reject);
  });
}

/** One server of a local cluster or Sentinel setup. */
export interface LocalRedisNode {
  port: number;
  /** Its log lines so far. */
  lines: string[];
  /** Emits `line` for each log line as it is written. */
  events: EventEmitter;
  running(): boolean;
  /** SIGKILL: the node vanishes mid-conversation, as in a crash. Resolves when it has exited. */
  kill(): Promise<void>;
}

function node(port: number, started: { child: ChildProcess; lines: string[]; events: EventEmitter }): LocalRedisNode {
  const { child, lines, events } = started;
  return {
    port,
    lines,
    events,
    running: () => child.exitCode === null && child.signalCode === null,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Starts `redis-server` on a free loopback port with `extra` settings; a port taken between probe and
 * bind is retried. Both the client port and (for cluster nodes) the bus port are probed.
 */
async function startNode(dir: string, extra: (port: number) => string[], ready = /Ready to accept connections/): Promise<LocalRedisNode> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    try {
      const started = await launch(
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', nodeDir, '--loglevel', 'notice', ...extra(port)],
        ready,
      );
      return node(port, started);
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }
}

export interface LocalRedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…` over every master. */
  url: string;
  nodes: LocalRedisNode[];
  /** The cluster node timeout in ms: how long a master may be silent before its replica is promoted. */
  nodeTimeoutMs: number;
  /** A plain client to one node per call (`redis-cli -p` alike), closed by the caller. */
  client(port: number): Redis;
  /** The node currently master of `key`'s slot (asked of a live node with `CLUSTER SLOTS`). */
  masterOf(key: string): Promise<LocalRedisNode>;
  /** Every live node's `INFO errorstats` count of `code` errors (CROSSSLOT, MOVED, …), summed. */
  errorCount(code: string): Promise<number>;
  /** Resolves once every live node says `cluster_state:ok` and every slot is served by a live master. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of the test's own: `masters` masters with `replicasPerMaster` replicas each, on free
 * loopback ports in a scratch folder, joined with `redis-cli --cluster create`, resolved once every node
 * reports `cluster_state:ok`. A short `cluster-node-timeout` lets a replica take over soon after its master
 * dies. Start it once per test file; `stop()` kills every node and removes the folder.
 */
export async function startRedisCluster(options: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-cluster-'));
  const nodes: LocalRedisNode[] = [];
  const clients: Redis[] = [];
  const client = (port: number) => {
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => {});
    clients.push(redis);
    return redis;
  };
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const count = masters * (1 + replicas);
    for (let i = 0; i < count; i++) {
      // The bus port is its own free port (cluster-port), not port + 10000, which may be out of range or taken.
      const busPort = await freePort();
      nodes.push(
        await startNode(dir, () => [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          // A replica of a dead master takes over at once, whatever its replication lag (a test cluster is idle).
          '--cluster-replica-validity-factor',
          '0',
        ]),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
  } catch (error) {
    await stop();
    throw error;
  }

  const liveNodes = () => nodes.filter((n) => n.running());
  const slots = async () => {
    for (const n of liveNodes()) {
      const c = client(n.port);
      try {
        return (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string], ...unknown[]][];
      } catch {
        // That node is on its way down: ask the next.
      } finally {
        c.disconnect();
      }
    }
    throw new Error('no live cluster node answers CLUSTER SLOTS');
  };

  const cluster: LocalRedisCluster = {
    url: `redis+cluster://${nodes
      .slice(0, masters)
      .map((n) => `127.0.0.1:${n.port}`)
      .join(',')}`,
    nodes,
    nodeTimeoutMs,
    client,
    async masterOf(key) {
      const c = client(liveNodes()[0]!.port);
      const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
      c.disconnect();
      const range = (await slots()).find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return nodes.find((n) => n.port === range[2][1])!;
    },
    async errorCount(code) {
      let total = 0;
      for (const n of liveNodes()) {
        const c = client(n.port);
        const info = String(await c.call('INFO', 'errorstats'));
        c.disconnect();
        total += Number(new RegExp(`errorstat_${code}:count=(\\d+)`).exec(info)?.[1] ?? 0);
      }
      return total;
    },
    async healthy(timeoutMs = 60_000) {
      const started = Date.now();
      // The cluster converges through its gossip, which gives no event to wait on from outside: ask until it agrees.
      for (;;) {
        const states = await Promise.all(
          liveNodes().map(async (n) => {
            const c = client(n.port);
            try {
              return /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO')));
            } catch {
              return false;
            } finally {
              c.disconnect();
            }
          }),
        );
        const live = new Set(liveNodes().map((n) => n.port));
        const covered =
          states.every(Boolean) &&
          (await slots().catch(() => [])).reduce((sum, [from, to, master]) => sum + (live.has(master[1]) ? to - from + 1 : 0), 0) === 16384;
        if (covered) return;
        if (Date.now() - started > timeoutMs) throw new Error(`cluster not healthy within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop,
  };
  try {
    await cluster.healthy();
  } catch (error) {
    await stop();
    throw error;
  }
  return cluster;
}

export interface LocalSentinelSetup {
  /** `redis+sentinel://127.0.0.1:s1,…/<name>`. */
  url: string;
  name: string;
  master: LocalRedisNode;
  replica: LocalRedisNode;
  sentinels: LocalRedisNode[];
  client(port: number): Redis;
  stop(): Promise<void>;
}

/**
 * A primary, one replica and `sentinels` Sentinels (`redis-server --sentinel`) on free loopback ports,
 * resolved once every Sentinel has discovered the replica. Short `down-after-milliseconds` and
 * `failover-timeout` let a failover finish in seconds.
 */
export async function startRedisSentinel(options: { sentinels?: number; downAfterMs?: number } = {}): Promise<LocalSentinelSetup> {
  const name = 'flowgate-test';
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-sentinel-'));
  const started: LocalRedisNode[] = [];
  const clients: Redis[] = [];
  const client = (port: number) => {
    const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => {});
    clients.push(redis);
    return redis;
  };
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(started.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const master = await startNode(dir, () => []);
    started.push(master);
    // Ready once its first sync with the primary is done: before that, WAIT and a failover would find it empty.
    const replica = await startNode(dir, () => ['--replicaof', '127.0.0.1', String(master.port)], /MASTER <-> REPLICA sync: Finished with success/);
    started.push(replica);
    const sentinels: LocalRedisNode[] = [];
    const quorum = Math.floor((options.sentinels ?? 1) / 2) + 1;
    for (let i = 0; i < (options.sentinels ?? 1); i++) {
      const config = join(dir, `sentinel-${i}.conf`);
      // Sentinel rewrites its config file, so each gets one of its own.
      writeFileSync(
        config,
        [
          `sentinel monitor ${name} 127.0.0.1 ${master.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const sentinel = await startSentinel(config, dir);
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    // Each Sentinel learns of the replica from the primary's INFO; wait for it in their logs (`+slave`).
    await Promise.all(sentinels.map((s) => waitForLine(s, /\+slave /)));
    return { url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${name}`, name, master, replica, sentinels, client, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startSentinel(configFile: string, dir: string): Promise<LocalRedisNode> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      const started = await launch([configFile, '--sentinel', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], /Sentinel ID is|\+monitor master/);
      return node(port, started);
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }
}

/** Resolves when `node` logs a line matching `pattern` (already logged or still to come). */
export function waitForLine(node: LocalRedisNode, pattern: RegExp): Promise<string> {
  const seen = node.lines.find((l) => pattern.test(l));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const onLine = (line: string) => {
      if (!pattern.test(line)) return;
      node.events.off('line', onLine);
      resolve(line);
    };
    node.events.on('line', onLine);
  });
}
