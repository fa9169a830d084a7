import type { Config, FlowConfig } from './config/load.js';
import type { RouteConfig } from './config/routes.js';
import type { AccessLogEntry } from './log.js';
import type { DecodedInput } from './middleware/input.js';
import type { RequestStamp } from './middleware/request-stamp.js';
import type { WebhookDelivery } from './webhooks/types.js';

export interface RouteMatched {
  config: RouteConfig;
  params: Record<string, string>;
}

/** Who is calling. Every identity source (API key, JWT, webhook sender, client IP) produces one of these. */
export interface Caller {
  /** Stable id used for rate-limit keys and cache scopes: `mobile-app`, `jwt:<sub>`, `ip:203.0.113.7` (`ip:2001:db8:1:2::/64` for IPv6), `webhook:github`. */
  id: string;
  kind: 'key' | 'jwt' | 'anonymous' | 'webhook';
  /** The configured caller name, when the identity maps to one. */
  name?: string | undefined;
  admin: boolean;
}

/** The one context type. Variables are set by the middleware named beside them. */
export interface AppEnv {
  Variables: {
    requestId: string; // requestContext
    log: AccessLogEntry; // requestContext
    stamp: RequestStamp; // requestContext
    flow: FlowConfig; // resolveFlow, matchRoute
    /** The route the request came in by, with its decoded path parameters; unset on /flows/{name}/run. */
    route: RouteMatched | undefined; // matchRoute
    /** Names of the headers a `response: proxy` answer set, kept with an Idempotency-Key record; set once an execution answered. */
    proxyHeaders: string[] | undefined; // successResponse
    caller: Caller; // identify
    rawBody: Uint8Array<ArrayBuffer>; // readBody
    /** Set on webhook flows once the signature verified. */
    webhook: WebhookDelivery | undefined; // verifyWebhook
    /** A webhook flow's body as the Input (form fields, a `payload` field, text, or JSON), decoded once the signature verified. */
    decodedInput: DecodedInput | undefined; // verifyWebhook
    /** The execution Input as sent upstream: the JSON body's own text, "{}", or the serialized decoded webhook body. */
    /** The Input; its `value` is parsed on first read, and only `inputSchema` reads it. */
    input: DecodedInput; // parseInput
    executionName: string; // parseInput; an ack flow may replace a derived name already in use
    /** Tells an in-flight Idempotency-Key or delivery record the execution's final name. */
    executionRenamed: ((executionName: string) => Promise<void>) | undefined; // idempotency
    qualifier: string | undefined; // parseInput
  };
}

export type { Config, FlowConfig };
