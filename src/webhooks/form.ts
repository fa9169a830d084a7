/**
 * `application/x-www-form-urlencoded` bodies, parsed as the WHATWG URL Standard says (what browsers and the
 * senders' own libraries do): fields split on `&`, name and value on the first `=`, `+` is a space, percent
 * escapes are decoded as UTF-8 (a bad escape is kept as written, bytes that are not UTF-8 become U+FFFD).
 */

/** The fields in the order sent, a name sent twice appearing twice. */
export function formPairs(text: string): [string, string][] {
  // A leading `&` keeps a body that starts with `?` intact: URLSearchParams drops one leading `?`.
  return [...new URLSearchParams(`&${text}`)];
}

/**
 * The fields as an object, the one rule for names sent more than once: a name sent once is a string, a name
 * sent several times an array of its values in the order sent (`a=1&a=2` → `{"a":["1","2"]}`). The object
 * has no prototype, so a field named `__proto__` is a field like any other.
 */
export function formFields(pairs: readonly [string, string][]): Record<string, string | string[]> {
  const fields = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of pairs) {
    const seen = fields[name];
    if (seen === undefined) fields[name] = value;
    else if (typeof seen === 'string') fields[name] = [seen, value];
    else seen.push(value);
  }
  return fields;
}
