#!/usr/bin/env node
/** The Node entry: the `flowgate` command (package.json `bin`). The commands are in src/cli/. */
import { main } from './cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`flowgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
