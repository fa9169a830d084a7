import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { builtDist } from './helpers/dist.js';

/**
 * The package as a user gets it: `npm pack`, installed from the tarball into an empty folder (from the local npm
 * cache where it can, the registry otherwise), where the vitest example of docs/emulator.md runs exactly as
 * printed there, and typechecks against the declarations the package ships for `flowgate` and `flowgate/emulator`.
 */
const ROOT = resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'flowgate-package-'));

/** The example file docs/emulator.md prints under its "tested" marker, and the name it gives it. */
function documentedExample(): { file: string; code: string } {
  const doc = readFileSync(join(ROOT, 'docs/emulator.md'), 'utf8');
  const match = /<!-- tested by test\/package\.test\.ts as (\S+) -->\s*```ts\n([\s\S]*?)\n```/.exec(doc);
  if (!match) throw new Error('docs/emulator.md has no example marked "tested by test/package.test.ts"');
  return { file: match[1]!, code: `${match[2]}\n` };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed package', () => {
  it('installs into an empty folder and runs the documented vitest example there', async () => {
    await builtDist();
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
    // A clean environment: nothing of this vitest run may leak into the one started below.
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, NO_COLOR: '1' };
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, env });
    const tarball = packed.stdout.trim().split('\n').at(-1)!;
    expect(tarball).toBe(`flowgate-${pkg.version}.tgz`);
    // What ships: the build, its declarations, examples, docs, README and LICENSE; nothing of development.
    const listed = await run('tar', ['-tzf', join(dir, tarball)], { env });
    const files = listed.stdout
      .trim()
      .split('\n')
      .map((line) => line.replace(/^package\//, ''));
    expect(files.filter((file) => /^(src|test|bench|\.ci|scripts)\/|\.map$|tsbuildinfo/.test(file))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'docs/emulator.md', 'examples/flowgate.yaml', 'examples/flows/hello.yaml']));
    const exported = (pkg as unknown as { exports: Record<string, { types: string; default: string }> }).exports;
    for (const entry of ['.', './emulator', './worker']) {
      expect(files).toContain(exported[entry]!.default.slice(2));
      expect(files).toContain(exported[entry]!.types.slice(2));
    }

    const example = documentedExample();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'flowgate-user', private: true, type: 'module' }));
    writeFileSync(join(dir, example.file), example.code);
    const tools = ['vitest', 'typescript'].map((name) => `${name}@${pkg.devDependencies[name]}`);
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`, ...tools], { cwd: dir, env });

    // The bin runs from the install, not from a clone: npx finds it in node_modules/.bin and never asks the registry.
    const version = await run('npx', ['--no-install', 'flowgate', '--version'], { cwd: dir, env });
    expect(version.stdout.trim()).toBe(pkg.version);
    writeFileSync(
      join(dir, 'flowgate.yaml'),
      'upstream: { endpoint: "http://127.0.0.1:9400", credentials: { accessKeyId: a, accessKeySecret: b } }\nflows: { hello: {} }\n',
    );
    const checked = await run('npx', ['--no-install', 'flowgate', 'check'], { cwd: dir, env });
    expect(checked.stdout).toMatch(/^flowgate\.yaml: valid$/m);
    expect(checked.stdout).toMatch(/POST +\/flows\/hello\/run/);

    const tsc = [
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--skipLibCheck',
      '--lib',
      'es2023,dom',
    ];
    await run(join(dir, 'node_modules/.bin/tsc'), [...tsc, example.file], { cwd: dir, env });
    const tested = await run(join(dir, 'node_modules/.bin/vitest'), ['run', '--reporter', 'verbose'], { cwd: dir, env });
    expect(tested.stdout).toMatch(/Tests\s+2 passed \(2\)/);
  }, 240_000);
});
