// Expressions as GNU as reads them: parsing (tokens → tree) and evaluation.
//
// Precedence follows GNU as, not C: unary (- ~ ! +) binds tightest, then
// * / % << >>, then | & ^ !, then + - and comparisons, then && ||.
// Values are 64-bit signed, like gas's offsetT.

import { ReasonError } from './errors.js';
import type { Token } from './lexer.js';

export type Expr =
  | { kind: 'num'; value: bigint }
  | { kind: 'sym'; name: string; display: string }
  | { kind: 'dot' }
  | { kind: 'unary'; op: string; arg: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr };

/** Evaluation result: value, and how many label addresses it carries (0 = a constant). */
export interface Value {
  value: bigint;
  reloc: number;
}

export interface EvalEnv {
  /** The location counter, `.`. */
  dot(): number;
  /** A symbol's value; throws ReasonError for an undefined symbol. */
  lookup(name: string, display: string): Value;
}

const LEVELS: string[][] = [
  ['||', '&&'],
  ['+', '-', '==', '!=', '<>', '<', '>', '<=', '>='],
  ['|', '&', '^', '!'],
  ['*', '/', '%', '<<', '>>'],
];

export interface ParseOptions {
  /** Which identifiers are expression atoms. Others end the expression (registers in operands). */
  isSymbol?: (name: string) => boolean;
}

/** A token-stream expression parser that finds the longest valid expression at a position. */
class Parser {
  constructor(
    private readonly toks: Token[],
    private readonly opts: ParseOptions,
  ) {}

  private op(pos: number): string | undefined {
    const t = this.toks[pos];
    return t?.kind === 'op' ? t.op : undefined;
  }

  /** Parses at pos; returns the tree and the position after it, or null. */
  parse(pos: number, level = 0): { expr: Expr; end: number } | null {
    if (level === LEVELS.length) return this.unary(pos);
    let left = this.parse(pos, level + 1);
    if (!left) return null;
    for (;;) {
      const op = this.op(left.end);
      if (op === undefined || !LEVELS[level]!.includes(op)) return left;
      const right = this.parse(left.end + 1, level + 1);
      if (!right) return left;
      left = { expr: { kind: 'binary', op, left: left.expr, right: right.expr }, end: right.end };
    }
  }

  private unary(pos: number): { expr: Expr; end: number } | null {
    const t = this.toks[pos];
    if (!t) return null;
    if (t.kind === 'op' && (t.op === '-' || t.op === '~' || t.op === '!' || t.op === '+')) {
      const arg = this.unary(pos + 1);
      if (!arg) return null;
      return { expr: { kind: 'unary', op: t.op, arg: arg.expr }, end: arg.end };
    }
    if (t.kind === 'op' && t.op === '(') {
      const inner = this.parse(pos + 1);
      if (!inner || this.op(inner.end) !== ')') return null;
      return { expr: inner.expr, end: inner.end + 1 };
    }
    if (t.kind === 'num') return { expr: { kind: 'num', value: t.value }, end: pos + 1 };
    if (t.kind === 'ident') {
      if (t.name === '.') return { expr: { kind: 'dot' }, end: pos + 1 };
      if (this.opts.isSymbol && !this.opts.isSymbol(t.name)) return null;
      const display = t.display ?? t.name;
      return { expr: { kind: 'sym', name: t.name, display }, end: pos + 1 };
    }
    return null;
  }
}

/** Longest expression starting at tokens[pos], or null. */
export function parseExprAt(tokens: Token[], pos: number, opts: ParseOptions = {}): { expr: Expr; end: number } | null {
  return new Parser(tokens, opts).parse(pos);
}

/** Parses a whole token list as one expression; throws ReasonError otherwise. */
export function parseExpr(tokens: Token[], what = 'expression'): Expr {
  if (tokens.length === 0) throw new ReasonError(`missing ${what}`);
  const r = parseExprAt(tokens, 0);
  if (!r || r.end !== tokens.length) {
    const bad = tokens[r ? r.end : 0]!;
    const shown = bad.kind === 'op' ? bad.op : bad.kind === 'ident' ? bad.name : bad.kind === 'reg' ? `%${bad.name}` : bad.kind === 'num' ? String(bad.value) : bad.kind === 'local' ? `${bad.label}${bad.dir}` : bad.kind === 'raw' ? bad.text : 'string';
    throw new ReasonError(`bad ${what}: unexpected '${shown}'`);
  }
  return r.expr;
}

const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);

export function evaluate(e: Expr, env: EvalEnv): Value {
  switch (e.kind) {
    case 'num':
      return { value: e.value, reloc: 0 };
    case 'dot':
      return { value: BigInt(env.dot()), reloc: 1 };
    case 'sym':
      return env.lookup(e.name, e.display);
    case 'unary': {
      const a = evaluate(e.arg, env);
      switch (e.op) {
        case '-': return { value: wrap(-a.value), reloc: -a.reloc };
        case '~': return { value: wrap(~a.value), reloc: a.reloc ? 1 : 0 };
        case '!': return { value: a.value === 0n ? 1n : 0n, reloc: 0 };
        default: return a;
      }
    }
    case 'binary': {
      const a = evaluate(e.left, env);
      const b = evaluate(e.right, env);
      const x = a.value;
      const y = b.value;
      const other = a.reloc || b.reloc ? 1 : 0;
      switch (e.op) {
        case '+': return { value: wrap(x + y), reloc: a.reloc + b.reloc };
        case '-': return { value: wrap(x - y), reloc: a.reloc - b.reloc };
        case '*': return { value: wrap(x * y), reloc: other };
        case '/':
        case '%':
          if (y === 0n) throw new ReasonError('division by zero');
          return { value: wrap(e.op === '/' ? x / y : x % y), reloc: other };
        case '<<': return { value: y >= 64n || y < 0n ? 0n : wrap(x << y), reloc: other };
        case '>>': return { value: y >= 64n || y < 0n ? (x < 0n ? -1n : 0n) : x >> y, reloc: other };
        case '&': return { value: x & y, reloc: other };
        case '|': return { value: x | y, reloc: other };
        case '^': return { value: x ^ y, reloc: other };
        case '!': return { value: x | ~y, reloc: other };
        // gas comparisons yield -1 for true.
        case '==': return { value: x === y ? -1n : 0n, reloc: 0 };
        case '!=':
        case '<>': return { value: x !== y ? -1n : 0n, reloc: 0 };
        case '<': return { value: x < y ? -1n : 0n, reloc: 0 };
        case '>': return { value: x > y ? -1n : 0n, reloc: 0 };
        case '<=': return { value: x <= y ? -1n : 0n, reloc: 0 };
        case '>=': return { value: x >= y ? -1n : 0n, reloc: 0 };
        case '&&': return { value: x !== 0n && y !== 0n ? 1n : 0n, reloc: 0 };
        case '||': return { value: x !== 0n || y !== 0n ? 1n : 0n, reloc: 0 };
      }
      throw new ReasonError(`bad operator '${e.op}'`);
    }
  }
}

/** Whether the tree mentions a symbol or `.`. */
export function mentionsSymbol(e: Expr): boolean {
  switch (e.kind) {
    case 'num': return false;
    case 'sym':
    case 'dot': return true;
    case 'unary': return mentionsSymbol(e.arg);
    case 'binary': return mentionsSymbol(e.left) || mentionsSymbol(e.right);
  }
}

/** Symbol names the tree mentions. */
export function symbolsOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.kind === 'sym') out.add(e.name);
  else if (e.kind === 'unary') symbolsOf(e.arg, out);
  else if (e.kind === 'binary') {
    symbolsOf(e.left, out);
    symbolsOf(e.right, out);
  }
  return out;
}

/** Formats a number for an operand: hex, with a leading minus for negatives. */
export function hex(v: bigint | number): string {
  const b = BigInt(v);
  return b < 0n ? `-0x${(-b).toString(16)}` : `0x${b.toString(16)}`;
}
