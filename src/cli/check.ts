import { describeClientAddress } from '../lib/client-address.js';
import { loadConfigOrExit, warningLines } from './config-file.js';
import { describeCredentials } from '../config/credentials.js';
import { describeStore } from '../config/store.js';
import { parseCommandArgs } from './args.js';
import { describeConfig } from './describe-config.js';

export const CHECK_USAGE = `Usage: flowgate check [--config FILE]

Validates a config and prints every route it will serve (method, path, flow, access, limits, cache, webhook), and
every size and duration as resolved (bytes, milliseconds). A bad config exits 2 and names each key path.

Options:
  -c, --config FILE   the config (YAML or JSON); default ./flowgate.yaml
  -h, --help          print this help
`;

/** `flowgate check`: validates a config and prints the routes it exposes and the values it resolved. */
export async function checkCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('check', args, { config: { type: 'string', short: 'c' } }, CHECK_USAGE);
  if ('exit' in parsed) return parsed.exit;
  const file = parsed.values.config ?? 'flowgate.yaml';
  const config = loadConfigOrExit(file);
  if (typeof config === 'number') return config;
  const clientAddress = describeClientAddress({
    trustProxy: config.server.trustProxy,
    forwardedHeader: config.server.forwardedHeader,
    ipv6Prefix: config.anonymous.ipv6Prefix,
  });
  process.stdout.write(
    `${file}: valid\n${warningLines(config.warnings)}upstream: ${config.upstream.endpoint} (signature ${config.upstream.signatureVersion}, store ${describeStore(config.store)})\ncredentials: ${describeCredentials(config.upstream.credentials)}\nclient address: ${clientAddress}\n`,
  );
  process.stdout.write(describeConfig(config).join('\n') + '\n');
  return 0;
}
