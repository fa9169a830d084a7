/** `flowgate emulator`: filled in with the emulator. */
export async function emulatorCommand(_args: string[]): Promise<number> {
  process.stderr.write('flowgate: the emulator is not available in this build\n');
  return 2;
}
