// Loaded into the gateway process by the soak (`node --import ./test/reliability/loop-probe.mjs dist/node.js serve …`),
// never by the product: on SIGUSR2 it writes one line to stderr with the event-loop delay since the last line
// (perf_hooks' histogram, in ms) and the heap, then starts a fresh histogram. The soak asks once a minute.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

process.on('SIGUSR2', () => {
  const ms = (ns) => Math.round((ns / 1e6) * 100) / 100;
  const line = {
    eldP50Ms: ms(histogram.percentile(50)),
    eldP99Ms: ms(histogram.percentile(99)),
    eldMaxMs: ms(histogram.max),
    heapUsedMiB: Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10,
  };
  histogram.reset();
  process.stderr.write(`soak-probe ${JSON.stringify(line)}\n`);
});
