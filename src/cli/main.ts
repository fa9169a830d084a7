import { checkCommand } from './check.js';
import { packageVersion } from './package-info.js';
import { reloadCommand } from './reload.js';
import { serveCommand } from './serve.js';

export const USAGE = `flowgate: a REST gateway for Alibaba Cloud CloudFlow Express workflows

Usage:
  flowgate serve    [--config FILE] [--port N] [--host H] [--workers N|auto]
                                                            run the gateway (the demo, on 127.0.0.1, without a config)
  flowgate check    [--config FILE]                         validate a config and print its routes and resolved values
  flowgate reload   --pid N                                 make a running gateway read its config again (SIGHUP)
  flowgate emulator [--port N] [--host H] [--flows DIR] [--handlers FILE] [--access-key ID:SECRET]
                    [--sts-token ID:TOKEN] [--latency MS] [--throttle N] [--failure-rate P] [--time-scale F]
                                                            run the CloudFlow emulator alone (the example flows by default)
  flowgate --version                                        print the version

Every command takes --help. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration.
`;

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'check':
      return checkCommand(rest);
    case 'reload':
      return reloadCommand(rest);
    case 'emulator':
      return (await import('./emulator.js')).emulatorCommand(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case undefined:
      process.stderr.write(`flowgate: which command?\n\n${USAGE}`);
      return 2;
    default:
      process.stderr.write(`flowgate: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
