import { describe, expect, it } from 'vitest';
import { emulatorOptionsFromArgs, parseAccessKey } from '../../src/cli/emulator.js';

/** `flowgate emulator` flags for keys limited to flows and for the error vocabulary. */
describe('flowgate emulator flags', () => {
  it('--access-key ID:SECRET:flow1,flow2 limits the key to those flows; --error-codes chooses the vocabulary', async () => {
    const options = await emulatorOptionsFromArgs(['--access-key', 'ops:opsecret', '--access-key', 'app:appsecret:hello,quote', '--error-codes', 'pop']);
    expect(options.accessKeys).toEqual([
      { accessKeyId: 'ops', accessKeySecret: 'opsecret' },
      { accessKeyId: 'app', accessKeySecret: 'appsecret', flows: ['hello', 'quote'] },
    ]);
    expect(options.errorCodes).toBe('pop');
    expect((await emulatorOptionsFromArgs([])).errorCodes).toBeUndefined();
  });

  it('refuses a bad key, a flow list that names no flow, and an unknown vocabulary, without echoing a secret', async () => {
    for (const text of ['nosecret', ':secret', 'id:', 'id:sec:ret:x', 'id:secret:']) {
      expect(() => parseAccessKey(text)).toThrow(/--access-key must be ID:SECRET or ID:SECRET:FLOW,FLOW/);
    }
    expect(() => parseAccessKey('id:topsecret:hello,bad name')).toThrow(/"bad name" is not a flow name/);
    expect(() => parseAccessKey('id:topsecret:x:y')).not.toThrow(/topsecret/);
    await expect(emulatorOptionsFromArgs(['--error-codes', 'aws'])).rejects.toThrow(/--error-codes must be api or pop, got "aws"/);
  });
});
