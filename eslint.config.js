import { dirname, relative, resolve, sep } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Where each runtime's code may live, by glob; tsconfig.core.json and tsconfig.workers.json use the same globs.
const NODE_FILES = ['src/node.ts', 'src/cli/**', 'src/**/*.node.ts', 'src/platform/node/**'];
const WORKERS_FILES = ['src/worker.ts', 'src/**/*.workers.ts', 'src/platform/workers/**'];

const nodeOnly = [
  'node:*',
  'undici',
  'undici/*',
  'ioredis',
  'prom-client',
  '@hono/node-server',
  '@hono/node-server/*',
  '@alicloud/credentials',
  '@alicloud/credentials/*',
];
const nodeBuiltins = [
  'fs',
  'path',
  'http',
  'https',
  'net',
  'crypto',
  'os',
  'url',
  'child_process',
  'stream',
  'events',
  'util',
  'zlib',
  'buffer',
  'worker_threads',
  'module',
  'process',
];
const workersOnly = ['cloudflare:*'];

const NOT_NODE = 'Node-only modules belong in src/node.ts, src/cli/, src/platform/node/ or a *.node.ts file.';
const NOT_WORKERS = 'Workers-only modules belong in src/worker.ts, src/platform/workers/ or a *.workers.ts file.';
const restrict = (groups, message) => groups.map((group) => ({ group: [group], message }));

/**
 * Which folders of src/ may import which, checked on the path each relative import resolves to
 * (`./x.js` names `x.ts`). A rule is `{ files, mayImport }` (files under `files` import nothing else from
 * src/) or `{ module, importers, entry }` (only `importers` import `module`, and only through `entry`).
 * A path ending in `/` is a folder and everything under it; any other path is one file.
 */
const BOUNDARIES = [
  {
    files: 'src/emulator/',
    mayImport: ['src/emulator/', 'src/lib/', 'src/cloudflow/signing/', 'src/cloudflow/types.ts'],
    message: 'The emulator imports only lib/, cloudflow/signing/ and cloudflow/types.ts, so it can ship on its own.',
  },
  {
    module: 'src/emulator/',
    importers: ['src/cli/', 'src/platform/node/emulator.ts'],
    entry: 'src/emulator/index.ts',
    message: "Only cli/ and the emulator's package entry (platform/node/emulator.ts) import the emulator, through src/emulator/index.ts.",
  },
];

const within = (path, place) => (place.endsWith('/') ? path.startsWith(place) : path === place);
const toPosix = (path) => path.split(sep).join('/');

const boundaries = {
  meta: { type: 'problem', schema: [{ type: 'array' }], messages: { crossed: '{{message}} ({{target}})' } },
  create(context) {
    const file = toPosix(relative(context.cwd, context.filename));
    const rules = context.options[0] ?? [];
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = toPosix(relative(context.cwd, resolve(dirname(context.filename), spec))).replace(/\.js$/, '.ts');
      if (!target.startsWith('src/')) return;
      for (const rule of rules) {
        const crossed = rule.files
          ? within(file, rule.files) && !rule.mayImport.some((place) => within(target, place))
          : within(target, rule.module) && !within(file, rule.module) && (!rule.importers.some((place) => within(file, place)) || target !== rule.entry);
        if (crossed) context.report({ node: node.source, messageId: 'crossed', data: { message: rule.message, target } });
      }
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

// Plain-JS scripts (bench, examples) run on Node.
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'URL',
    'URLSearchParams',
    'fetch',
    'Buffer',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'performance',
    'crypto',
    'Response',
    'Request',
    'Headers',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/**', 'dist-worker/**', '.test-build/**', 'node_modules/**', '.wrangler/**', 'bench/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { flowgate: { rules: { boundaries } } },
    rules: { 'flowgate/boundaries': ['error', BOUNDARIES] },
  },
  {
    // The core is Web-standard: neither runtime's modules, and no Node globals.
    files: ['src/**/*.ts'],
    ignores: [...NODE_FILES, ...WORKERS_FILES],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...restrict([...nodeOnly, ...nodeBuiltins], NOT_NODE), ...restrict(workersOnly, NOT_WORKERS)] }],
    },
  },
  {
    files: NODE_FILES,
    rules: { 'no-restricted-imports': ['error', { patterns: restrict(workersOnly, NOT_WORKERS) }] },
  },
  {
    files: WORKERS_FILES,
    rules: { 'no-restricted-imports': ['error', { patterns: restrict([...nodeOnly, ...nodeBuiltins], NOT_NODE) }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: NODE_FILES,
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Core code is Web-standard; read the environment in the runtime entry.' },
        { name: 'Buffer', message: 'Use Uint8Array and TextEncoder.' },
      ],
    },
  },
  {
    files: ['bench/**/*.mjs', 'bench/**/*.js', 'examples/**/*.mjs', 'examples/**/*.js', 'test/**/*.mjs', 'scripts/**/*.mjs'],
    languageOptions: { globals: nodeGlobals },
  },
);
