import { readFileSync } from 'node:fs';
import { ConfigError, parseConfigText, type Config } from '../config/load.js';
import { nodeCredentialIssues } from '../platform/node/credentials.js';

function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`(file): cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  const config = parseConfigText(text, process.env);
  const issues = nodeCredentialIssues(config.upstream.credentials);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

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
