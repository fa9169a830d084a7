import * as z from 'zod';

/** `host:port` (IPv6 in brackets); the port defaults by mode. */
export interface HostPort {
  host: string;
  port: number;
}

/** TLS to the Redis nodes: `true` for the system roots, or the few settings managed services need. */
export type StoreTls = { servername?: string | undefined; ca?: string | undefined; rejectUnauthorized?: boolean | undefined };

/**
 * Where shared state lives, as the Node runtime connects to it. Built from `store` by {@link storeTarget};
 * the credentials are here and nowhere else, and {@link describeStore} is the only way it is printed.
 */
export type StoreTarget =
  | { kind: 'memory' }
  /** One Redis: the URL goes to ioredis unchanged (`redis://`, `rediss://`, user, password, db). */
  | { kind: 'redis'; url: string }
  | { kind: 'redis'; url?: undefined; node: HostPort; username?: string; password?: string; db?: number; tls?: StoreTls }
  | { kind: 'cluster'; nodes: HostPort[]; username?: string; password?: string; tls?: StoreTls }
  | {
      kind: 'sentinel';
      sentinels: HostPort[];
      /** The master group name Sentinel knows the primary by. */
      name: string;
      username?: string;
      password?: string;
      sentinelUsername?: string;
      sentinelPassword?: string;
      db?: number;
      tls?: StoreTls;
    };

const tlsSchema = z.union([
  z.boolean(),
  z.strictObject({
    /** The name the certificate must carry when nodes are addressed by IP (SNI). */
    servername: z.string().min(1).optional(),
    /** PEM of the CA that signed the nodes' certificates (e.g. `${REDIS_CA}`); the system roots when absent. */
    ca: z.string().min(1).optional(),
    rejectUnauthorized: z.boolean().optional(),
  }),
]);

/** The object form of `store`, for what a URL says awkwardly: TLS settings, a CA, a separate Sentinel password. */
export const storeObjectSchema = z.strictObject({
  type: z.enum(['redis', 'cluster', 'sentinel']),
  /** `host:port`: the one node (redis), seed nodes (cluster) or the Sentinels (sentinel). */
  nodes: z.array(z.string().min(1)).min(1, 'list at least one "host:port"'),
  /** Sentinel's master group name. */
  name: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  sentinelUsername: z.string().min(1).optional(),
  sentinelPassword: z.string().min(1).optional(),
  db: z.number().int().min(0).max(15).optional(),
  tls: tlsSchema.optional(),
});

export type StoreObject = z.output<typeof storeObjectSchema>;
export type StoreSetting = string | StoreObject;

const URL_FORMS = 'memory, redis://, rediss://, redis+cluster://h:p,h:p, rediss+cluster://…, redis+sentinel://h:p,h:p/masterName or rediss+sentinel://…';

/** A problem with `store`, named by key path, and never quoting the value: it may carry a password. */
export interface StoreProblem {
  path: string;
  message: string;
}

/**
 * Reads `store` (a string or the object form) into a {@link StoreTarget}; problems go to `problems` with
 * their key path, and the result is then undefined. Forms:
 * - `memory`;
 * - `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS): one Redis;
 * - `redis+cluster://[user:pass@]h:p,h:p`, `rediss+cluster://…`: Redis Cluster seed nodes;
 * - `redis+sentinel://[user:pass@]h:p,h:p/masterName[/db]`, `rediss+sentinel://…` (TLS to Sentinels and
 *   data nodes); the credentials are the data nodes'; a Sentinel password goes in the object form.
 */
export function storeTarget(setting: StoreSetting, problems: StoreProblem[] = []): StoreTarget | undefined {
  const before = problems.length;
  const target = typeof setting === 'string' ? fromUrl(setting, problems) : fromObject(setting, problems);
  return problems.length > before ? undefined : target;
}

/** {@link storeTarget} for a setting that already loaded; throws (without the value) if it did not. */
export function loadedStoreTarget(setting: StoreSetting): StoreTarget {
  const problems: StoreProblem[] = [];
  const target = storeTarget(setting, problems);
  if (!target) throw new TypeError(`store: ${problems.map((p) => p.message).join('; ')}`);
  return target;
}

/** What `check` and the start line print: the shape and the nodes, never a username or password. */
export function describeStore(setting: StoreSetting): string {
  const target = storeTarget(setting);
  if (!target) return 'invalid';
  const list = (nodes: HostPort[]) => nodes.map(formatHostPort).join(',');
  const tls = 'tls' in target && target.tls ? ', TLS' : '';
  switch (target.kind) {
    case 'memory':
      return 'memory';
    case 'redis': {
      if (target.url === undefined) return `redis ${formatHostPort(target.node)}${tls}`;
      const url = new URL(target.url);
      return `redis ${url.host}${url.protocol === 'rediss:' ? ', TLS' : ''}`;
    }
    case 'cluster':
      return `redis cluster (seeds ${list(target.nodes)}${tls})`;
    case 'sentinel':
      return `redis sentinel "${target.name}" (sentinels ${list(target.sentinels)}${tls})`;
  }
}

/** Whether state in this store is per process (the memory store). */
export const isPerProcess = (setting: StoreSetting): boolean => setting === 'memory';

/** The warning for several processes on a per-process store; undefined when there is nothing to say. */
export function perProcessWarning(setting: StoreSetting, workers: number | 'auto'): string | undefined {
  if (!isPerProcess(setting) || workers === 1) return undefined;
  const count = workers === 'auto' ? 'auto (one per core)' : String(workers);
  return `with store "memory" each of the ${count} processes keeps its own rate limits, cache and records; use a Redis store to share them`;
}

function fromUrl(text: string, problems: StoreProblem[]): StoreTarget | undefined {
  if (text === 'memory') return { kind: 'memory' };
  const scheme = /^([a-z+]+):\/\//.exec(text)?.[1];
  if (scheme === 'redis' || scheme === 'rediss') {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      problems.push({ path: 'store', message: `not a valid ${scheme}:// URL` });
      return undefined;
    }
    if (!url.hostname) problems.push({ path: 'store', message: `${scheme}:// needs a host` });
    return { kind: 'redis', url: text };
  }
  const mode =
    scheme === 'redis+cluster' || scheme === 'rediss+cluster'
      ? 'cluster'
      : scheme === 'redis+sentinel' || scheme === 'rediss+sentinel'
        ? 'sentinel'
        : undefined;
  if (!mode) {
    problems.push({ path: 'store', message: `must be one of ${URL_FORMS}` });
    return undefined;
  }
  const tls = scheme!.startsWith('rediss') ? {} : undefined;
  const rest = text.slice(scheme!.length + 3);
  // The authority ends at the first "/", "?" or "#"; userinfo is what precedes its last "@".
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  if (/[?#]/.test(tail)) {
    problems.push({ path: 'store', message: `${scheme}:// takes no query or fragment; use the object form for other settings` });
    return undefined;
  }
  const at = authority.lastIndexOf('@');
  const credentials = at === -1 ? {} : userinfo(authority.slice(0, at), problems);
  const nodes = hostList(at === -1 ? authority : authority.slice(at + 1), mode === 'cluster' ? 6379 : 26379, 'store', problems);
  if (!credentials || !nodes) return undefined;
  const segments = tail.split('/').filter(Boolean);
  if (mode === 'cluster') {
    if (segments.length) problems.push({ path: 'store', message: 'redis+cluster:// takes no path: a cluster has one database' });
    return { kind: 'cluster', nodes, ...credentials, ...(tls && { tls }) };
  }
  const [encodedName, dbText, ...extra] = segments;
  const name = encodedName === undefined ? undefined : safeDecode(encodedName);
  if (!name) {
    problems.push({ path: 'store', message: 'redis+sentinel:// needs the master name as its path: redis+sentinel://h:p,h:p/masterName' });
    return undefined;
  }
  const db = dbText === undefined ? undefined : Number(dbText);
  if (extra.length || (db !== undefined && !(Number.isInteger(db) && db >= 0 && db <= 15))) {
    problems.push({ path: 'store', message: 'redis+sentinel:// path is /masterName or /masterName/db (db 0–15)' });
    return undefined;
  }
  return { kind: 'sentinel', sentinels: nodes, name, ...credentials, ...(db !== undefined && { db }), ...(tls && { tls }) };
}

function fromObject(setting: StoreObject, problems: StoreProblem[]): StoreTarget | undefined {
  const { type, name, username, password, sentinelUsername, sentinelPassword, db } = setting;
  const tls = setting.tls === true ? {} : setting.tls === false ? undefined : setting.tls;
  const refuse = (key: string, message: string) => problems.push({ path: `store.${key}`, message });
  const nodes: HostPort[] = [];
  setting.nodes.forEach((text, i) => {
    const node = hostPort(text, type === 'sentinel' ? 26379 : 6379);
    if (node) nodes.push(node);
    else refuse(`nodes.${i}`, 'expected "host:port"');
  });
  if (type !== 'sentinel') {
    if (name !== undefined) refuse('name', 'only a sentinel store has a master name');
    if (sentinelUsername !== undefined || sentinelPassword !== undefined) refuse('sentinelPassword', 'only a sentinel store has Sentinel credentials');
  }
  if (type === 'cluster' && db !== undefined) refuse('db', 'a cluster has one database');
  if (type === 'redis' && setting.nodes.length > 1) refuse('nodes', 'type redis takes one node; list several with type cluster or sentinel');
  if (type === 'sentinel' && name === undefined) refuse('name', 'a sentinel store needs the master group name');
  const auth = { ...(username !== undefined && { username }), ...(password !== undefined && { password }), ...(tls && { tls }) };
  if (type === 'redis') return { kind: 'redis', node: nodes[0]!, ...auth, ...(db !== undefined && { db }) };
  if (type === 'cluster') return { kind: 'cluster', nodes, ...auth };
  return {
    kind: 'sentinel',
    sentinels: nodes,
    name: name ?? '',
    ...auth,
    ...(sentinelUsername !== undefined && { sentinelUsername }),
    ...(sentinelPassword !== undefined && { sentinelPassword }),
    ...(db !== undefined && { db }),
  };
}

function userinfo(text: string, problems: StoreProblem[]): { username?: string; password?: string } | undefined {
  const colon = text.indexOf(':');
  const user = safeDecode(colon === -1 ? text : text.slice(0, colon));
  const password = colon === -1 ? undefined : safeDecode(text.slice(colon + 1));
  if (user === undefined || (password === undefined && colon !== -1)) {
    problems.push({ path: 'store', message: 'the credentials in the URL are not valid percent-encoding' });
    return undefined;
  }
  // redis://:password@… (no user) is the common spelling of a password-only server.
  if (colon === -1) return user ? { password: user } : {};
  return { ...(user && { username: user }), ...(password && { password }) };
}

function hostList(text: string, defaultPort: number, path: string, problems: StoreProblem[]): HostPort[] | undefined {
  const parts = text.split(',');
  const nodes: HostPort[] = [];
  for (const [i, part] of parts.entries()) {
    const node = hostPort(part, defaultPort);
    if (!node) {
      problems.push({ path, message: `node ${i + 1} of the list is not "host:port"` });
      return undefined;
    }
    nodes.push(node);
  }
  return nodes;
}

function hostPort(text: string, defaultPort: number): HostPort | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match) return undefined;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

const formatHostPort = (node: HostPort) => (node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`);

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
