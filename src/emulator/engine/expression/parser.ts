/**
 * Recursive-descent parser for FDL expressions. Precedence, loosest first:
 * `||`, `&&`, comparisons and `in`, `+ -`, `* / %`, prefix `! -`, then member access, indexing and calls.
 *
 * The documented operators are comparison, `||`, `&&`, prefix `!`/`-` and `in`. Arithmetic is an inference
 * from the Go expression libraries the operator set resembles.
 */
import type { BinaryOperator, CompiledExpression, Expr, Variable } from './ast.js';
import { BUILTIN_NAMES } from './builtins.js';
import { ExpressionSyntaxError, tokenize, type Token } from './lexer.js';

/** CloudFlow FDL, "Built-in functions": "Built-in functions may be nested at most 10 deep." */
export const MAX_FUNCTION_NESTING = 10;
/**
 * The deepest an expression's tree may be (brackets, prefix operators, chains such as `$Input.a.b.c` or
 * `a + b + c`). The parser and the evaluator recurse over the tree, so a longer one would overflow the stack;
 * real expressions stay far below.
 */
export const MAX_EXPRESSION_DEPTH = 100;

const VARIABLES: ReadonlySet<string> = new Set<Variable>(['Input', 'Output', 'Context', 'Global']);
const COMPARISONS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);

export function parseExpression(source: string): CompiledExpression {
  const parser = new Parser(source, tokenize(source));
  const ast = parser.parseTop();
  if (treeDepth(ast) > MAX_EXPRESSION_DEPTH) throw new ExpressionSyntaxError(`the expression is nested more than ${MAX_EXPRESSION_DEPTH} deep`);
  return { source, ast, variables: parser.variables };
}

class Parser {
  private pos = 0;
  private callDepth = 0;
  private nesting = 0;
  readonly variables = new Set<Variable>();

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parseTop(): Expr {
    if (this.peek().kind === 'end') throw new ExpressionSyntaxError('empty expression');
    const expr = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== 'end') throw this.unexpected(rest);
    return expr;
  }

  private parseOr(): Expr {
    this.enter();
    let left = this.parseAnd();
    while (this.isOp('||')) {
      this.pos++;
      left = { kind: 'binary', operator: '||', left, right: this.parseAnd() };
    }
    this.nesting--;
    return left;
  }

  /** Bounds the parser's own recursion (brackets and prefix operators) before it can overflow the stack. */
  private enter(): void {
    if (++this.nesting > MAX_EXPRESSION_DEPTH) throw new ExpressionSyntaxError(`the expression is nested more than ${MAX_EXPRESSION_DEPTH} deep`);
  }

  private parseAnd(): Expr {
    let left = this.parseComparison();
    while (this.isOp('&&')) {
      this.pos++;
      left = { kind: 'binary', operator: '&&', left, right: this.parseComparison() };
    }
    return left;
  }

  private parseComparison(): Expr {
    let left = this.parseAdditive();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && COMPARISONS.has(t.value)) {
        this.pos++;
        left = { kind: 'binary', operator: t.value as BinaryOperator, left, right: this.parseAdditive() };
      } else if (t.kind === 'ident' && t.value === 'in') {
        this.pos++;
        left = { kind: 'binary', operator: 'in', left, right: this.parseAdditive() };
      } else {
        return left;
      }
    }
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const operator = (this.next() as { value: '+' | '-' }).value;
      left = { kind: 'binary', operator, left, right: this.parseMultiplicative() };
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const operator = (this.next() as { value: '*' | '/' | '%' }).value;
      left = { kind: 'binary', operator, left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): Expr {
    if (this.isOp('!') || this.isOp('-')) {
      const operator = (this.next() as { value: '!' | '-' }).value;
      this.enter();
      const operand = this.parseUnary();
      this.nesting--;
      return { kind: 'unary', operator, operand };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePostfix(base: Expr): Expr {
    let expr = base;
    for (;;) {
      if (this.isOp('.')) {
        this.pos++;
        const name = this.next();
        // Keys such as `in` or `true` are still plain keys after a dot.
        if (name.kind !== 'ident') throw this.unexpected(name, 'a property name after "."');
        expr = { kind: 'member', object: expr, property: name.value };
      } else if (this.isOp('[')) {
        this.pos++;
        const index = this.parseOr();
        this.expectOp(']');
        expr = { kind: 'index', object: expr, index };
      } else {
        return expr;
      }
    }
  }

  private parsePrimary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: t.value };
      case 'variable':
        if (!VARIABLES.has(t.value)) throw new ExpressionSyntaxError(`unknown variable "$${t.value}" (use $Input, $Output, $Context or $Global)`);
        this.variables.add(t.value as Variable);
        return { kind: 'variable', name: t.value as Variable };
      case 'ident':
        if (t.value === 'true' || t.value === 'false') return { kind: 'literal', value: t.value === 'true' };
        if (t.value === 'null' || t.value === 'nil') return { kind: 'literal', value: null };
        if (this.isOp('(')) return this.parseCall(t.value);
        throw new ExpressionSyntaxError(`unexpected name "${t.value}" at position ${t.pos} (variables start with $)`);
      case 'op':
        if (t.value === '(') {
          const inner = this.parseOr();
          this.expectOp(')');
          return inner;
        }
        if (t.value === '[') return { kind: 'array', items: this.parseList(']') };
        throw this.unexpected(t);
      case 'end':
        throw new ExpressionSyntaxError('unexpected end of expression');
    }
  }

  private parseCall(name: string): Expr {
    if (!BUILTIN_NAMES.has(name)) throw new ExpressionSyntaxError(`unknown function "${name}"`);
    this.pos++; // (
    if (++this.callDepth > MAX_FUNCTION_NESTING) throw new ExpressionSyntaxError(`functions may be nested at most ${MAX_FUNCTION_NESTING} deep`);
    const args = this.parseList(')');
    this.callDepth--;
    return { kind: 'call', name, args };
  }

  /** Comma-separated expressions up to the closing bracket (already past the opening one). */
  private parseList(close: ')' | ']'): Expr[] {
    const items: Expr[] = [];
    if (this.isOp(close)) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.parseOr());
      if (this.isOp(',')) {
        this.pos++;
        continue;
      }
      this.expectOp(close);
      return items;
    }
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== 'end') this.pos++;
    return t;
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === value;
  }

  private expectOp(value: string): void {
    const t = this.next();
    if (t.kind !== 'op' || t.value !== value) throw this.unexpected(t, `"${value}"`);
  }

  private unexpected(t: Token, expected?: string): ExpressionSyntaxError {
    const found = t.kind === 'end' ? 'end of expression' : `"${this.source.slice(t.pos, t.pos + 12)}" at position ${t.pos}`;
    return new ExpressionSyntaxError(expected ? `expected ${expected} but found ${found}` : `unexpected ${found}`);
  }
}

/** The depth of a parsed tree, walked with a stack of its own. */
function treeDepth(root: Expr): number {
  let deepest = 0;
  const work: Array<[Expr, number]> = [[root, 1]];
  while (work.length > 0) {
    const [expr, depth] = work.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_EXPRESSION_DEPTH) return deepest;
    for (const child of children(expr)) work.push([child, depth + 1]);
  }
  return deepest;
}

function children(expr: Expr): Expr[] {
  switch (expr.kind) {
    case 'literal':
    case 'variable':
      return [];
    case 'member':
      return [expr.object];
    case 'index':
      return [expr.object, expr.index];
    case 'unary':
      return [expr.operand];
    case 'binary':
      return [expr.left, expr.right];
    case 'call':
      return expr.args;
    case 'array':
      return expr.items;
  }
}
