import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { builtDist } from './helpers/dist.js';

const run = promisify(execFile);

function modulesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modulesUnder(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

/**
 * V8 (Node 20) turns `String.prototype` into a dictionary-mode object as soon as any class extends `String`, and
 * from then on every optimized `charCodeAt`, `startsWith` and the like in the process runs several times slower:
 * the JSON check, the percent-encoder and Hono's router among them. ioredis 6 did it when loaded (its RESP3
 * `VerbatimString`), which cost a third of the miss path's CPU on large Inputs (docs/benchmarks.md). This loads
 * everything the gateway can load and asks V8 whether `String.prototype` still has fast properties.
 */
describe('the engine fast paths the hot path relies on', () => {
  it('no module the Node package ships, nor anything it imports, makes String.prototype slow', async () => {
    const dist = await builtDist();
    // dist/node.js is the bin: it runs the CLI when imported, and imports nothing the other modules do not. The
    // Worker's modules import `cloudflare:` modules, which only workerd has.
    const modules = modulesUnder(dist).filter((path) => {
      const rel = relative(dist, path);
      return rel !== 'node.js' && rel !== 'worker.js' && !rel.startsWith('platform/workers/') && !rel.endsWith('.workers.js');
    });
    const specifiers = modules.map((path) => `file://${path}`);
    expect(modules.length).toBeGreaterThan(50);
    const script = [
      `const specifiers = ${JSON.stringify(specifiers)};`,
      'const before = new Function("s", "return %HasFastProperties(s)")(String.prototype);',
      'const slow = [];',
      'for (const specifier of specifiers) {',
      '  await import(specifier);',
      '  if (!new Function("s", "return %HasFastProperties(s)")(String.prototype)) { slow.push(specifier); break; }',
      '}',
      'process.stdout.write(JSON.stringify({ before, slow }));',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { cwd: dist });
    expect(JSON.parse(stdout)).toEqual({ before: true, slow: [] });
  });

  it('the check itself sees a class that extends String', async () => {
    const script = 'class Tagged extends String {} ; process.stdout.write(String(new Function("s", "return %HasFastProperties(s)")(String.prototype)));';
    const { stdout } = await run(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script]);
    expect(stdout).toBe('false');
  });
});
