import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigError } from '../../src/config/load.js';

const base = { upstream: { endpoint: 'http://127.0.0.1:9400', credentials: { accessKeyId: 'id', accessKeySecret: 'secret' } } };

describe('cache configuration', () => {
  it('has safe defaults: 64 MiB memory budget, 1 MiB entries, 10 s lock wait, caller scope', () => {
    const config = parseConfig({ ...base, flows: { quote: { cache: { ttl: '60s' } } } }, {});
    expect(config.cache).toEqual({ maxSize: 64 * 1024 * 1024, maxEntrySize: 1024 * 1024, lockWait: 10_000 });
    expect(config.flows.quote!.cache).toEqual({ ttl: 60_000, scope: 'caller' });
  });

  it('names the key path of a bad cache setting', () => {
    const bad = (flows: unknown, extra: Record<string, unknown> = {}) => {
      try {
        parseConfig({ ...base, ...extra, flows }, {});
      } catch (error) {
        return (error as ConfigError).issues.join('\n');
      }
      return 'no error';
    };
    expect(bad({ quote: { cache: { ttl: 0 } } })).toMatch(/^flows\.quote\.cache\.ttl: /);
    expect(bad({ quote: { cache: { ttl: '60s', scope: 'everyone' } } })).toMatch(/^flows\.quote\.cache\.scope: /);
    expect(bad({ quote: { cache: {} } })).toMatch(/^flows\.quote\.cache\.ttl: /);
    expect(bad({ quote: {} }, { cache: { lockWait: 'soon' } })).toMatch(/^cache\.lockWait: /);
    expect(bad({ quote: {} }, { cache: { maxSize: '1 lot' } })).toMatch(/^cache\.maxSize: /);
  });
});
