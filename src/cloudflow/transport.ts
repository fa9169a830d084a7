/**
 * The outbound HTTP hop, injected so the client runs anywhere: an undici pool on Node, global
 * `fetch` on Workers, a loopback server in tests. Narrower than fetch on purpose: the client only
 * ever sends one small form POST and reads one small JSON answer.
 */
export interface UpstreamRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  header(name: string): string | null;
  text(): Promise<string>;
}

export type Transport = (request: UpstreamRequest) => Promise<UpstreamResponse>;

export function fetchTransport(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): Transport {
  return async (request) => {
    const res = await fetchImpl(request.url, { method: request.method, headers: request.headers, body: request.body, signal: request.signal });
    return { status: res.status, header: (name) => res.headers.get(name), text: () => res.text() };
  };
}
