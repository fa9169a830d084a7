import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeOnly = ['node:*', 'undici', 'undici/*', 'ioredis', '@hono/node-server', '@hono/node-server/*'];
const nodeBuiltins = ['fs', 'path', 'http', 'https', 'net', 'crypto', 'os', 'url', 'child_process', 'stream', 'events', 'util', 'zlib', 'buffer', 'worker_threads', 'module', 'process'];

// Plain-JS scripts (bench, examples) run on Node.
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'URL', 'URLSearchParams', 'fetch', 'Buffer', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'performance', 'crypto', 'Response', 'Request', 'Headers'].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/**', '.test-build/**', 'node_modules/**', '.wrangler/**', 'bench/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The core is Web-standard: Node-only modules live under src/runtime/node* and the CLI.
    files: ['src/**/*.ts'],
    ignores: ['src/node.ts', 'src/cli/**', 'src/runtime/node*', 'src/runtime/node/**', 'src/**/*.node.ts', 'src/platform/node/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...nodeOnly, ...nodeBuiltins].map((group) => ({ group: [group], message: 'Core code is Web-standard; put Node-only code under src/runtime/node*.' })) }],
      'no-restricted-globals': ['error', { name: 'process', message: 'Core code is Web-standard; read the environment in the runtime entry.' }, { name: 'Buffer', message: 'Use Uint8Array and TextEncoder.' }],
    },
  },
  {
    files: ['bench/**/*.mjs', 'bench/**/*.js', 'examples/**/*.mjs', 'examples/**/*.js'],
    languageOptions: { globals: nodeGlobals },
  },
);
