// Local Task handlers for the example flows. A Task with `Action: Local:<name>` calls the export <name>
// with the Task's Parameters and a context ({ executionName, flowName, stateName, retryCount, signal, now, sleep }).
// Throw an error with a `code` (or `name`) to fail with that FDL error name.

const PRICES = { apple: 0.5, pear: 0.75, melon: 3 };

/** Prices `qty` units of `sku`; fails with UnknownSku for skus it does not know. */
export function priceQuote({ sku, qty = 1 }) {
  const unitPrice = PRICES[sku];
  if (unitPrice === undefined) throw Object.assign(new Error(`no price for sku ${JSON.stringify(sku)}`), { code: 'UnknownSku' });
  if (!Number.isInteger(qty) || qty < 1) throw Object.assign(new Error('qty must be a whole number ≥ 1'), { code: 'InvalidOrder' });
  return { sku, qty, unitPrice, total: unitPrice * qty };
}
