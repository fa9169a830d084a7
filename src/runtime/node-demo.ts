/** Demo mode: the embedded emulator plus the gateway. Filled in with the emulator. */
export async function runDemo(_options: { port?: number | undefined; host?: string | undefined }): Promise<number> {
  process.stderr.write('flowgate: no flowgate.yaml found and no --config given\n');
  return 2;
}
