/** Parsing of the human units the config accepts: durations ("60s", "5m", "1d", or ms) and sizes ("64KiB", "1MiB", or bytes). */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Returns milliseconds, or undefined when the text is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = DURATION_UNITS[(m[2] ?? 'ms').toLowerCase()]!;
  return Math.round(Number(m[1]) * unit);
}

/** Returns bytes, or undefined when the text is not a size. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!;
  return Math.floor(Number(m[1]) * unit);
}

/** Parses a rate such as "20/s", "5/1m" or "10000/d" into a count per period. */
export function parseRate(value: string): { count: number; periodMs: number } | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h|d)\s*$/i.exec(value);
  if (!m) return undefined;
  const count = Number(m[1]);
  const periodMs = Math.round(Number(m[2] ?? 1) * DURATION_UNITS[m[3]!.toLowerCase()]!);
  if (!(count > 0) || !(periodMs > 0)) return undefined;
  return { count, periodMs };
}

/** The burst of a rate given without one: one period's worth of requests may arrive at once (at least 1). */
export function defaultBurst(rate: { count: number }): number {
  return Math.max(1, Math.ceil(rate.count));
}
