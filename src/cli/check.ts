import { parseArgs } from 'node:util';
import { describeClientAddress } from '../lib/client-address.js';
import { loadConfigOrExit, warningLines } from './config-file.js';
import { describeCredentials } from '../config/credentials.js';
import { describeStore } from '../config/store.js';

/** `flowgate check`: validates a config and prints the routes it exposes. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const file = values.config ?? 'flowgate.yaml';
  const config = loadConfigOrExit(file);
  if (typeof config === 'number') return config;
  const clientAddress = describeClientAddress({
    trustProxy: config.server.trustProxy,
    forwardedHeader: config.server.forwardedHeader,
    ipv6Prefix: config.anonymous.ipv6Prefix,
  });
  process.stdout.write(
    `${file}: valid\n${warningLines(config.warnings)}upstream: ${config.upstream.endpoint} (signature ${config.upstream.signatureVersion}, store ${describeStore(config.store)})\ncredentials: ${describeCredentials(config.upstream.credentials)}\nclient address: ${clientAddress}\nroutes:\n`,
  );
  for (const flow of Object.values(config.flows)) {
    const access = Array.isArray(flow.access) ? flow.access.join(',') : flow.access;
    const extras = [
      flow.mode === 'ack' ? 'ack' : '',
      flow.cache ? `cache ${flow.cache.ttl}ms/${flow.cache.scope}` : '',
      flow.webhook ? `webhook ${flow.webhook.provider}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    process.stdout.write(
      `  POST /flows/${flow.name}/run -> ${flow.flowName}${flow.qualifier ? `@${flow.qualifier}` : ''} [access ${access}]${extras ? ` (${extras})` : ''}\n`,
    );
  }
  process.stdout.write('  GET  /flows\n  GET  /healthz\n  GET  /readyz\n  GET  /openapi.json\n');
  return 0;
}
