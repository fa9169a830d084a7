/**
 * The upstream credentials on Node: Alibaba Cloud's official `@alicloud/credentials` (pinned) speaks every
 * protocol (STS AssumeRole and AssumeRoleWithOIDC, the ECS metadata service with its hardened token mode, a
 * credentials URI, the profile files). flowgate keeps only the timing (cloudflow/refreshing-credentials.ts): it
 * calls each official provider's `refresher`, the method that fetches one session with its expiry, instead of
 * `getCredentials()`, whose own cache refreshes 15 minutes before expiry from `Date.now()`, makes the calling
 * request wait for it, and does not say when the keys expire.
 *
 * What the official library fixes and this cannot change: STS is always called over HTTPS (a local STS needs
 * TLS, see the emulator's `--sts-tls-cert`), and the metadata service is always `http://100.100.100.200`.
 */
import {
  CLIProfileCredentialsProvider,
  ECSRAMRoleCredentialsProvider,
  OIDCRoleArnCredentialsProvider,
  ProfileCredentialsProvider,
  RAMRoleARNCredentialsProvider,
  StaticAKCredentialsProvider,
  StaticSTSCredentialsProvider,
  URICredentialsProvider,
} from '@alicloud/credentials';
import { credentialErrorReason, staticSource, type CredentialSource, type IssuedCredentials } from '../../cloudflow/credentials.js';
import type { CredentialsSpec } from '../../config/credentials.js';

/** The official providers' shape as flowgate uses it. */
interface OfficialProvider {
  getProviderName(): string;
  getCredentials(): Promise<{ accessKeyId: string; accessKeySecret: string; securityToken?: string; providerName?: string }>;
  /** Session providers (STS, metadata, URI): one fetch, with the expiry. */
  refresher?: () => Promise<{ accessKeyId: string; accessKeySecret: string; securityToken: string; expiration?: string }>;
}

/** The official metadata client's deadlines: 1 s to connect and 1 s to read, for up to three requests. */
const METADATA_FETCH_MS = 3 * 2_000;
/** Keys from a profile file carry no expiry; their own provider keeps the session, and is asked again this often. */
const PROFILE_RECHECK_MS = 60_000;

/**
 * Settings the official Node library cannot work with, phrased like config issues (exit 2 at start): it calls
 * STS over HTTPS only, so an `http://` STS endpoint (fine on Workers, for a local emulator) is refused here.
 */
export function nodeCredentialIssues(spec: CredentialsSpec): string[] {
  if ((spec.type === 'ram_role_arn' || spec.type === 'oidc_role_arn') && new URL(spec.stsEndpoint).protocol !== 'https:') {
    return [
      'upstream.credentials.stsEndpoint: the official Node credentials library calls STS over HTTPS only; give a host such as 127.0.0.1:9401 and serve STS with TLS (flowgate emulator --sts-tls-cert/--sts-tls-key)',
    ];
  }
  return [];
}

/**
 * The credential source for `upstream.credentials` on Node. Throws a TypeError with a config-style message
 * for settings {@link nodeCredentialIssues} refuses.
 */
export function nodeCredentialSource(spec: CredentialsSpec, env: Record<string, string | undefined> = process.env): CredentialSource {
  const issues = nodeCredentialIssues(spec);
  if (issues.length > 0) throw new TypeError(issues.join('; '));
  switch (spec.type) {
    case 'access_key':
      return staticSource(spec.type, { accessKeyId: spec.accessKeyId, accessKeySecret: spec.accessKeySecret });
    case 'sts':
      return staticSource(spec.type, { accessKeyId: spec.accessKeyId, accessKeySecret: spec.accessKeySecret, securityToken: spec.securityToken });
    case 'ram_role_arn': {
      const identity = spec.securityToken
        ? StaticSTSCredentialsProvider.builder()
            .withAccessKeyId(spec.accessKeyId)
            .withAccessKeySecret(spec.accessKeySecret)
            .withSecurityToken(spec.securityToken)
            .build()
        : StaticAKCredentialsProvider.builder().withAccessKeyId(spec.accessKeyId).withAccessKeySecret(spec.accessKeySecret).build();
      const builder = RAMRoleARNCredentialsProvider.builder()
        .withCredentialsProvider(identity)
        .withRoleArn(spec.roleArn)
        .withRoleSessionName(spec.roleSessionName)
        .withDurationSeconds(spec.durationSeconds)
        .withStsEndpoint(new URL(spec.stsEndpoint).host)
        .withReadTimeout(spec.timeoutMs)
        .withConnectTimeout(spec.connectTimeoutMs);
      if (spec.policy) builder.withPolicy(spec.policy);
      if (spec.externalId) builder.withExternalId(spec.externalId);
      return sessionSource(spec.type, builder.build(), spec.timeoutMs + spec.connectTimeoutMs);
    }
    case 'oidc_role_arn': {
      const builder = OIDCRoleArnCredentialsProvider.builder()
        .withRoleArn(spec.roleArn)
        .withOIDCProviderArn(spec.oidcProviderArn)
        .withOIDCTokenFilePath(spec.oidcTokenFilePath)
        .withRoleSessionName(spec.roleSessionName)
        .withDurationSeconds(spec.durationSeconds)
        .withStsEndpoint(new URL(spec.stsEndpoint).host)
        .withReadTimeout(spec.timeoutMs)
        .withConnectTimeout(spec.connectTimeoutMs);
      if (spec.policy) builder.withPolicy(spec.policy);
      return sessionSource(spec.type, builder.build(), spec.timeoutMs + spec.connectTimeoutMs);
    }
    case 'ecs_ram_role': {
      // No asyncCredentialUpdateEnabled: that starts a one-minute timer of the library's own.
      const builder = ECSRAMRoleCredentialsProvider.builder().withDisableIMDSv1(spec.disableIMDSv1);
      if (spec.roleName) builder.withRoleName(spec.roleName);
      if (spec.timeoutMs !== undefined) builder.withReadTimeout(spec.timeoutMs);
      if (spec.connectTimeoutMs !== undefined) builder.withConnectTimeout(spec.connectTimeoutMs);
      const perRequest = (spec.timeoutMs ?? 1_000) + (spec.connectTimeoutMs ?? 1_000);
      return sessionSource(spec.type, builder.build(), 3 * perRequest);
    }
    case 'credentials_uri': {
      const provider = URICredentialsProvider.builder()
        .withCredentialsURI(spec.credentialsURI)
        .withReadTimeout(spec.timeoutMs)
        .withConnectTimeout(spec.connectTimeoutMs)
        .build();
      return sessionSource(spec.type, provider, spec.timeoutMs + spec.connectTimeoutMs);
    }
    case 'default':
      return defaultChainSource(spec.credentialsURI, env);
  }
}

function sessionSource(type: string, provider: OfficialProvider, maxFetchMs: number): CredentialSource {
  return { type, refreshable: true, maxFetchMs, fetch: () => fetchFrom(provider) };
}

async function fetchFrom(provider: OfficialProvider): Promise<IssuedCredentials> {
  if (provider.refresher) {
    const session = await provider.refresher();
    const expiresAt = session.expiration ? Date.parse(session.expiration) : Number.NaN;
    return {
      credentials: { accessKeyId: session.accessKeyId, accessKeySecret: session.accessKeySecret, securityToken: session.securityToken || undefined },
      expiresAt: Number.isNaN(expiresAt) ? undefined : expiresAt,
      providerName: provider.getProviderName(),
    };
  }
  const got = await provider.getCredentials();
  return {
    credentials: { accessKeyId: got.accessKeyId, accessKeySecret: got.accessKeySecret, securityToken: got.securityToken || undefined },
    providerName: got.providerName ?? provider.getProviderName(),
  };
}

/**
 * The part of the official default chain (`providers/default.ts`) the config loader could not decide from the
 * environment alone: the CLI profile (`~/.aliyun/config.json`), the profile file
 * (`~/.alibabacloud/credentials`), the ECS instance role, `ALIBABA_CLOUD_CREDENTIALS_URI`, in that order, each
 * built by its official builder (which reads its own environment variables and refuses when not applicable).
 * The first that answers is kept, as the official chain keeps it.
 */
function defaultChainSource(credentialsURI: string | undefined, env: Record<string, string | undefined>): CredentialSource {
  const candidates: OfficialProvider[] = [];
  const attempt = (build: () => OfficialProvider) => {
    try {
      candidates.push(build());
    } catch {
      // Not applicable here (disabled by its environment variable, no file): the official chain skips it too.
    }
  };
  attempt(() => CLIProfileCredentialsProvider.builder().build());
  attempt(() => ProfileCredentialsProvider.builder().build());
  attempt(() => ECSRAMRoleCredentialsProvider.builder().withRoleName(env.ALIBABA_CLOUD_ECS_METADATA!).build());
  if (credentialsURI) attempt(() => URICredentialsProvider.builder().withCredentialsURI(credentialsURI).build());
  let chosen: OfficialProvider | undefined;
  return {
    type: 'default',
    refreshable: true,
    recheckMs: PROFILE_RECHECK_MS,
    maxFetchMs: 10_000 + METADATA_FETCH_MS + 15_000,
    async fetch() {
      if (chosen) return fetchFrom(chosen);
      const reasons: string[] = [];
      for (const candidate of candidates) {
        try {
          const issued = await fetchFrom(candidate);
          chosen = candidate;
          issued.providerName = `default/${issued.providerName ?? candidate.getProviderName()}`;
          return issued;
        } catch (error) {
          reasons.push(`${candidate.getProviderName()}: ${credentialErrorReason(error)}`);
        }
      }
      throw new Error(`no provider of the default chain answered (${reasons.join('; ') || 'none applies'})`);
    },
  };
}
