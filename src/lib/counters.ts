/**
 * Plain named counters, cheap to bump on the request path and ready for a metrics endpoint to read
 * (`ratelimit.refused`, `ratelimit.store_errors`, …). No timers, no labels, no dependencies.
 */
export type Counters = Record<string, number>;

export function bump(counters: Counters | undefined, name: string, by = 1): void {
  if (counters) counters[name] = (counters[name] ?? 0) + by;
}
