import { main } from '../../src/cli/main.js';

/**
 * `flowgate <args>` in this process: its exit code and what it wrote on stdout and stderr. For commands that
 * answer and return (check, usage, --help, --version, reload), where a process per case costs seconds on a
 * loaded machine; what only a process shows (exit status as a shell sees it, signals) stays on spawnCli.
 */
export async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const write = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((chunk: string) => ((out.stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((out.stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), ...out };
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
}
