/**
 * Reaching Durable Objects, the Cache API and the other Workers of a Miniflare instance from Node without
 * Miniflare's binding proxy (`mf.getDurableObjectNamespace()`, `mf.getCaches()`, `mf.getWorker()`, …).
 *
 * Why: that proxy answers property reads and `idFromName` synchronously, blocking on `Atomics.wait` for a
 * worker thread. Before cloudflare/workers-sdk#15552 ("Fix the synchronous binding proxy desynchronising
 * when its worker thread is preempted"), on a loaded machine a late notify for one call wakes the wait of
 * the next, `SynchronousFetcher.fetch` fails `assert(message?.id === id)`, and every later call on that
 * Miniflare instance fails the same way. The fixed Miniflare releases need Node 22, so the tests talk to a
 * small probe Worker over plain HTTP on loopback instead: every step is an ordinary awaited request.
 */

/**
 * The probe Worker (ES module source). Routes:
 * - `POST /objects/{binding}/{name}/{method}`, body: the encoded argument list → the encoded result of
 *   `env[binding].get(env[binding].idFromName(name))[method](...args)`; a rejection answers 500 with
 *   `{ name, message }`.
 * - `POST /caches/{cache}/delete`, body `{ "url": … }` → `{ "value": boolean }` from `caches.open(cache)`
 *   (the Cache API storage is shared by all Workers of one Miniflare instance).
 * - any method `/services/{binding}` with `x-probe-url` → that request, sent to `env[binding]` (a service
 *   binding) with the URL from the header, answered as is.
 * Values are JSON with non-finite numbers and `undefined` kept (`NaN` must reach the object as `NaN`).
 */
export const PROBE_WORKER = `
const replacer = (_key, value) =>
  typeof value === 'number' && !Number.isFinite(value) ? { $number: String(value) } : value === undefined ? { $undefined: true } : value;
const reviver = (_key, value) =>
  value && typeof value === 'object' && typeof value.$number === 'string' ? Number(value.$number) : value && typeof value === 'object' && value.$undefined === true ? undefined : value;
const encode = (value) => JSON.stringify({ value }, replacer);
const decode = (text) => JSON.parse(text, reviver).value;

export default {
  async fetch(request, env) {
    const [kind, ...rest] = new URL(request.url).pathname.split('/').slice(1).map(decodeURIComponent);
    if (kind === 'objects' && rest.length === 3) {
      const [binding, name, method] = rest;
      const namespace = env[binding];
      if (!namespace || typeof namespace.idFromName !== 'function') return new Response('no such Durable Object binding: ' + binding, { status: 404 });
      const stub = namespace.get(namespace.idFromName(name));
      try {
        return new Response(encode(await stub[method](...decode(await request.text()))));
      } catch (error) {
        return Response.json({ name: String(error && error.name), message: String(error && error.message) }, { status: 500 });
      }
    }
    if (kind === 'caches' && rest.length === 2 && rest[1] === 'delete') {
      const cache = await caches.open(rest[0]);
      const { url } = await request.json();
      return new Response(encode(await cache.delete(url)));
    }
    if (kind === 'services' && rest.length === 1) {
      const service = env[rest[0]];
      const url = request.headers.get('x-probe-url');
      if (!service || typeof service.fetch !== 'function' || !url) return new Response('no such service binding: ' + rest[0], { status: 404 });
      const forwarded = new Request(url, request);
      forwarded.headers.delete('x-probe-url');
      return service.fetch(forwarded);
    }
    return new Response('unknown probe route', { status: 404 });
  },
};`;

const replacer = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? { $number: String(value) } : value === undefined ? { $undefined: true } : value;
const reviver = (_key: string, value: unknown) => {
  if (value && typeof value === 'object' && typeof (value as { $number?: unknown }).$number === 'string') return Number((value as { $number: string }).$number);
  if (value && typeof value === 'object' && (value as { $undefined?: unknown }).$undefined === true) return undefined;
  return value;
};

export interface Probe {
  /**
   * A stub whose every method calls the same-named method of the Durable Object `name` (by `idFromName`)
   * of namespace `binding`, resolving to its result or rejecting with an Error carrying the object's
   * error name and message.
   */
  durableObject<T extends object>(binding: string, name: string): T;
  /** `(await caches.open(cache)).delete(url)` inside workerd: true when an entry was removed. */
  deleteCached(cache: string, url: string): Promise<boolean>;
  /** Sends `url` with `init` to the Worker behind the probe's service binding `binding`. */
  fetchVia(binding: string, url: string, init?: RequestInit): Promise<Response>;
}

/** A client of the probe Worker listening at `origin` (e.g. `http://127.0.0.1:8788`). */
export function probeAt(origin: string): Probe {
  const route = (...parts: string[]) => `${origin}/${parts.map(encodeURIComponent).join('/')}`;
  return {
    durableObject<T extends object>(binding: string, name: string): T {
      const call = async (method: string, args: unknown[]) => {
        const res = await fetch(route('objects', binding, name, method), { method: 'POST', body: JSON.stringify({ value: args }, replacer) });
        const text = await res.text();
        if (res.status === 500) {
          const { name: errorName, message } = JSON.parse(text) as { name: string; message: string };
          throw Object.assign(new Error(message), { name: errorName });
        }
        if (!res.ok) throw new Error(`probe answered ${res.status}: ${text}`);
        return (JSON.parse(text, reviver) as { value?: unknown }).value;
      };
      // Not thenable, so an async function may return it.
      return new Proxy({} as T, {
        get: (_target, key) => (typeof key === 'string' && key !== 'then' ? (...args: unknown[]) => call(key, args) : undefined),
      });
    },
    async deleteCached(cache, url) {
      const res = await fetch(route('caches', cache, 'delete'), { method: 'POST', body: JSON.stringify({ url }) });
      if (!res.ok) throw new Error(`probe answered ${res.status}: ${await res.text()}`);
      return (JSON.parse(await res.text()) as { value: boolean }).value;
    },
    fetchVia(binding, url, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('x-probe-url', url);
      return fetch(route('services', binding), { ...init, headers });
    },
  };
}
