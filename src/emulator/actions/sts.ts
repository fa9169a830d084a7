/**
 * STS (`Version=2015-04-01`, STS API reference): `AssumeRole`, signed RPC like any call, and `AssumeRoleWithOIDC`,
 * which is anonymous (the OIDC token is the credential). Both answer with temporary keys from the emulator's
 * store, which its fnf side then accepts until they expire.
 *
 * What the emulator does not model: roles and their trust policies (any well-formed role ARN may be assumed by any
 * accepted key not limited to flows, and allows every flow), session policies (`Policy` is checked for grammar
 * only), and the OIDC token's signature and issuer (there is no identity provider offline). The token must still be
 * a JWT whose `exp`, if any, has not passed. The server routes `Version=2015-04-01` calls here (server.ts,
 * resolveAction) and refuses AssumeRole to a key limited to flows.
 */
import { fromBase64 } from '../../lib/bytes.js';
import { parseJsonObject } from '../../lib/json.js';
import { emulatorError } from '../errors.js';
import type { TemporaryKey } from '../temporary-keys.js';
import type { Action } from './types.js';

export const STS_API_VERSION = '2015-04-01';

const ROLE_ARN = /^acs:ram::(\d+):role\/([^\s/]+)$/i;
const OIDC_PROVIDER_ARN = /^acs:ram::\d+:oidc-provider\/[^\s]+$/i;
const ROLE_SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/;
const MIN_DURATION = 900;
const MAX_DURATION = 43_200;
const MAX_POLICY_LENGTH = 2048;

/** RoleArn, RoleSessionName, DurationSeconds and Policy, as both actions take them. */
function roleRequest(params: Readonly<Record<string, string>>, sessionRequired: boolean) {
  const roleArn = params.RoleArn;
  if (!roleArn) throw emulatorError('MissingParameter', 'RoleArn');
  const role = ROLE_ARN.exec(roleArn);
  if (!role) throw emulatorError('InvalidParameter.RoleArn');
  const session = params.RoleSessionName ?? (sessionRequired ? undefined : 'oidc-session');
  if (session === undefined) throw emulatorError('MissingParameter', 'RoleSessionName');
  if (!ROLE_SESSION_NAME.test(session)) throw emulatorError('InvalidParameter.RoleSessionName');
  const duration = params.DurationSeconds === undefined ? 3600 : Number(params.DurationSeconds);
  if (!Number.isInteger(duration) || duration < MIN_DURATION || duration > MAX_DURATION) throw emulatorError('InvalidParameter.DurationSeconds');
  if (params.Policy !== undefined) {
    const policy = params.Policy.length <= MAX_POLICY_LENGTH ? parseJsonObject(params.Policy) : undefined;
    if (!policy) throw emulatorError('InvalidParameter.PolicyGrammar');
  }
  return { account: role[1]!, roleName: role[2]!, session, duration };
}

function answer(key: TemporaryKey, account: string, roleName: string, session: string): Record<string, unknown> {
  return {
    AssumedRoleUser: {
      Arn: `acs:ram::${account}:role/${roleName.toLowerCase()}/${session}`,
      AssumedRoleId: `3${account.slice(-12).padStart(12, '0')}:${session}`,
    },
    Credentials: {
      AccessKeyId: key.accessKeyId,
      AccessKeySecret: key.accessKeySecret,
      SecurityToken: key.securityToken,
      Expiration: new Date(key.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  };
}

/** Signed RPC; the server has verified the caller's key, and refused one limited to flows. */
export const assumeRole: Action = async ({ params, temporaryKeys }) => {
  const { account, roleName, session, duration } = roleRequest(params, true);
  return answer(temporaryKeys.issue(duration), account, roleName, session);
};

/** Anonymous: the OIDC token is the credential, so the server verifies no signature. */
export const assumeRoleWithOidc: Action = async ({ params, temporaryKeys, clock }) => {
  const providerArn = params.OIDCProviderArn;
  if (!providerArn) throw emulatorError('MissingParameter', 'OIDCProviderArn');
  if (!OIDC_PROVIDER_ARN.test(providerArn)) throw emulatorError('InvalidParameter.OIDCProviderArn');
  const token = params.OIDCToken?.trim();
  if (!token) throw emulatorError('AuthenticationFail.OIDCToken.Invalid', 'The OIDCToken can not empty.');
  const claims = jwtClaims(token);
  if (!claims) throw emulatorError('AuthenticationFail.OIDCToken.Invalid', "The number of Jwt field should be divided into 3 parts with '.' .");
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= clock.now()) throw emulatorError('AuthenticationFail.OIDCToken.Expired');
  const { account, roleName, session, duration } = roleRequest(params, false);
  const body = answer(temporaryKeys.issue(duration), account, roleName, session);
  const aud = claims.aud;
  body.OIDCTokenInfo = {
    Subject: typeof claims.sub === 'string' ? claims.sub : '',
    Issuer: typeof claims.iss === 'string' ? claims.iss : '',
    ClientIds: Array.isArray(aud) ? aud.join(',') : typeof aud === 'string' ? aud : '',
    ...(typeof claims.exp === 'number' ? { ExpirationTime: new Date(claims.exp * 1000).toISOString() } : {}),
    ...(typeof claims.iat === 'number' ? { IssuanceTime: new Date(claims.iat * 1000).toISOString() } : {}),
  };
  return body;
};

/** The payload of a `header.payload.signature` JWT, or undefined when it is not one (the signature is not checked). */
function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length < 4 || token.length > 20_000) return undefined;
  const standard = parts[1]!.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = fromBase64(standard + '='.repeat((4 - (standard.length % 4)) % 4));
  if (!bytes) return undefined;
  try {
    return parseJsonObject(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}
