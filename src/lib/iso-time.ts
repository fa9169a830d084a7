let second = Number.NaN;
let prefix = '';

/**
 * `new Date(ms).toISOString()` for the access log, with the part up to the seconds formatted once
 * per second: every request of that second shares it, and building a Date and its full string per
 * request cost several microseconds under load.
 */
export function isoTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s !== second) {
    // Everything but the milliseconds and "Z"; this also holds for the extended years toISOString writes past 9999.
    const iso = new Date(s * 1000).toISOString();
    prefix = iso.slice(0, -4);
    second = s;
  }
  const milli = Math.floor(ms) - s * 1000;
  return prefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}
