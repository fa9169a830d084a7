import { parseCommandArgs, usageError } from './args.js';

export const RELOAD_USAGE = `Usage: flowgate reload --pid N

Makes the flowgate serve process N read its config file again (it is sent SIGHUP). A valid config takes effect for
new requests; requests in flight finish under the old one; counters, cache and rate-limit state are kept. An invalid
config is logged with its key paths by that process, and the old one keeps serving.

Options:
  --pid N      the process id of a running \`flowgate serve\` (under \`npm start\`, the node process npm runs,
               not npm's own, which does not pass SIGHUP on; with --workers, the primary's, which passes
               it to every worker)
  -h, --help   print this help
`;

/** `flowgate reload --pid N`: SIGHUP to a running gateway. Exit 2 for bad usage, 1 when there is no such process. */
export async function reloadCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('reload', args, { pid: { type: 'string' } }, RELOAD_USAGE);
  if ('exit' in parsed) return parsed.exit;
  const text = parsed.values.pid;
  const pid = Number(text);
  if (text === undefined) return usageError('reload', '--pid is required', RELOAD_USAGE);
  if (!Number.isInteger(pid) || pid <= 0) return usageError('reload', `--pid must be a process id, got "${text}"`, RELOAD_USAGE);
  try {
    process.kill(pid, 'SIGHUP');
  } catch (error) {
    process.stderr.write(`flowgate reload: cannot signal process ${pid}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`flowgate reload: sent SIGHUP to ${pid}; its log says whether the config was taken\n`);
  return 0;
}
