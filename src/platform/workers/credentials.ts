import type { SigningCrypto } from '../../cloudflow/signing/digests.js';
import { staticSource, type CredentialSource } from '../../cloudflow/credentials.js';
import { assumeRoleSource, credentialsUriSource } from '../../cloudflow/sts.js';
import type { CredentialsSpec } from '../../config/credentials.js';
import type { Clock } from '../../lib/clock.js';
import type { Random } from '../../lib/random.js';

/**
 * What `upstream.credentials` can be on Workers, as config issues (the Worker answers them like any invalid
 * config). The official library is Node-only, so the Worker speaks the protocols that need only `fetch`:
 * keys given as values, STS AssumeRole and a credentials URI. A Worker has no ECS metadata service and no
 * RRSA token file, and its default chain is its bindings: the AccessKey variables, then `ALIBABA_CLOUD_CREDENTIALS_URI`.
 */
export function workersCredentialIssues(spec: CredentialsSpec): string[] {
  switch (spec.type) {
    case 'ecs_ram_role':
    case 'oidc_role_arn':
      return [
        `upstream.credentials.type: ${spec.type} is not available on Workers (no ${spec.type === 'ecs_ram_role' ? 'ECS metadata service' : 'RRSA token file'}); use ram_role_arn, credentials_uri, sts or access_key`,
      ];
    case 'default':
      return spec.credentialsURI
        ? []
        : [
            'upstream.credentials: no credentials; set upstream.credentials, or the ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET secrets, or ALIBABA_CLOUD_CREDENTIALS_URI',
          ];
    default:
      return [];
  }
}

export interface WorkersCredentialOptions {
  fetch: typeof fetch;
  clock: Clock;
  random: Random;
  crypto?: SigningCrypto | undefined;
}

/** The credential source for `upstream.credentials` on Workers; throws a TypeError for what {@link workersCredentialIssues} refuses. */
export function workersCredentialSource(spec: CredentialsSpec, options: WorkersCredentialOptions): CredentialSource {
  const issues = workersCredentialIssues(spec);
  if (issues.length > 0) throw new TypeError(issues.join('; '));
  switch (spec.type) {
    case 'access_key':
      return staticSource(spec.type, { accessKeyId: spec.accessKeyId, accessKeySecret: spec.accessKeySecret });
    case 'sts':
      return staticSource(spec.type, { accessKeyId: spec.accessKeyId, accessKeySecret: spec.accessKeySecret, securityToken: spec.securityToken });
    case 'ram_role_arn':
      return assumeRoleSource({
        endpoint: spec.stsEndpoint,
        identity: { accessKeyId: spec.accessKeyId, accessKeySecret: spec.accessKeySecret, securityToken: spec.securityToken },
        roleArn: spec.roleArn,
        roleSessionName: spec.roleSessionName,
        durationSeconds: spec.durationSeconds,
        policy: spec.policy,
        externalId: spec.externalId,
        timeoutMs: spec.timeoutMs,
        connectTimeoutMs: spec.connectTimeoutMs,
        ...options,
      });
    case 'credentials_uri':
      return credentialsUriSource({ uri: spec.credentialsURI, timeoutMs: spec.timeoutMs, connectTimeoutMs: spec.connectTimeoutMs, fetch: options.fetch });
    case 'default':
      return credentialsUriSource({ uri: spec.credentialsURI!, timeoutMs: 10_000, connectTimeoutMs: 5_000, fetch: options.fetch });
    default:
      throw new TypeError(`upstream.credentials.type: ${spec.type} is not available on Workers`);
  }
}
