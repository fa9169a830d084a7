import { execFileSync } from 'node:child_process';

/**
 * Tests that spawn real processes (the CLI, several gateways sharing Redis) run the compiled
 * `dist/`, exactly as `npm start` does. Build it once before any test file runs.
 */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
