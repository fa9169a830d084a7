/** The example flows in examples/flows load as Express flows named after their file, and behave as documented. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { createEngine, loadFlowDefinition, virtualTime, type FlowDefinition, type TaskHandlers } from '../../src/emulator/engine/index.js';

const FLOWS_DIR = join(import.meta.dirname, '../../examples/flows');
const HANDLERS = join(import.meta.dirname, '../../examples/handlers/index.mjs');

const files = readdirSync(FLOWS_DIR).filter((f) => f.endsWith('.yaml'));
const load = (name: string): FlowDefinition => loadFlowDefinition(readFileSync(join(FLOWS_DIR, `${name}.yaml`), 'utf8'), { name });

let handlers: TaskHandlers;
beforeAll(async () => {
  handlers = (await import(pathToFileURL(HANDLERS).href)) as TaskHandlers;
});

async function run(name: string, input: Record<string, unknown>, timeScale = 1) {
  const time = virtualTime();
  const engine = createEngine({ handlers, clock: time.clock, sleep: time.sleep, timeScale });
  const result = await engine.execute(load(name), input, { executionName: 'example' });
  return { ...result, elapsed: result.stoppedAt - result.startedAt };
}

describe('example flows', () => {
  test('the folder holds the expected examples', () => {
    expect(files.sort()).toEqual(['fanout.yaml', 'hello.yaml', 'map_items.yaml', 'quote.yaml', 'router.yaml', 'slow.yaml', 'validate_order.yaml']);
  });

  test.each(files)('%s is an Express flow named after its file, runnable with the example handlers', (file) => {
    const flow = load(file.replace(/\.yaml$/, ''));
    expect(flow.mode).toBe('Express');
    expect(flow.name).toBe(file.replace(/\.yaml$/, ''));
    expect(createEngine({ handlers }).unsupportedActions(flow)).toEqual([]);
  });

  const cases: Array<[string, Record<string, unknown>, unknown]> = [
    ['hello', { name: 'Ada' }, { message: 'Hello, Ada!' }],
    ['hello', {}, { message: 'Hello, world!' }],
    ['router', { kind: 'order', id: 7 }, { route: 'order', id: 7 }],
    ['router', { kind: 'refund', id: 8, amount: 10 }, { route: 'refund', id: 8 }],
    ['router', { kind: 'refund', id: 9, amount: 5000 }, { route: 'refund-review', id: 9 }],
    ['router', { kind: 'gift' }, { route: 'unknown', kind: 'gift' }],
    ['fanout', { items: [3, 1, 3, 2] }, { count: 4, unique: [3, 1, 2], first: 3 }],
    [
      'map_items',
      {
        items: [
          { sku: 'apple', qty: 3 },
          { sku: 'pear', qty: 1 },
        ],
      },
      { count: 2, labels: [{ label: '3 x apple' }, { label: '1 x pear' }] },
    ],
    ['validate_order', { orderId: 'o-1', items: ['a', 'b'] }, { status: 'accepted', orderId: 'o-1', itemCount: 2 }],
    ['quote', { sku: 'apple', qty: 3 }, { quote: { sku: 'apple', qty: 3, unitPrice: 0.5, total: 1.5 } }],
  ];
  test.each(cases)('%s with %j succeeds', async (name, input, output) => {
    expect(await run(name, input)).toMatchObject({ status: 'Succeeded', output });
  });

  test.each([{ items: [] }, { orderId: 'o-1' }, { items: ['a'] }, { orderId: 'o-1', items: [] }])(
    'validate_order rejects %j with InvalidOrder',
    async (input) => {
      expect(await run('validate_order', input)).toMatchObject({
        status: 'Failed',
        errorCode: 'InvalidOrder',
        errorMessage: 'An order needs an orderId and at least one item.',
      });
    },
  );

  test('quote: an unknown sku is caught and reported as OrderNotFound; a bad qty surfaces the handler code', async () => {
    expect(await run('quote', { sku: 'durian', qty: 1 })).toMatchObject({ status: 'Failed', errorCode: 'OrderNotFound' });
    expect(await run('quote', { sku: 'apple', qty: 0 })).toMatchObject({ status: 'Failed', errorCode: 'InvalidOrder' });
  });

  test('slow: the 10 s Wait outlives the 5 s flow Timeout', async () => {
    expect(await run('slow', {})).toMatchObject({ status: 'TimedOut', errorCode: 'FnF.Timeout', elapsed: 5000 });
    expect(await run('slow', {}, 0.01)).toMatchObject({ status: 'TimedOut', elapsed: 50 });
  });
});
