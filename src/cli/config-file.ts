import { ConfigError, type Config } from '../config/load.js';
import { loadConfig } from '../platform/node/config-file.js';

/** The config, or exit code 2 after saying which key paths are wrong. */
export function loadConfigOrExit(file: string): Config | number {
  try {
    return loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`flowgate: ${file}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** The lines `flowgate check` and `flowgate serve` print for a loaded config's warnings. */
export function warningLines(warnings: readonly string[]): string {
  return warnings.map((warning) => `warning: ${warning}\n`).join('');
}
