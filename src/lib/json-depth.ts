/**
 * The deepest nesting of objects and arrays in JSON text, scanned without parsing, so a hostile
 * `[[[[…` is refused before anything walks it. Stops counting once past `limit`. String contents
 * are skipped with indexOf, which keeps the scan cheap for large, string-heavy inputs.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  // Depth never exceeds the number of opening brackets (those inside strings only over-count), and
  // counting them with indexOf is far cheaper than the scan below, which most bodies then skip.
  if (openingBracketsAtMost(text, limit)) return false;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 34 /* " */) {
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      // An unterminated string: the text is not JSON, and the parser will say so.
      if (end === -1) return false;
      i = end;
    } else if (ch === 123 /* { */ || ch === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (ch === 125 /* } */ || ch === 93 /* ] */) depth--;
  }
  return false;
}

/** A quote is escaped when an odd number of backslashes precede it. */
function isEscaped(text: string, quote: number): boolean {
  let slashes = 0;
  for (let j = quote - 1; j >= 0 && text.charCodeAt(j) === 92; j--) slashes++;
  return slashes % 2 === 1;
}

function openingBracketsAtMost(text: string, limit: number): boolean {
  let count = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++count > limit) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++count > limit) return false;
  return true;
}
