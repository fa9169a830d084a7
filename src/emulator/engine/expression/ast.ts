/** The parsed form of an FDL expression. Parsing happens once, at load time. */

export type Variable = 'Input' | 'Output' | 'Context' | 'Global';

export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | '+' | '-' | '*' | '/' | '%';

export type Expr =
  | { kind: 'literal'; value: unknown }
  | { kind: 'variable'; name: Variable }
  | { kind: 'member'; object: Expr; property: string }
  | { kind: 'index'; object: Expr; index: Expr }
  | { kind: 'unary'; operator: '!' | '-'; operand: Expr }
  | { kind: 'binary'; operator: BinaryOperator; left: Expr; right: Expr }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'array'; items: Expr[] };

/** A compiled expression together with its source text, for error messages. */
export interface CompiledExpression {
  source: string;
  ast: Expr;
  /** The `$` variables it reads, so the loader can reject `$Output` where it does not exist. */
  variables: ReadonlySet<Variable>;
}
