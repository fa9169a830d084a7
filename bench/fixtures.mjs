// What several benchmark scripts share: the request bodies and the canned upstream answer.

/** The small order-shaped body of the miss and hit scenarios (B2, B3, …) and of bench/routes.mjs. */
export const SMALL_BODY = JSON.stringify({
  orderId: 'A-1001',
  customer: { id: 'c-42', tier: 'gold' },
  items: [
    { sku: 'X1', qty: 2 },
    { sku: 'Y7', qty: 1 },
  ],
  note: 'bench',
});

/** A deterministic JSON object of exactly `bytes` bytes (UTF-8), shaped like a real order with many lines. */
export function jsonOfSize(bytes) {
  const items = [];
  let unpadded = 0;
  for (let i = 0; unpadded <= bytes - 200; i++) {
    items.push({
      sku: `SKU-${String(i).padStart(5, '0')}`,
      name: `Item number ${i}`,
      qty: (i % 7) + 1,
      price: ((i * 37) % 1000) / 10,
      tags: ['bench', i % 2 ? 'odd' : 'even'],
    });
    unpadded = JSON.stringify({ orderId: 'A-1001', items, pad: '' }).length;
  }
  const text = JSON.stringify({ orderId: 'A-1001', items, pad: 'x'.repeat(bytes - unpadded) });
  if (Buffer.byteLength(text) !== bytes) throw new Error('payload size mismatch');
  return text;
}

/** A succeeded StartSyncExecution answer, as the in-process benchmarks' upstream gives it. */
const ENVELOPE = JSON.stringify({
  RequestId: 'bench',
  FlowName: 'bench_flow',
  Name: 'bench:11111111-2222-4333-8444-555555555555',
  Status: 'Succeeded',
  Output: '{"ok":true}',
  StartedTime: '2024-01-01T00:00:00.000Z',
  StoppedTime: '2024-01-01T00:00:00.010Z',
});

/** A transport (the runtime's `transport` option) that answers every call with ENVELOPE, with no socket. */
export const cannedTransport = async () => ({
  status: 200,
  header: (name) => (name.toLowerCase() === 'content-type' ? 'application/json' : null),
  text: async () => ENVELOPE,
});
