// The load generator, run as its own process so it never shares an event loop (or a GC) with the
// system under test or the harness. It runs autocannon once for warm-up and once measured, records
// every 2xx latency at microsecond resolution (autocannon's own histogram keeps whole milliseconds),
// and prints one JSON line: {rps, p50, p99, mean, total, non2xx, errors, timeouts, duration}.
// Usage: node bench/load.mjs '<json options>'
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}');
const { url, connections = 50, duration = 10, warmup = 3, body = '', headers = {}, method = 'POST', uniqueHeader } = options;

// `uniqueHeader`: a header given a fresh value on every request (a webhook delivery id), so that no request is
// a replay of an earlier one. The body, and so its signature, stays the same.
let sent = 0;
const requests = uniqueHeader
  ? [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, [uniqueHeader]: `bench-${process.pid}-${++sent}` } }) }]
  : undefined;

function once(seconds, record) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, method, body, headers, requests, connections, duration: seconds, pipelining: 1, timeout: 10 }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
    if (record) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) record(responseTime);
      });
    }
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

if (warmup > 0) await once(warmup);

let latencies = new Float64Array(1 << 16);
let count = 0;
process.stdout.write(JSON.stringify({ event: 'measure-start', at: Date.now() }) + '\n');
const result = await once(duration, (ms) => {
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = ms;
});
const sorted = latencies.subarray(0, count).sort();
let sum = 0;
for (let i = 0; i < count; i++) sum += sorted[i];
process.stdout.write(
  JSON.stringify({
    event: 'result',
    rps: result['2xx'] / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: count ? sum / count : null,
    total: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duration: result.duration,
  }) + '\n',
);
