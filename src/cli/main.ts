import { checkCommand } from './check.js';
import { serveCommand } from './serve.js';

const USAGE = `flowgate: a REST gateway for Alibaba Cloud CloudFlow Express workflows

Usage:
  flowgate serve    [--config FILE] [--port N] [--host H] [--workers N|auto]
                                                            run the gateway (demo mode, on 127.0.0.1, without a config)
  flowgate check    [--config FILE]                         validate a config and print its routes
  flowgate emulator [--port N] [--host H] [--flows DIR] [--handlers FILE] [--access-key ID:SECRET]
                    [--sts-token ID:TOKEN] [--latency MS] [--throttle N] [--failure-rate P] [--time-scale F]
                                                            run the CloudFlow emulator alone
`;

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'check':
      return checkCommand(rest);
    case 'emulator':
      return (await import('./emulator.js')).emulatorCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`flowgate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
