/** Randomness is injected so that signatures and generated names are reproducible in tests. */
export interface Random {
  /** A RFC 4122 v4 UUID. */
  uuid(): string;
  /** 16 random bytes as 32 lowercase hex characters (the official clients' nonce shape). */
  nonce(): string;
}

export const cryptoRandom: Random = {
  uuid: () => crypto.randomUUID(),
  // randomUUID draws from a pooled entropy buffer, so it is cheaper than a fresh getRandomValues call.
  nonce: () => crypto.randomUUID().replaceAll('-', ''),
};

/** Deterministic source for tests: counts upwards. */
export function sequenceRandom(prefix = 0): Random {
  let n = prefix;
  return {
    uuid: () => {
      const h = (n++).toString(16).padStart(12, '0');
      return `00000000-0000-4000-8000-${h}`;
    },
    nonce: () => (n++).toString(16).padStart(32, '0'),
  };
}
