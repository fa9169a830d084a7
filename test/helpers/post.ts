/** One POST over real HTTP, with the answer read once and parsed when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | undefined;
  ms: number;
}

export async function send(url: string, init: { method?: string; body?: string; headers?: HeadersInit } = {}): Promise<Answer> {
  const started = performance.now();
  const headers = new Headers(init.headers);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, body: init.body });
  return answerOf(res, performance.now() - started);
}

/** Reads an answer once: its text, and its JSON when it parses. */
export async function answerOf(res: Response, ms = 0): Promise<Answer> {
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, ms };
}
