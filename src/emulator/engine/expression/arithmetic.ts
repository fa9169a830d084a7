/**
 * Arithmetic and ordering over the engine's numbers, which keep their exact text (../json.ts). The FDL
 * documentation lists operators but says nothing of number sizes; the rules here are the emulator's, and
 * docs/emulator.md states them:
 *  - comparisons (`==`, `<`, …) are exact at any size and precision: `12345678901234567890 > 12345678901234567889`;
 *  - `+ - * %` (and `intAdd()`) on two numbers written as whole numbers are exact at any size (BigInt);
 *  - anything else (a fraction or an exponent on either side, and every `/`) is computed in doubles (IEEE 754),
 *    as JavaScript and Go do: `0.1 + 0.2` is `0.30000000000000004`;
 *  - a number a double cannot hold at all (`1e400`), or a result past a double's range, fails the state with
 *    `FnF.RuntimeError` rather than turning into null or Infinity.
 * Unary minus flips the sign of the exact text.
 */
import { LosslessNumber } from 'lossless-json';
import { ErrorNames, StateFailure } from '../errors.js';
import { compareNumeric, fromBigInt, isIntegerText, isNumeric, numericText, toDouble, type Numeric } from '../json.js';
import { typeName } from './values.js';

export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%';

const EXACT: Partial<Record<ArithmeticOperator, (a: bigint, b: bigint) => bigint>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '%': (a, b) => (b === 0n ? failDivision() : a % b),
};

const DOUBLE: Record<ArithmeticOperator, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => (b === 0 ? failDivision() : a / b),
  '%': (a, b) => (b === 0 ? failDivision() : a % b),
};

export function arithmetic(operator: ArithmeticOperator, left: unknown, right: unknown): Numeric {
  if (!isNumeric(left)) return failType(operator, left);
  if (!isNumeric(right)) return failType(operator, right);
  const exact = EXACT[operator];
  if (exact && isIntegerText(left) && isIntegerText(right)) return fromBigInt(exact(BigInt(numericText(left)), BigInt(numericText(right))));
  const result = DOUBLE[operator](double(left), double(right));
  if (!Number.isFinite(result))
    throw new StateFailure(ErrorNames.RuntimeError, `${numericText(left)} ${operator} ${numericText(right)} is beyond the range of a double`);
  return result;
}

export function negate(operand: unknown): Numeric {
  if (!isNumeric(operand)) return failType('-', operand);
  if (typeof operand === 'number') return -operand;
  const text = operand.value;
  return new LosslessNumber(text.startsWith('-') ? text.slice(1) : `-${text}`);
}

/** `<`, `<=`, `>`, `>=`: numbers exactly by value, strings by code unit; anything else is false. */
export function order(operator: '<' | '<=' | '>' | '>=', left: unknown, right: unknown): boolean {
  let sign: number;
  if (isNumeric(left) && isNumeric(right)) sign = compareNumeric(left, right);
  else if (typeof left === 'string' && typeof right === 'string') sign = left < right ? -1 : left > right ? 1 : 0;
  else return false;
  switch (operator) {
    case '<':
      return sign < 0;
    case '<=':
      return sign <= 0;
    case '>':
      return sign > 0;
    case '>=':
      return sign >= 0;
  }
}

function double(value: Numeric): number {
  const n = toDouble(value);
  if (n === undefined) throw new StateFailure(ErrorNames.RuntimeError, `${numericText(value)} is beyond the range of a double, so arithmetic cannot take it`);
  return n;
}

export function failType(operator: string, value: unknown): never {
  throw new StateFailure(ErrorNames.RuntimeError, `operator "${operator}" cannot take a ${typeName(value)}`);
}

function failDivision(): never {
  throw new StateFailure(ErrorNames.RuntimeError, 'division by zero');
}
