// Continuous traffic across several lifetimes of short-lived keys, in real time and real processes: the emulator
// issues keys that live `--ttl` seconds (`--sts-token-ttl`), its STS served over HTTPS with the test certificate;
// `flowgate serve` assumes a role there (`ram_role_arn`, the official Node library) and refreshes before expiry;
// `--concurrency` clients call a flow without pause for `--lifetimes` × ttl. Prints the calls, the failed ones
// (anything but 200), and each refresh the gateway logged. The suite covers the same on a virtual clock.
//
// Usage: npm run build && node bench/credentials-refresh.mjs [--ttl 4] [--lifetimes 3.5] [--concurrency 8]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'node.js');
const { values } = parseArgs({
  options: { ttl: { type: 'string', default: '4' }, lifetimes: { type: 'string', default: '3.5' }, concurrency: { type: 'string', default: '8' } },
});
const ttl = Number(values.ttl);
const durationMs = Number(values.lifetimes) * ttl * 1000;
const concurrency = Number(values.concurrency);

function start(args, env, ready) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
  let out = '';
  const lines = [];
  const onData = (chunk) => {
    out += chunk;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(out.slice(0, i));
      out = out.slice(i + 1);
    }
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const started = new Promise((resolvePromise, reject) => {
    const timer = setInterval(() => {
      const match = lines.map((l) => ready.exec(l)).find(Boolean);
      if (match) {
        clearInterval(timer);
        resolvePromise(match);
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${args[0]} exited with ${code}:\n${lines.join('\n')}`));
    });
  });
  return { child, lines, started };
}

const dir = mkdtempSync(join(tmpdir(), 'flowgate-credentials-bench-'));
const emulator = start(
  [
    'emulator',
    '--port',
    '0',
    '--flows',
    'examples/flows',
    '--access-key',
    'bench-user:bench-secret',
    '--sts',
    '0',
    '--sts-tls-cert',
    'test/fixtures/tls/localhost.pem',
    '--sts-tls-key',
    'test/fixtures/tls/localhost-key.pem',
    '--sts-token-ttl',
    `${ttl}s`,
  ],
  {},
  /STS \(AssumeRole, AssumeRoleWithOIDC\) at (http:\/\/127\.0\.0\.1:\d+) and https:\/\/(127\.0\.0\.1:\d+)/,
);
let gateway;
try {
  const [, fnf, sts] = await emulator.started;
  const config = join(dir, 'flowgate.yaml');
  writeFileSync(
    config,
    `upstream:\n  endpoint: ${fnf}\n  credentials: { type: ram_role_arn, accessKeyId: bench-user, accessKeySecret: bench-secret, roleArn: "acs:ram::1234567890123456:role/bench", stsEndpoint: "${sts}" }\nserver: { accessLog: false }\nflows:\n  hello: { access: public }\n`,
  );
  gateway = start(
    ['serve', '--config', config, '--port', '0', '--host', '127.0.0.1'],
    { NODE_EXTRA_CA_CERTS: join(ROOT, 'test/fixtures/tls/ca.pem') },
    /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  const [, url] = await gateway.started;

  const statuses = new Map();
  let calls = 0;
  const began = Date.now();
  const client = async () => {
    while (Date.now() - began < durationMs) {
      let status;
      try {
        const res = await fetch(`${url}/flows/hello/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"bench"}' });
        await res.arrayBuffer();
        status = res.status;
      } catch (error) {
        status = `error: ${error.message}`;
      }
      calls++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (Date.now() - began) / 1000;
  const refreshes = gateway.lines
    .filter((l) => l.includes('"msg":"credentials refreshed"'))
    .map((l) => JSON.parse(l))
    .map((l) => `  expires ${l.expiresAt} (lifetime ${l.lifetimeS} s, next refresh ${l.refreshAt})`);
  const failed = calls - (statuses.get(200) ?? 0);
  process.stdout.write(
    `${calls} calls in ${seconds.toFixed(1)} s (${(calls / seconds).toFixed(0)}/s, ${concurrency} clients), keys living ${ttl} s: ` +
      `${failed} failed ${JSON.stringify(Object.fromEntries(statuses))}\n${refreshes.length} refreshes logged:\n${refreshes.join('\n')}\n`,
  );
  process.exitCode = failed === 0 && refreshes.length >= Math.floor(durationMs / 1000 / ttl) + 1 ? 0 : 1;
} finally {
  gateway?.child.kill('SIGTERM');
  emulator.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
