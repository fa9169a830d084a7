/**
 * Store failures are values, not exceptions: the caller decides whether to fail open or closed.
 */
export type StoreResult<T> = { ok: true; value: T } | { ok: false; error: 'timeout' | 'unavailable'; detail?: string };

export const storeOk = <T>(value: T): StoreResult<T> => ({ ok: true, value });

/** Races a store call against a deadline and turns rejections into results; never throws, never hangs. */
export async function guardStoreCall<T>(call: () => Promise<T>, timeoutMs: number): Promise<StoreResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<StoreResult<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: 'timeout', detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      call().then(storeOk, (error: unknown) => ({
        ok: false as const,
        error: 'unavailable' as const,
        detail: error instanceof Error ? error.message : String(error),
      })),
      timeout,
    ]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
