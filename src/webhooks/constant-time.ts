/**
 * Compares two byte strings without an early exit, so the time taken does not reveal how many leading
 * bytes of a forged signature were right. Lengths are not secret: digest sizes are fixed by the algorithm.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
