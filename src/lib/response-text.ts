/**
 * Answers whose body the gateway built from a string, remembered by the Response itself, so a middleware that
 * keeps the answer (an Idempotency-Key or webhook delivery record) reads the string back instead of cloning the
 * body stream: `clone()` tees a Web stream, and on the webhook path that read cost about 7% of a 32 KiB
 * delivery's CPU (docs/benchmarks.md, "Large Inputs"). A WeakMap, so nothing outlives the answer.
 */
const texts = new WeakMap<Response, string>();

/** `new Response(text, init)`, with `text` kept for `responseText`. */
export function textResponse(text: string, init: ResponseInit): Response {
  const response = new Response(text, init);
  texts.set(response, text);
  return response;
}

/**
 * The body of `response` as text, leaving the response readable: the string a `textResponse` was built from, or
 * else a clone read to its end (any answer built another way, or a response something rebuilt since).
 */
export function responseText(response: Response): Promise<string> {
  const text = texts.get(response);
  return text !== undefined ? Promise.resolve(text) : response.clone().text();
}
