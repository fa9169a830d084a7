import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A usage mistake the user can fix from the message: the command prints it with its usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What `parseCommandArgs` returns: the parsed flags, or the exit code when the command is already answered. */
export type Parsed<T extends Options> = { values: ReturnType<typeof parseArgs<{ options: T; strict: true; args: string[] }>>['values'] } | { exit: number };

/**
 * Parses one command's flags with `node:util` parseArgs, the conventions every command shares:
 * `--help`/`-h` prints `usage` on stdout and exits 0; an unknown flag, a missing value or a stray argument
 * prints the problem and `usage` on stderr and exits 2.
 */
export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T, usage: string): Parsed<T> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    return { exit: 0 };
  }
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    return { values: values as never };
  } catch (error) {
    return { exit: usageError(command, error instanceof Error ? error.message : String(error), usage) };
  }
}

/** Prints `flowgate <command>: message`, a blank line and the command's usage on stderr; returns 2. */
export function usageError(command: string, message: string, usage: string): number {
  process.stderr.write(`flowgate ${command}: ${message}\n\n${usage}`);
  return 2;
}

/** `--port`'s value as a port number, or a UsageError naming the flag. */
export function portFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--${name} must be a port number, got "${value}"`);
  return port;
}
