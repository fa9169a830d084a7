import { readFileSync } from 'node:fs';
import { ConfigError, parseConfigText, type Config } from '../../config/load.js';

/**
 * Reads and validates a config file (YAML or JSON), `${VAR}` taken from `env` (default `process.env`). Throws a
 * ConfigError whose issues each start with the key path (`(file)` when the file cannot be read).
 */
export function loadConfig(file: string, env: Record<string, string | undefined> = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`(file): cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseConfigText(text, env);
}
