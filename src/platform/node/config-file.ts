import { readFileSync } from 'node:fs';
import { ConfigError, parseConfigText, type Config } from '../../config/load.js';
import { nodeCredentialIssues } from './credentials.js';

/**
 * Reads and validates a config file (YAML or JSON), `${VAR}` taken from `env` (default `process.env`), including
 * what Node's credential providers cannot do (an `http://` STS endpoint). Throws a ConfigError whose issues each
 * start with the key path (`(file)` when the file cannot be read).
 */
export function loadConfig(file: string, env: Record<string, string | undefined> = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`(file): cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  const config = parseConfigText(text, env);
  const issues = nodeCredentialIssues(config.upstream.credentials);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}
