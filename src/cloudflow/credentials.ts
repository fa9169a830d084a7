/** An AccessKey pair, with an STS token when the keys are temporary. */
export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

/** Credentials may come from a refreshing source (STS), so signers ask for them per request. */
export type CredentialsProvider = () => Credentials | Promise<Credentials>;

export function staticCredentials(credentials: Credentials): CredentialsProvider {
  if (!credentials.accessKeyId || !credentials.accessKeySecret) {
    throw new TypeError('accessKeyId and accessKeySecret are required');
  }
  const frozen = Object.freeze({ ...credentials });
  return () => frozen;
}

/** The official SDKs' environment convention. Takes the environment as a record so the core never reads process.env. */
export function credentialsFromEnv(env: Record<string, string | undefined>): Credentials | undefined {
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) return undefined;
  const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined;
  return { accessKeyId, accessKeySecret, securityToken };
}
