import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, inject, it, vi } from 'vitest';
import { checkCommand } from '../../src/cli/check.js';
import { connectRedis } from '../../src/platform/node/redis.js';
import { ConfigError, parseConfig, parseConfigText } from '../../src/config/load.js';
import { describeStore, storeTarget, type StoreProblem } from '../../src/config/store.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'testid', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'testsecret', REDIS_PASSWORD: 'p@ss:w0rd/secret' };
const base = { upstream: { endpoint: 'http://127.0.0.1:9400' }, flows: { hello: {} } };

function issuesOf(raw: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...base, ...raw }, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('store forms', () => {
  it('reads cluster seeds, credentials and TLS from the URL', () => {
    expect(storeTarget('redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
    });
    expect(storeTarget('rediss+cluster://app:p%40ss@c.example:6380')).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'c.example', port: 6380 }],
      username: 'app',
      password: 'p@ss',
      tls: {},
    });
    expect(storeTarget('redis+cluster://:only@h:1')).toMatchObject({ password: 'only' });
  });

  it('reads sentinels, the master name and the db from the URL', () => {
    expect(storeTarget('rediss+sentinel://:pw@s1:26379,s2/mymaster/2')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      password: 'pw',
      db: 2,
      tls: {},
    });
  });

  it('reads the object form, TLS settings and a separate Sentinel password included', () => {
    const config = parseConfig(
      {
        ...base,
        store: {
          type: 'sentinel',
          nodes: ['s1:5000'],
          name: 'main',
          password: '${REDIS_PASSWORD}',
          sentinelPassword: 'x',
          tls: { servername: 'redis.internal' },
        },
      },
      env,
    );
    expect(storeTarget(config.store)).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 5000 }],
      name: 'main',
      password: env.REDIS_PASSWORD,
      sentinelPassword: 'x',
      tls: { servername: 'redis.internal' },
    });
    expect(storeTarget({ type: 'cluster', nodes: ['a:1', 'b:2'], tls: true })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
      tls: {},
    });
  });

  it.each([
    ['redis+cluster://', 'store: node 1 of the list is not "host:port"'],
    ['redis+cluster://a:1,,b:2', 'store: node 2 of the list is not "host:port"'],
    ['redis+cluster://a:99999', 'store: node 1 of the list is not "host:port"'],
    ['redis+cluster://a:1/0', 'store: redis+cluster:// takes no path'],
    ['redis+sentinel://a:1', 'store: redis+sentinel:// needs the master name'],
    ['redis+sentinel://a:1/m/99', 'store: redis+sentinel:// path is /masterName or /masterName/db'],
    ['redis+cluster://a:1?tls=1', 'store: redis+cluster:// takes no query or fragment'],
    ['mongodb://x', 'store: must be one of memory, redis://'],
    ['redis://', 'store: redis:// needs a host'],
  ])('refuses %s at load, naming the key path', (store, message) => {
    expect(issuesOf({ store }).join('\n')).toContain(message);
  });

  it.each([
    [{ type: 'sentinel', nodes: ['a:1'] }, 'store.name: a sentinel store needs the master group name'],
    [{ type: 'cluster', nodes: ['a:1'], db: 1 }, 'store.db: a cluster has one database'],
    [{ type: 'cluster', nodes: ['a:1', 'no port:x'] }, 'store.nodes.1: expected "host:port"'],
    [{ type: 'redis', nodes: ['a:1', 'b:2'] }, 'store.nodes: type redis takes one node'],
    [{ type: 'cluster', nodes: [] }, 'store.nodes: list at least one "host:port"'],
    [{ type: 'cluster', nodes: ['a:1'], tls: { cert: 'x' } }, 'store.tls'],
  ])('refuses the object form %j at load, naming the key path', (store, message) => {
    expect(issuesOf({ store }).join('\n')).toContain(message);
  });

  it('refuses a brace in the key prefix with a cluster store, where it would move the hash tags', () => {
    expect(issuesOf({ store: 'redis+cluster://a:1', storeOptions: { keyPrefix: 'app{1}:' } })).toEqual([
      expect.stringMatching(/^storeOptions\.keyPrefix: may not contain "\{" or "\}" with a cluster store/),
    ]);
    expect(issuesOf({ store: 'redis://a:1', storeOptions: { keyPrefix: 'app{1}:' } })).toEqual([]);
  });

  it('never quotes the store setting in a problem or a description: it may hold a password', () => {
    const secret = env.REDIS_PASSWORD;
    const bad = [
      `redis+cluster://u:${encodeURIComponent(secret)}@a:1/0`,
      `redis+sentinel://:${encodeURIComponent(secret)}@a:1`,
      `redis+cluster://u:${encodeURIComponent(secret)}@a:1,:bad`,
      `redis+sentinel://:%E0%A4%A@a:1/m`,
    ];
    for (const store of bad) {
      const problems: StoreProblem[] = [];
      expect(storeTarget(store, problems)).toBeUndefined();
      const text = issuesOf({ store }).join('\n') + problems.map((p) => p.message).join('\n');
      expect(text).not.toContain(secret);
      expect(text).not.toContain(encodeURIComponent(secret));
      expect(text).not.toContain('%E0');
    }
    const yaml = 'upstream: { endpoint: "http://127.0.0.1:9400" }\nstore: rediss+sentinel://:${REDIS_PASSWORD}@s1,s2:5000/main\nflows: { hello: {} }\n';
    const config = parseConfigText(yaml.replace('${REDIS_PASSWORD}', encodeURIComponent(secret)), env);
    expect(describeStore(config.store)).toBe('redis sentinel "main" (sentinels s1:26379,s2:5000, TLS)');
    expect(describeStore(`redis://u:${secret.replace('/', '')}@h:1/0`)).toBe('redis h:1');
    expect(describeStore('rediss://h:1')).toBe('redis h:1, TLS');
    expect(describeStore('redis+cluster://:x@a:1,b:2')).toBe('redis cluster (seeds a:1,b:2)');
  });

  it('warns that limits, cache and records are per process with store memory and several workers', () => {
    expect(parseConfig({ ...base, server: { workers: 2 } }, env).warnings).toEqual([
      'server.workers: with store "memory" each of the 2 processes keeps its own rate limits, cache and records; use a Redis store to share them',
    ]);
    expect(parseConfig({ ...base, server: { workers: 'auto' }, store: 'redis://h:1' }, env).warnings).toEqual([]);
    expect(issuesOf({ server: { workers: 0 } })).toEqual(['server.workers: expected a number of processes from 1 to 256, or "auto"']);
  });
});

describe('store in use', () => {
  it('flowgate check describes the store without its credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-check-'));
    const file = join(dir, 'flowgate.json');
    writeFileSync(file, JSON.stringify({ ...base, store: 'redis://app:Sup3r-Secret-Pw@10.0.0.5:6379/2' }));
    const written: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await checkCommand(['--config', file])).toBe(0);
    } finally {
      write.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(written.join('')).toContain('store redis 10.0.0.5:6379)');
    expect(written.join('')).not.toContain('Sup3r-Secret-Pw');
  });

  it('connects with the object form of a single Redis', async () => {
    const { hostname, port } = new URL(inject('redisUrl'));
    const target = storeTarget({ type: 'redis', nodes: [`${hostname}:${port}`], db: 1 })!;
    const connection = connectRedis(target as Exclude<typeof target, { kind: 'memory' }>, { timeoutMs: 2_000, log: () => {} });
    try {
      await connection.ready();
      expect(await connection.readiness.check()).toEqual({ ok: true });
      expect((connection.redis as Redis).options.db).toBe(1);
    } finally {
      await connection.close();
    }
  });
});
