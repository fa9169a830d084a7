/**
 * The package's main entry, `import { … } from 'flowgate'` on Node: the gateway as a library. Load a config,
 * build the Node runtime from it, and hand its dependencies to `createApp`, a Hono app whose `fetch` serves the
 * gateway (`@hono/node-server`'s `serve`, or `app.request()` in tests):
 *
 *   const runtime = createNodeRuntime(loadConfig('flowgate.yaml'));
 *   const app = createApp(runtime.deps);
 *   // … later: await runtime.close();
 *
 * The CloudFlow emulator has its own entry, `flowgate/emulator` (platform/node/emulator.ts).
 */
export { createApp } from '../../app.js';
export { createNodeRuntime, type NodeDepsOptions, type NodeRuntime } from './runtime.js';
export { loadConfig } from './config-file.js';
export { ConfigError, parseConfig, parseConfigText, type Config, type FlowConfig } from '../../config/load.js';
