/**
 * Constructors (`InputConstructor`, `OutputConstructor`, `GlobalConstructor`, Catch `OutputConstructor`) and Task
 * `Parameters` share one rule (CloudFlow FDL, "Input and output"): a key ending in `.$` holds an expression, evaluated at run time
 * and stored under the key without the suffix; any other value is taken literally. Nested maps and lists follow
 * the same rule. They are compiled once at load time, so a bad expression is a load error.
 */
import type { CompiledExpression, Variable } from './expression/ast.js';
import type { BuiltinEnvironment } from './expression/builtins.js';
import { evaluateExpression, type ExpressionScope } from './expression/evaluate.js';
import { ExpressionSyntaxError } from './expression/lexer.js';
import { parseExpression } from './expression/parser.js';
import { isObject } from './expression/values.js';

export type Template =
  | { kind: 'literal'; value: unknown }
  | { kind: 'expression'; expression: CompiledExpression }
  | { kind: 'object'; entries: Array<[string, Template]> }
  | { kind: 'array'; items: Template[] };

/** A constructor problem; the loader prefixes it with the state name. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const EXPRESSION_SUFFIX = '.$';

/** Compiles a constructor, which must be a map. `label` (e.g. "InputConstructor") prefixes error messages. */
export function compileConstructor(value: unknown, label: string): Template {
  if (!isObject(value)) throw new TemplateError(`${label} must be a map`);
  return compileValue(value, label);
}

/** Compiles one expression string; `label` names where it sits for error messages. */
export function compileExpression(source: unknown, label: string): CompiledExpression {
  if (typeof source !== 'string') throw new TemplateError(`${label} must be an expression string`);
  try {
    return parseExpression(source.trim());
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) throw new TemplateError(`${label}: ${error.message} in ${JSON.stringify(source)}`);
    throw error;
  }
}

function compileValue(value: unknown, path: string): Template {
  if (Array.isArray(value)) return { kind: 'array', items: value.map((item, i) => compileValue(item, `${path}[${i}]`)) };
  if (!isObject(value)) return { kind: 'literal', value };
  const entries: Array<[string, Template]> = [];
  const seen = new Set<string>();
  for (const [key, child] of Object.entries(value)) {
    const isExpression = key.endsWith(EXPRESSION_SUFFIX);
    const name = isExpression ? key.slice(0, -EXPRESSION_SUFFIX.length) : key;
    if (name === '') throw new TemplateError(`${path} has an empty key`);
    if (seen.has(name)) throw new TemplateError(`${path} sets "${name}" twice`);
    seen.add(name);
    const childPath = `${path}.${key}`;
    // "A key ending in .$ must have an expression as its value" (CloudFlow FDL, "Input and output").
    entries.push([name, isExpression ? { kind: 'expression', expression: compileExpression(child, childPath) } : compileValue(child, childPath)]);
  }
  return { kind: 'object', entries };
}

export async function renderTemplate(template: Template, scope: ExpressionScope, env: BuiltinEnvironment): Promise<unknown> {
  switch (template.kind) {
    case 'literal':
      return template.value;
    case 'expression':
      return evaluateExpression(template.expression, scope, env);
    case 'array':
      return Promise.all(template.items.map((item) => renderTemplate(item, scope, env)));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of template.entries) out[key] = await renderTemplate(child, scope, env);
      return out;
    }
  }
}

/** The `$` variables any expression inside reads. */
export function templateVariables(template: Template): Set<Variable> {
  const found = new Set<Variable>();
  const walk = (t: Template): void => {
    if (t.kind === 'expression') t.expression.variables.forEach((v) => found.add(v));
    else if (t.kind === 'array') t.items.forEach(walk);
    else if (t.kind === 'object') t.entries.forEach(([, child]) => walk(child));
  };
  walk(template);
  return found;
}
