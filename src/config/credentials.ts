import * as z from 'zod';
import { parseDuration } from './units.js';

/**
 * `upstream.credentials`: the credential types of Alibaba Cloud's official credentials library
 * (`@alicloud/credentials`, "Manage access credentials", Node.js), with that library's option names. Each
 * official builder falls back to the same environment variables when an option is absent, and so does this
 * loader, from the environment it is given (so the result is decided here, once, and `flowgate check` can
 * say which type is in use). Messages name key paths, never values.
 */

export const CREDENTIAL_TYPES = ['access_key', 'sts', 'ram_role_arn', 'oidc_role_arn', 'ecs_ram_role', 'credentials_uri'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** Where a setting came from: the config file, or the environment (the official default chain's first steps). */
export type CredentialOrigin = 'config' | 'environment';

interface Common {
  /** Where the type was decided, for `flowgate check`. */
  origin: CredentialOrigin;
}

export interface AccessKeySpec extends Common {
  type: 'access_key';
  accessKeyId: string;
  accessKeySecret: string;
}

export interface StsSpec extends Common {
  type: 'sts';
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
}

/** What an STS call needs besides the caller's identity. */
interface StsCallSpec {
  roleArn: string;
  roleSessionName: string;
  /** Seconds, 900 to 43200 (STS AssumeRole). */
  durationSeconds: number;
  /** A JSON policy document that narrows the role's permissions. */
  policy?: string | undefined;
  /** The STS endpoint as a URL: `https://sts.aliyuncs.com`, a regional or VPC one, or `http://…` for a local emulator. */
  stsEndpoint: string;
  /** Read deadline of one STS call, ms (the official default is 10 s). */
  timeoutMs: number;
  /** Connect deadline of one STS call, ms (the official default is 5 s). */
  connectTimeoutMs: number;
}

export interface RamRoleArnSpec extends Common, StsCallSpec {
  type: 'ram_role_arn';
  /** The identity that assumes the role: a RAM user's AccessKey, or temporary keys with their token. */
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
  externalId?: string | undefined;
}

export interface OidcRoleArnSpec extends Common, StsCallSpec {
  type: 'oidc_role_arn';
  oidcProviderArn: string;
  /** Read again at every refresh: RRSA rotates the token in place. */
  oidcTokenFilePath: string;
}

export interface EcsRamRoleSpec extends Common {
  type: 'ecs_ram_role';
  /** The instance's RAM role; asked of the metadata service when absent. */
  roleName?: string | undefined;
  /** Hardened mode: every metadata request carries a session token, with no fallback to the plain mode. */
  disableIMDSv1: boolean;
  timeoutMs?: number | undefined;
  connectTimeoutMs?: number | undefined;
}

export interface CredentialsUriSpec extends Common {
  type: 'credentials_uri';
  credentialsURI: string;
  timeoutMs: number;
  connectTimeoutMs: number;
}

/**
 * No `upstream.credentials` and nothing in the environment the loader can decide on: the rest of the official
 * default chain (the profile files, the ECS instance role, `ALIBABA_CLOUD_CREDENTIALS_URI`) is for the runtime
 * to try when it starts, in that order.
 */
export interface DefaultChainSpec {
  type: 'default';
  origin: 'environment';
  /** `ALIBABA_CLOUD_CREDENTIALS_URI`, when set. */
  credentialsURI?: string | undefined;
}

export type CredentialsSpec = AccessKeySpec | StsSpec | RamRoleArnSpec | OidcRoleArnSpec | EcsRamRoleSpec | CredentialsUriSpec | DefaultChainSpec;

/** AssumeRole and AssumeRoleWithOIDC limits (STS API reference): 15 minutes to 12 hours; 3600 s by default. */
export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43_200;
const DEFAULT_DURATION_SECONDS = 3600;
const DEFAULT_SESSION_NAME = 'flowgate';
/** STS RoleSessionName: 2 to 64 letters, digits and `. @ - _`. */
const ROLE_SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/;
const ROLE_ARN = /^acs:ram::\d+:role\/[^\s]+$/i;
const OIDC_PROVIDER_ARN = /^acs:ram::\d+:oidc-provider\/[^\s]+$/i;
/** The longest session policy STS accepts, in characters. */
const MAX_POLICY_LENGTH = 2048;
/** The official library's deadlines for an STS or URI call (ram_role_arn.ts, oidc_role_arn.ts, uri.ts). */
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration longer than 0, such as "5s" or milliseconds' });
    return z.NEVER;
  }
  return ms;
});

/** Every key any type takes; which type takes which is checked after parsing, so the message can say. */
export const credentialsSchema = z.strictObject({
  type: z.enum(CREDENTIAL_TYPES, { message: `expected one of ${CREDENTIAL_TYPES.join(', ')}` }).optional(),
  accessKeyId: z.string().min(1).optional(),
  accessKeySecret: z.string().min(1).optional(),
  securityToken: z.string().optional(),
  roleArn: z.string().min(1).optional(),
  roleSessionName: z.string().optional(),
  durationSeconds: z.number().int().optional(),
  policy: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  externalId: z.string().min(1).optional(),
  stsEndpoint: z.string().min(1).optional(),
  stsRegionId: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be a region id such as cn-hangzhou')
    .optional(),
  enableVpc: z.boolean().optional(),
  oidcProviderArn: z.string().min(1).optional(),
  oidcTokenFilePath: z.string().min(1).optional(),
  roleName: z.string().min(1).optional(),
  disableIMDSv1: z.boolean().optional(),
  credentialsURI: z.string().min(1).optional(),
  timeout: duration.optional(),
  connectTimeout: duration.optional(),
});

type RawCredentials = z.output<typeof credentialsSchema>;
type Key = Exclude<keyof RawCredentials, 'type'>;
type Env = Record<string, string | undefined>;

const STS_CALL_KEYS: Key[] = [
  'roleArn',
  'roleSessionName',
  'durationSeconds',
  'policy',
  'stsEndpoint',
  'stsRegionId',
  'enableVpc',
  'timeout',
  'connectTimeout',
];
/** Which keys each type takes (the official `Config` fields its builder reads). */
const KEYS: Record<CredentialType, readonly Key[]> = {
  access_key: ['accessKeyId', 'accessKeySecret'],
  sts: ['accessKeyId', 'accessKeySecret', 'securityToken'],
  ram_role_arn: ['accessKeyId', 'accessKeySecret', 'securityToken', 'externalId', ...STS_CALL_KEYS],
  oidc_role_arn: ['oidcProviderArn', 'oidcTokenFilePath', ...STS_CALL_KEYS],
  ecs_ram_role: ['roleName', 'disableIMDSv1', 'timeout', 'connectTimeout'],
  credentials_uri: ['credentialsURI', 'timeout', 'connectTimeout'],
};

const PATH = 'upstream.credentials';
const isTrue = (value: string | undefined) => value?.toLowerCase() === 'true';

/**
 * Resolves `upstream.credentials` (already parsed by {@link credentialsSchema}) against the environment, the
 * way the official builders and the default chain do. Without `credentials`: the environment's AccessKey
 * (`ALIBABA_CLOUD_ACCESS_KEY_ID`, `_SECRET`, `_SECURITY_TOKEN`), else RRSA (`ALIBABA_CLOUD_ROLE_ARN`,
 * `_OIDC_PROVIDER_ARN`, `_OIDC_TOKEN_FILE`), else the rest of the chain at start (`type: 'default'`).
 * Pushes `upstream.credentials.<key>: …` issues and returns undefined when the settings cannot work.
 */
export function resolveCredentials(raw: RawCredentials | undefined, env: Env, issues: string[]): CredentialsSpec | undefined {
  if (!raw) return fromEnvironment(env);
  const type = raw.type ?? legacyType(raw, issues);
  if (!type) return undefined;
  const before = issues.length;
  for (const key of Object.keys(raw) as (keyof RawCredentials)[]) {
    // An empty value (`securityToken: ${ALIBABA_CLOUD_SECURITY_TOKEN:-}`) is an absent one.
    if (key === 'type' || raw[key] === undefined || raw[key] === '' || KEYS[type].includes(key)) continue;
    const takers = CREDENTIAL_TYPES.filter((t) => KEYS[t].includes(key));
    issues.push(`${PATH}.${key}: applies to type ${takers.join(' or ')}, not ${type}`);
  }
  if (issues.length > before) return undefined;
  switch (type) {
    case 'access_key':
    case 'sts':
      return staticSpec(type, raw, issues);
    case 'ram_role_arn':
      return ramRoleArnSpec(raw, env, issues);
    case 'oidc_role_arn':
      return oidcRoleArnSpec(raw, env, 'config', issues);
    case 'ecs_ram_role':
      return {
        type,
        origin: 'config',
        roleName: raw.roleName ?? (env.ALIBABA_CLOUD_ECS_METADATA || undefined),
        disableIMDSv1: raw.disableIMDSv1 ?? isTrue(env.ALIBABA_CLOUD_IMDSV1_DISABLED),
        timeoutMs: raw.timeout,
        connectTimeoutMs: raw.connectTimeout,
      };
    case 'credentials_uri': {
      const credentialsURI = raw.credentialsURI ?? env.ALIBABA_CLOUD_CREDENTIALS_URI;
      if (!credentialsURI) return void issues.push(`${PATH}.credentialsURI: required (or ALIBABA_CLOUD_CREDENTIALS_URI)`);
      if (!isHttpUrl(credentialsURI)) return void issues.push(`${PATH}.credentialsURI: expected an http(s) URL`);
      return {
        type,
        origin: 'config',
        credentialsURI,
        timeoutMs: raw.timeout ?? DEFAULT_TIMEOUT_MS,
        connectTimeoutMs: raw.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
      };
    }
  }
}

/** The form without `type` (accessKeyId, accessKeySecret, optional securityToken) is `access_key` or `sts`. */
function legacyType(raw: RawCredentials, issues: string[]): CredentialType | undefined {
  const others = (Object.keys(raw) as Key[]).filter((key) => raw[key] !== undefined && !KEYS.sts.includes(key));
  if (others.length > 0) {
    issues.push(`${PATH}.type: required with ${others.join(', ')}; one of ${CREDENTIAL_TYPES.join(', ')}`);
    return undefined;
  }
  return raw.securityToken ? 'sts' : 'access_key';
}

function staticSpec(type: 'access_key' | 'sts', raw: RawCredentials, issues: string[]): AccessKeySpec | StsSpec | undefined {
  const missing = (['accessKeyId', 'accessKeySecret', ...(type === 'sts' ? (['securityToken'] as const) : [])] as const).filter((key) => !raw[key]);
  for (const key of missing) issues.push(`${PATH}.${key}: required for type ${type}`);
  if (missing.length > 0) return undefined;
  return type === 'sts'
    ? { type, origin: 'config', accessKeyId: raw.accessKeyId!, accessKeySecret: raw.accessKeySecret!, securityToken: raw.securityToken! }
    : { type, origin: 'config', accessKeyId: raw.accessKeyId!, accessKeySecret: raw.accessKeySecret! };
}

function fromEnvironment(env: Env): CredentialsSpec {
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (accessKeyId && accessKeySecret) {
    const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN;
    return securityToken
      ? { type: 'sts', origin: 'environment', accessKeyId, accessKeySecret, securityToken }
      : { type: 'access_key', origin: 'environment', accessKeyId, accessKeySecret };
  }
  if (env.ALIBABA_CLOUD_ROLE_ARN && env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN && env.ALIBABA_CLOUD_OIDC_TOKEN_FILE) {
    // The official chain tries RRSA only when all three are set; what else it needs has defaults.
    const issues: string[] = [];
    const spec = oidcRoleArnSpec({}, env, 'environment', issues);
    if (spec) return spec;
  }
  return { type: 'default', origin: 'environment', credentialsURI: env.ALIBABA_CLOUD_CREDENTIALS_URI || undefined };
}

function ramRoleArnSpec(raw: RawCredentials, env: Env, issues: string[]): RamRoleArnSpec | undefined {
  // The identity that assumes the role may come from the environment, as the official env provider reads it.
  const fromEnv = !raw.accessKeyId && !raw.accessKeySecret;
  const accessKeyId = raw.accessKeyId ?? (fromEnv ? env.ALIBABA_CLOUD_ACCESS_KEY_ID : undefined);
  const accessKeySecret = raw.accessKeySecret ?? (fromEnv ? env.ALIBABA_CLOUD_ACCESS_KEY_SECRET : undefined);
  const securityToken = raw.securityToken || (fromEnv ? env.ALIBABA_CLOUD_SECURITY_TOKEN : undefined) || undefined;
  if (!accessKeyId || !accessKeySecret) {
    issues.push(
      `${PATH}.accessKeyId: type ram_role_arn needs accessKeyId and accessKeySecret of the identity that assumes the role (or ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET)`,
    );
  }
  const call = stsCallSpec(raw, env, issues);
  if (raw.externalId !== undefined && !/^[A-Za-z0-9=,.@:/_-]{2,1224}$/.test(raw.externalId)) {
    issues.push(`${PATH}.externalId: 2 to 1224 letters, digits and = , . @ : / - _`);
  }
  if (!call || !accessKeyId || !accessKeySecret) return undefined;
  const spec: RamRoleArnSpec = { type: 'ram_role_arn', origin: 'config', accessKeyId, accessKeySecret, securityToken, ...call };
  if (raw.externalId !== undefined) spec.externalId = raw.externalId;
  return spec;
}

function oidcRoleArnSpec(raw: RawCredentials, env: Env, origin: CredentialOrigin, issues: string[]): OidcRoleArnSpec | undefined {
  const oidcProviderArn = raw.oidcProviderArn ?? env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN;
  const oidcTokenFilePath = raw.oidcTokenFilePath ?? env.ALIBABA_CLOUD_OIDC_TOKEN_FILE;
  if (!oidcProviderArn) issues.push(`${PATH}.oidcProviderArn: required (or ALIBABA_CLOUD_OIDC_PROVIDER_ARN)`);
  else if (!OIDC_PROVIDER_ARN.test(oidcProviderArn)) issues.push(`${PATH}.oidcProviderArn: expected acs:ram::<account id>:oidc-provider/<name>`);
  if (!oidcTokenFilePath) issues.push(`${PATH}.oidcTokenFilePath: required (or ALIBABA_CLOUD_OIDC_TOKEN_FILE)`);
  const call = stsCallSpec(raw, env, issues);
  if (!call || !oidcProviderArn || !OIDC_PROVIDER_ARN.test(oidcProviderArn) || !oidcTokenFilePath) return undefined;
  return { type: 'oidc_role_arn', origin, oidcProviderArn, oidcTokenFilePath, ...call };
}

function stsCallSpec(raw: RawCredentials, env: Env, issues: string[]): StsCallSpec | undefined {
  const before = issues.length;
  const roleArn = raw.roleArn ?? env.ALIBABA_CLOUD_ROLE_ARN;
  if (!roleArn) issues.push(`${PATH}.roleArn: required (or ALIBABA_CLOUD_ROLE_ARN)`);
  else if (!ROLE_ARN.test(roleArn)) issues.push(`${PATH}.roleArn: expected acs:ram::<account id>:role/<name>`);
  const roleSessionName = raw.roleSessionName ?? (env.ALIBABA_CLOUD_ROLE_SESSION_NAME || DEFAULT_SESSION_NAME);
  if (!ROLE_SESSION_NAME.test(roleSessionName)) issues.push(`${PATH}.roleSessionName: 2 to 64 letters, digits and . @ - _`);
  const durationSeconds = raw.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  if (durationSeconds < MIN_DURATION_SECONDS || durationSeconds > MAX_DURATION_SECONDS) {
    issues.push(`${PATH}.durationSeconds: STS issues tokens for ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS} seconds`);
  }
  const policy = policyText(raw.policy, issues);
  const stsEndpoint = stsEndpointUrl(raw, env, issues);
  if (issues.length > before || !roleArn || !stsEndpoint) return undefined;
  return {
    roleArn,
    roleSessionName,
    durationSeconds,
    policy,
    stsEndpoint,
    timeoutMs: raw.timeout ?? DEFAULT_TIMEOUT_MS,
    connectTimeoutMs: raw.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
}

/** A policy may be written as a YAML map; STS takes its JSON text. */
function policyText(policy: RawCredentials['policy'], issues: string[]): string | undefined {
  if (policy === undefined) return undefined;
  let text = typeof policy === 'string' ? policy : JSON.stringify(policy);
  if (typeof policy === 'string') {
    try {
      const parsed: unknown = JSON.parse(policy);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('not an object');
    } catch {
      issues.push(`${PATH}.policy: expected a JSON policy document (an object)`);
      return undefined;
    }
    text = policy;
  }
  if (text.length > MAX_POLICY_LENGTH) issues.push(`${PATH}.policy: STS takes at most ${MAX_POLICY_LENGTH} characters`);
  return text;
}

/**
 * The STS endpoint, as the official builders choose it: `stsEndpoint` (a host, HTTPS), else
 * `sts-vpc.<region>.aliyuncs.com` with `enableVpc` or `sts.<region>.aliyuncs.com` for `stsRegionId` (or
 * `ALIBABA_CLOUD_STS_REGION`, `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`), else `sts.aliyuncs.com`. A full
 * `http(s)://` URL is accepted too, for a local emulator; the runtime decides whether it can use it.
 */
function stsEndpointUrl(raw: RawCredentials, env: Env, issues: string[]): string | undefined {
  if (raw.stsEndpoint !== undefined) {
    const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw.stsEndpoint) ? raw.stsEndpoint : `https://${raw.stsEndpoint}`;
    if (!isHttpUrl(text) || new URL(text).pathname !== '/') {
      issues.push(`${PATH}.stsEndpoint: expected a host such as sts.cn-hangzhou.aliyuncs.com, or an http(s) URL without a path`);
      return undefined;
    }
    return new URL(text).origin;
  }
  const region = raw.stsRegionId ?? (env.ALIBABA_CLOUD_STS_REGION || undefined);
  const vpc = raw.enableVpc ?? isTrue(env.ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED);
  if (vpc && !region) {
    issues.push(`${PATH}.enableVpc: the VPC endpoint is regional; set stsRegionId (or ALIBABA_CLOUD_STS_REGION)`);
    return undefined;
  }
  if (!region) return 'https://sts.aliyuncs.com';
  return vpc ? `https://sts-vpc.${region}.aliyuncs.com` : `https://sts.${region}.aliyuncs.com`;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * One line for `flowgate check` and the start log: the type and where it came from, never a value (not even
 * an AccessKeyId or a role ARN).
 */
export function describeCredentials(spec: CredentialsSpec): string {
  switch (spec.type) {
    case 'default':
      return 'default chain: profile file, ECS instance role, credentials URI (tried in that order at start)';
    case 'oidc_role_arn':
      return spec.origin === 'environment'
        ? 'oidc_role_arn (RRSA, from ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE)'
        : 'oidc_role_arn (RRSA)';
    case 'access_key':
    case 'sts':
      return spec.origin === 'environment'
        ? `${spec.type} (from ALIBABA_CLOUD_ACCESS_KEY_ID${spec.type === 'sts' ? ', ALIBABA_CLOUD_SECURITY_TOKEN' : ''})`
        : spec.type;
    case 'ecs_ram_role':
      return spec.disableIMDSv1 ? 'ecs_ram_role (metadata service, hardened mode: token required)' : 'ecs_ram_role (metadata service)';
    default:
      return spec.type;
  }
}
