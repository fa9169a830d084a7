/**
 * Evaluates a parsed expression against `$Input`, `$Output`, `$Context` and `$Global`.
 *
 * Choices made where the FDL documentation is silent (all inferred): a missing key reads as null instead of failing,
 * so that `$Input.status == "x"` simply is false when `status` is absent; ordering comparisons (`<` …) are false
 * unless both sides are numbers or both are strings; `==` is structural with no type coercion; `+` adds numbers
 * or concatenates when either side is a string; `!`, `&&`, `||` and Choice conditions use truthiness (null, false,
 * 0 and "" are false), so `Condition: $Input.flag` works when `flag` is absent.
 */
import { StateFailure } from '../errors.js';
import type { CompiledExpression, Expr, Variable } from './ast.js';
import { compareNumeric, isIntegerText, isNumeric, toDouble } from '../json.js';
import { arithmetic, failType, negate, order } from './arithmetic.js';
import { callBuiltin, type BuiltinEnvironment } from './builtins.js';
import { deepEqual, isObject, toDisplayString } from './values.js';

export type ExpressionScope = Partial<Record<Variable, unknown>>;

export async function evaluateExpression(expression: CompiledExpression, scope: ExpressionScope, env: BuiltinEnvironment): Promise<unknown> {
  try {
    return await evaluate(expression.ast, scope, env);
  } catch (error) {
    if (error instanceof StateFailure) throw new StateFailure(error.code, `${error.detail} (in expression ${JSON.stringify(expression.source)})`);
    throw error;
  }
}

async function evaluate(expr: Expr, scope: ExpressionScope, env: BuiltinEnvironment): Promise<unknown> {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'variable':
      return scope[expr.name] ?? null;
    case 'array':
      return Promise.all(expr.items.map((item) => evaluate(item, scope, env)));
    case 'member': {
      const object = await evaluate(expr.object, scope, env);
      return isObject(object) && Object.hasOwn(object, expr.property) ? object[expr.property] : null;
    }
    case 'index': {
      const object = await evaluate(expr.object, scope, env);
      const index = await evaluate(expr.index, scope, env);
      if (Array.isArray(object) && isNumeric(index) && isIntegerText(index)) {
        const i = toDouble(index)!;
        return object[i < 0 ? object.length + i : i] ?? null;
      }
      if (isObject(object) && typeof index === 'string') return Object.hasOwn(object, index) ? object[index] : null;
      return null;
    }
    case 'unary': {
      const value = await evaluate(expr.operand, scope, env);
      if (expr.operator === '!') return !truthy(value);
      return negate(value);
    }
    case 'call':
      return callBuiltin(expr.name, await Promise.all(expr.args.map((arg) => evaluate(arg, scope, env))), env);
    case 'binary':
      return evaluateBinary(expr, scope, env);
  }
}

async function evaluateBinary(expr: Extract<Expr, { kind: 'binary' }>, scope: ExpressionScope, env: BuiltinEnvironment): Promise<unknown> {
  // Short-circuit, like every language the operator set is borrowed from.
  if (expr.operator === '&&') return truthy(await evaluate(expr.left, scope, env)) && truthy(await evaluate(expr.right, scope, env));
  if (expr.operator === '||') return truthy(await evaluate(expr.left, scope, env)) || truthy(await evaluate(expr.right, scope, env));
  const left = await evaluate(expr.left, scope, env);
  const right = await evaluate(expr.right, scope, env);
  switch (expr.operator) {
    case '==':
      return deepEqual(left, right);
    case '!=':
      return !deepEqual(left, right);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return order(expr.operator, left, right);
    case 'in':
      return contains(right, left);
    case '+':
      if (typeof left === 'string' || typeof right === 'string') return toDisplayString(left) + toDisplayString(right);
      return arithmetic('+', left, right);
    case '-':
    case '*':
    case '/':
    case '%':
      return arithmetic(expr.operator, left, right);
  }
}

/** null and false are false; true is true; other values are true when non-empty/non-zero. */
export function truthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (isNumeric(value)) return compareNumeric(value, 0) !== 0;
  if (typeof value === 'string') return value !== '';
  return true;
}

/** `x in array` tests membership; `"key" in map` tests key presence (CloudFlow FDL, "Choice" conditions). */
function contains(container: unknown, needle: unknown): boolean {
  if (Array.isArray(container)) return container.some((item) => deepEqual(item, needle));
  if (isObject(container)) return typeof needle === 'string' && Object.hasOwn(container, needle);
  if (container === null || container === undefined) return false;
  return failType('in', container);
}
