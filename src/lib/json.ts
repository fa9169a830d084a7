/**
 * JSON text that may not be JSON: stored records, upstream answers, webhook bodies. Both return
 * undefined instead of throwing, so "unreadable" is a value the caller decides about (a miss, a 502,
 * not a challenge). JSON never parses to undefined, so undefined means "not JSON" only.
 */

/** `JSON.parse(text)`, or undefined when the text is absent or not JSON. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A JSON object (not an array, not null), or undefined for anything else. */
export function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  const value = parseJson(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
