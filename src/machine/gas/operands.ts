// Operand rewriting: finds the expressions inside an instruction's operand text,
// evaluates those that mention symbols, `.` or operators, and replaces them with
// hex numbers, so keystone only ever sees plain numbers. Leaves registers and
// everything else as written, and reports identifiers that are neither.

import { ReasonError } from './errors.js';
import { evaluate, hex, mentionsSymbol, parseExprAt, type EvalEnv, type Expr } from './expr.js';
import type { InsnMode } from './frags.js';
import type { Token } from './lexer.js';

const ARM_RESERVED = new Set([
  ...Array.from({ length: 16 }, (_, i) => `r${i}`),
  ...Array.from({ length: 16 }, (_, i) => `p${i}`),
  ...Array.from({ length: 16 }, (_, i) => `c${i}`),
  ...Array.from({ length: 32 }, (_, i) => `s${i}`),
  ...Array.from({ length: 32 }, (_, i) => `d${i}`),
  ...Array.from({ length: 16 }, (_, i) => `q${i}`),
  ...Array.from({ length: 8 }, (_, i) => `v${i + 1}`),
  ...Array.from({ length: 4 }, (_, i) => `a${i + 1}`),
  'sp', 'lr', 'pc', 'ip', 'fp', 'sl', 'sb',
  'lsl', 'lsr', 'asr', 'ror', 'rrx', 'asl',
  'cpsr', 'spsr', 'apsr', 'fpscr', 'fpexc', 'fpsid', 'mvfr0', 'mvfr1', 'mvfr2', 'fpinst', 'fpinst2',
]);

const X86_RESERVED = new Set([
  'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'ax', 'bx', 'cx', 'dx', 'si', 'di',
  'bp', 'sp', 'al', 'ah', 'bl', 'bh', 'cl', 'ch', 'dl', 'dh', 'cs', 'ds', 'es', 'fs', 'gs', 'ss',
  'st', 'cr0', 'cr2', 'cr3', 'cr4', 'dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7',
  ...Array.from({ length: 8 }, (_, i) => `mm${i}`),
  ...Array.from({ length: 8 }, (_, i) => `xmm${i}`),
  ...Array.from({ length: 8 }, (_, i) => `st${i}`),
  'byte', 'word', 'dword', 'qword', 'tbyte', 'fword', 'oword', 'xmmword', 'ptr', 'offset',
  'short', 'near', 'far', 'flat',
]);

/** Whether an identifier is a register or keyword of the instruction syntax (never a symbol). */
export function isReserved(name: string, mode: InsnMode): boolean {
  const n = name.toLowerCase();
  if (mode === 'arm' || mode === 'thumb') {
    if (ARM_RESERVED.has(n)) return true;
    // cpsr_c, spsr_fsxc, apsr_nzcv, apsr_g …
    if (/^(cpsr|spsr|apsr)_[a-z]+$/.test(n)) return true;
    return false;
  }
  if (mode === 'intel') return X86_RESERVED.has(n);
  return false;
}

const HIGH_BINARY = new Set(['*', '/', '%', '<<', '>>', '&', '|', '^', '!']);

export interface FoldOptions {
  mode: InsnMode;
  env: EvalEnv;
  isSymbol: (name: string) => boolean;
  /** Called for each evaluated span; may return replacement text instead of the hex value. */
  replace?: (expr: Expr, value: bigint, reloc: number, span: { first: number; end: number }) => string | undefined;
}

export interface FoldResult {
  text: string;
  /** Spans that were replaced: token range [first, end) and their value. */
  spans: { first: number; end: number; value: bigint; reloc: number; expr: Expr }[];
}

/** Folds the symbolic expressions of operand text; throws ReasonError for undefined symbols. */
export function foldOperands(text: string, tokens: Token[], opts: FoldOptions): FoldResult {
  let out = '';
  let pos = 0;
  const spans: FoldResult['spans'] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    // ARM `#:lower16:expr` / `#:upper16:expr` (movw/movt).
    const half = tokens[i + 1];
    const close = tokens[i + 2];
    if (
      t.kind === 'op' && t.op === ':' && half?.kind === 'ident' && /^(lower16|upper16)$/i.test(half.name) &&
      close?.kind === 'op' && close.op === ':' && (opts.mode === 'arm' || opts.mode === 'thumb')
    ) {
      const r = parseExprAt(tokens, i + 3, { isSymbol: opts.isSymbol });
      if (!r) throw new ReasonError(`missing expression after :${half.name}:`);
      const v = evaluate(r.expr, opts.env);
      const u = BigInt.asUintN(32, v.value);
      const part = half.name.toLowerCase() === 'lower16' ? u & 0xffffn : u >> 16n;
      out += text.slice(pos, t.start) + hex(part);
      pos = tokens[r.end - 1]!.end;
      spans.push({ first: i, end: r.end, value: part, reloc: 0, expr: r.expr });
      i = r.end;
      continue;
    }
    // A `*` or `/` … right before us is a binary operator only if an operand precedes it
    // (`*` at the start of an x86 operand is the indirect-call prefix).
    const before = tokens[i - 2];
    const operandBefore =
      before !== undefined &&
      (before.kind === 'num' || before.kind === 'ident' || before.kind === 'reg' || (before.kind === 'op' && (before.op === ')' || before.op === ']')));
    const canStart =
      (t.kind === 'num' || t.kind === 'ident' || (t.kind === 'op' && ['(', '-', '~', '+', '!'].includes(t.op))) &&
      !(prev?.kind === 'op' && HIGH_BINARY.has(prev.op) && operandBefore) &&
      !(prev?.kind === 'reg' && t.kind === 'op' && t.op === '(');
    if (canStart) {
      const r = parseExprAt(tokens, i, { isSymbol: opts.isSymbol });
      const next = r ? tokens[r.end] : undefined;
      const isChar = t.kind === 'num' && text[t.start] === "'";
      if (
        r &&
        (mentionsSymbol(r.expr) || r.end - i > 1 || isChar) &&
        !(next?.kind === 'op' && HIGH_BINARY.has(next.op)) &&
        // A lone parenthesised number is not an expression to fold (x86 %st(1)).
        !(r.expr.kind === 'num' && t.kind === 'op' && t.op === '(' && !isChar)
      ) {
        const v = evaluate(r.expr, opts.env);
        const span = { first: i, end: r.end };
        let rep = opts.replace?.(r.expr, v.value, v.reloc, span) ?? hex(v.value);
        // `[esp+4]`: a leading sign that is really a binary operator keeps its place.
        const signed = t.kind === 'op' && (t.op === '+' || t.op === '-') && prev !== undefined && !(prev.kind === 'op' && prev.op !== ')' && prev.op !== ']');
        if (signed && !rep.startsWith('-')) rep = `+${rep}`;
        out += text.slice(pos, t.start) + rep;
        pos = tokens[r.end - 1]!.end;
        spans.push({ ...span, value: v.value, reloc: v.reloc, expr: r.expr });
        i = r.end;
        continue;
      }
    }
    if (t.kind === 'ident' && t.name !== '.' && !opts.isSymbol(t.name) && !isReserved(t.name, opts.mode)) {
      const shown = t.display ?? t.name;
      if (t.name.includes('\u0002')) throw new ReasonError(`undefined local label \`${shown}'`);
      throw new ReasonError(`undefined symbol \`${shown}'`);
    }
    i++;
  }
  out += text.slice(pos);
  return { text: out, spans };
}
