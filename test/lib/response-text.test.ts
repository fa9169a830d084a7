import { describe, expect, it } from 'vitest';
import { responseText, textResponse } from '../../src/lib/response-text.js';

describe('responseText', () => {
  it("gives a textResponse's own string and leaves the body unread for the client", async () => {
    const response = textResponse('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } });
    expect(await responseText(response)).toBe('{"ok":true}');
    expect(response.bodyUsed).toBe(false);
    expect(await response.text()).toBe('{"ok":true}');
  });

  it('reads any other response through a clone, which leaves the original readable', async () => {
    const response = new Response('plain');
    expect(await responseText(response)).toBe('plain');
    expect(await response.text()).toBe('plain');
  });

  it('does not give a rebuilt response the text of the one it was built from', async () => {
    const original = textResponse('first', { status: 200 });
    const rebuilt = new Response('second', original);
    expect(await responseText(rebuilt)).toBe('second');
  });
});
