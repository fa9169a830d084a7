/**
 * Local stand-ins for the places a platform hands out temporary keys that the emulator does not play itself: the
 * ECS metadata service (with its hardened, token-only mode) and a sidecar's credentials URI. Both hand out keys
 * the emulator issued (`emulator.sts.issue()`), so the emulator's fnf side accepts them until they expire.
 *
 * The official Node library always asks `http://100.100.100.200` for the metadata service (no option, no
 * environment variable); `redirectMetadataService` sends its requests to the stand-in instead, by wrapping the
 * HTTP client it calls (`httpx.request`), and changes nothing else of what it sends.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { vi } from 'vitest';
import type { TemporaryKey } from '../../src/emulator/index.js';

export interface SeenRequest {
  method: string;
  path: string;
  /** The session token the request carried (`x-aliyun-ecs-metadata-token`), if any. */
  token: string | undefined;
}

interface StandIn {
  url: string;
  requests: SeenRequest[];
  /** While set, every request is answered with this status and no keys. */
  failWith: number | undefined;
  close(): Promise<void>;
}

async function serve(
  handle: (method: string, path: string, headers: Record<string, string | string[] | undefined>) => { status: number; body: string },
): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const server: Server = createServer((req, res) => {
    const { status, body } = handle(req.method ?? 'GET', req.url ?? '/', req.headers);
    res.writeHead(status, { 'content-type': status === 200 && body.startsWith('{') ? 'application/json' : 'text/plain' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function keyBody(key: TemporaryKey): string {
  return JSON.stringify({
    AccessKeyId: key.accessKeyId,
    AccessKeySecret: key.accessKeySecret,
    SecurityToken: key.securityToken,
    Expiration: iso(key.expiresAt),
    LastUpdated: iso(Date.now()),
    Code: 'Success',
  });
}

export interface MetadataStandIn extends StandIn {
  /** Hardened mode: requests without a valid session token get 403. */
  hardened: boolean;
  /** An old instance: `PUT /latest/api/token` is not there (404), so clients fall back to the plain mode. */
  tokensUnsupported: boolean;
}

/**
 * The ECS instance metadata service as documented ("Obtain temporary credentials of an instance RAM role"):
 * `PUT /latest/api/token` (with `X-aliyun-ecs-metadata-token-ttl-seconds`, 1 to 21600) gives a session token,
 * `GET /latest/meta-data/ram/security-credentials/` the role name, and `GET …/<role>` the role's keys.
 */
export async function startMetadataStandIn(options: { roleName: string; issue: () => TemporaryKey; hardened?: boolean }): Promise<MetadataStandIn> {
  const tokens = new Set<string>();
  const requests: SeenRequest[] = [];
  const base = '/latest/meta-data/ram/security-credentials/';
  const standIn: MetadataStandIn = {
    url: '',
    requests,
    failWith: undefined,
    hardened: options.hardened ?? false,
    tokensUnsupported: false,
    close: async () => {},
  };
  const server = await serve((method, path, headers) => {
    const token = headers['x-aliyun-ecs-metadata-token'] as string | undefined;
    requests.push({ method, path, token });
    if (standIn.failWith !== undefined) return { status: standIn.failWith, body: 'unavailable' };
    if (method === 'PUT' && path === '/latest/api/token') {
      if (standIn.tokensUnsupported) return { status: 404, body: 'Not Found' };
      const ttl = Number(headers['x-aliyun-ecs-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return { status: 400, body: 'Bad Request' };
      const issued = `metadata-token-${tokens.size + 1}`;
      tokens.add(issued);
      return { status: 200, body: issued };
    }
    if (method !== 'GET' || !path.startsWith(base)) return { status: 404, body: 'Not Found' };
    if (token !== undefined && !tokens.has(token)) return { status: 401, body: 'Unauthorized' };
    if (standIn.hardened && token === undefined) return { status: 403, body: 'Forbidden' };
    const role = path.slice(base.length);
    if (role === '') return { status: 200, body: options.roleName };
    if (role !== options.roleName) return { status: 404, body: 'Not Found' };
    return { status: 200, body: keyBody(options.issue()) };
  });
  standIn.url = server.url;
  standIn.close = server.close;
  return standIn;
}

/** A sidecar serving the official `credentials_uri` format at `GET /credentials`. */
export async function startCredentialsUri(options: { issue: () => TemporaryKey }): Promise<StandIn> {
  const requests: SeenRequest[] = [];
  const standIn: StandIn = { url: '', requests, failWith: undefined, close: async () => {} };
  const server = await serve((method, path) => {
    requests.push({ method, path, token: undefined });
    if (standIn.failWith !== undefined) return { status: standIn.failWith, body: 'unavailable' };
    if (method !== 'GET' || path !== '/credentials') return { status: 404, body: 'Not Found' };
    return { status: 200, body: keyBody(options.issue()) };
  });
  standIn.url = `${server.url}/credentials`;
  standIn.close = server.close;
  return standIn;
}

/** The HTTP client module the official credentials library calls, as that library resolves it. */
const httpx = createRequire(createRequire(import.meta.url).resolve('@alicloud/credentials'))('httpx') as {
  request: (url: string, opts: unknown) => Promise<unknown>;
};

/**
 * Sends what the official library asks of `http://100.100.100.200` to `target` instead (restored after the test
 * by vitest's `restoreMocks`). Returns the URLs it was asked for, as the library wrote them.
 */
export function redirectMetadataService(target: string): string[] {
  const asked: string[] = [];
  const original = httpx.request;
  vi.spyOn(httpx, 'request').mockImplementation((url: string, opts: unknown) => {
    asked.push(url);
    return original(url.startsWith('http://100.100.100.200/') ? target + url.slice('http://100.100.100.200'.length) : url, opts);
  });
  return asked;
}
