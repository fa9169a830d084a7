/** An AccessKey pair, with an STS token when the keys are temporary. */
export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

/**
 * What signers ask for the keys of one call. A value while the held keys are valid (no await on the hot path);
 * a promise only when none are, and then the call waits for new ones.
 */
export type CredentialsProvider = () => Credentials | Promise<Credentials>;

/** One answer of a credential source: the keys, and until when they are valid. */
export interface IssuedCredentials {
  credentials: Credentials;
  /** Epoch ms after which the upstream refuses them; undefined when the source does not say (keys given as values). */
  expiresAt?: number | undefined;
  /** The provider that answered (`ram_role_arn`, `ecs_ram_role`, `default/profile`, …), for the log. */
  providerName?: string | undefined;
}

/**
 * Where the upstream credentials come from: the port each runtime entry fills (the official
 * `@alicloud/credentials` providers on Node, `fetch` on Workers, keys given as values on both). Asked only
 * when the held keys are due for a refresh; the timing is `refreshingCredentials`'s.
 */
export interface CredentialSource {
  /** The configured type (`ram_role_arn`, …), for logs and `/readyz`; never a value. */
  type: string;
  /** Keys given as values: there is nothing to fetch anew, so an expired token stays expired. */
  refreshable: boolean;
  /** The keys held from the start, when the source has them without I/O. */
  initial?: IssuedCredentials | undefined;
  /**
   * For keys without an expiry from a refreshable source (a profile file whose own provider keeps the session):
   * ask again after this many ms. Undefined: such keys are kept until the upstream refuses them.
   */
  recheckMs?: number | undefined;
  /** The longest one fetch may take, ms (its read and connect deadlines): how long others wait for it. */
  maxFetchMs: number;
  /** Fetches the keys anew. Rejects with an Error whose message is fit for a log line (no secret in it). */
  fetch(): Promise<IssuedCredentials>;
}

/** Keys given as values (`access_key`, `sts`): held from the start, never fetched. */
export function staticSource(type: string, credentials: Credentials): CredentialSource {
  if (!credentials.accessKeyId || !credentials.accessKeySecret) throw new TypeError('accessKeyId and accessKeySecret are required');
  const issued: IssuedCredentials = { credentials: Object.freeze({ ...credentials }), providerName: credentials.securityToken ? 'static_sts' : 'static_ak' };
  return { type, refreshable: false, initial: issued, maxFetchMs: 1, fetch: () => Promise.resolve(issued) };
}

/** Keys given as values, as a provider: the client's simplest use (tests, benchmarks, embedding). */
export function staticCredentials(credentials: Credentials): CredentialsProvider {
  const frozen = staticSource('access_key', credentials).initial!.credentials;
  return () => frozen;
}

/**
 * A source's error as a log line may carry it: at most 300 characters, with the values of JSON fields that
 * name a secret or a token masked (the official URI provider quotes the whole answer when a field is missing),
 * and every URL in it cut to scheme, host, port and path (see {@link redactUrls}). The one place every
 * credential type's errors become text, on Node and on Workers alike.
 */
export function credentialErrorReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return redactUrls(text.replace(/("[A-Za-z_]*(?:secret|token|password)[A-Za-z_]*"\s*:\s*)"[^"]*"/gi, '$1"***"')).slice(0, 300);
}

/** `scheme://authority` then path, query and fragment, up to a space, a quote or a bracket that ends it in prose. */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>()]*)([^\s?#"'<>()]*)(\?[^\s#"'<>()]*)?(#[^\s"'<>()]*)?/gi;

/**
 * Text with the user info (`user:password@`), query and fragment of each `scheme://` URL in it replaced by
 * `***`: a credentials URI or endpoint may carry its secret in any of them (RFC 3986 §3.2.1 calls user info
 * in a URI deprecated for exactly that reason), and the host and path are what an operator needs.
 */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (_match, scheme: string, authority: string, path: string, query?: string, fragment?: string) => {
    const at = authority.lastIndexOf('@');
    const host = at < 0 ? authority : `***@${authority.slice(at + 1)}`;
    return `${scheme}${host}${path}${query ? '?***' : ''}${fragment ? '#***' : ''}`;
  });
}
