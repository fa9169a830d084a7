/**
 * ISO 8601 UTC timestamps, formatted once per second: every call within the same second shares the
 * part up to the seconds. Building a Date and its full string per call cost several microseconds under
 * load, and both the access log (every request) and the signer (every upstream call) need one.
 */

let second = Number.NaN;
/** `2026-11-26T01:02:03.`: everything but the milliseconds and "Z" (also for the extended years past 9999). */
let stem = '';
/** `2026-11-26T01:02:03Z`. */
let wholeSeconds = '';

function enter(s: number): void {
  const iso = new Date(s * 1000).toISOString();
  stem = iso.slice(0, -4);
  wholeSeconds = iso.slice(0, -5) + 'Z';
  second = s;
}

/** `new Date(ms).toISOString()` (`2026-11-26T01:02:03.045Z`), for the access log and recorded times. */
export function isoTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s !== second) enter(s);
  const milli = Math.floor(ms) - s * 1000;
  return stem + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}

/** `2026-11-26T01:02:03Z`: the timestamp both Alibaba Cloud signature versions use (no milliseconds). */
export function isoSeconds(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s !== second) enter(s);
  return wholeSeconds;
}
