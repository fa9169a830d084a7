import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { builtDist } from './dist.js';

/**
 * A folder with an entry script for child processes. It runs the compiled `dist/` (built first if a
 * source changed), exactly what `npm start` runs.
 */
export async function buildGateway(): Promise<{ dir: string; remove(): void }> {
  const dist = await builtDist();
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-proc-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(dir, 'serve-for-test.js'), ENTRY.replaceAll("'./", `'${pathToFileURL(dist).href}/`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A gateway in its own process: config from the environment, the port on stdout, log lines on stderr. */
const ENTRY = `
import { parseConfig } from './config/load.js';
import { createNodeRuntime } from './platform/node/runtime.js';
import { createApp } from './app.js';
import { startServer } from './platform/node/server.js';
const config = parseConfig(JSON.parse(process.env.FLOWGATE_TEST_CONFIG), {});
const runtime = createNodeRuntime(config, { log: (line) => process.stderr.write(JSON.stringify(line) + '\\n') });
const server = await startServer(createApp(runtime.deps), config, { port: 0, host: '127.0.0.1' });
process.stdout.write(JSON.stringify({ port: server.port }) + '\\n');
process.on('SIGTERM', async () => {
  await server.shutdown(() => runtime.drain());
  await runtime.close();
  process.exit(0);
});
`;

export interface GatewayProcess {
  url: string;
  pid: number;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startGatewayProcess(buildDir: string, config: Record<string, unknown>): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(process.execPath, [join(buildDir, 'serve-for-test.js')], {
    env: { ...process.env, FLOWGATE_TEST_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ raw: line });
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}: ${JSON.stringify(logs.slice(-3))}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    logs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
