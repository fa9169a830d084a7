#!/usr/bin/env node
/**
 * `npm start`: builds dist/ only when a source is newer, then runs the CLI in this same process. The start script
 * is `exec node …`, so this process is the one npm forwards SIGTERM and SIGINT to (a shell in between would die
 * of the signal and leave its child running): the gateway, and the demo's emulator that runs in it, get the
 * signal and drain, and nothing is left behind. A signal during a build stops the build too.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { distIsStale } from './build.mjs';

if (distIsStale()) {
  process.stderr.write('flowgate: building dist/ (a source is newer)\n');
  const child = spawn(process.execPath, [fileURLToPath(new URL('build.mjs', import.meta.url))], { stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  process.on('SIGTERM', forward).on('SIGINT', forward);
  const [code, signal] = await new Promise((done) => child.once('exit', (...outcome) => done(outcome)));
  process.off('SIGTERM', forward).off('SIGINT', forward);
  if (signal) process.exit(128 + ({ SIGINT: 2, SIGTERM: 15 }[signal] ?? 1));
  if (code !== 0) process.exit(code ?? 1);
}
await import('../dist/node.js');
