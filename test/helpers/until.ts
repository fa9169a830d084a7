/**
 * Polls `check` until it returns true. Only for state that gives no event to wait on from outside: work
 * that workerd finishes through waitUntil after the response, a Durable Object lease running out. Where
 * the code under test can say when it got there (a call received, a timer armed, a drain), wait for that.
 */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
