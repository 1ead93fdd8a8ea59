// Source text -> statements: split, guarded (guards.ts), classified, and for AT&T given the
// radix-safe text Keystone gets (radix.ts). Nothing reaches Keystone except through here.

import { checkAssignment, checkCharacters, checkDirective, checkOperands, checkStart } from './guards.js';
import { splitStatements } from './lex.js';
import { decimalsToHex } from './radix.js';
import type { AsmArch, AsmOptions, AsmSyntax } from './types.js';

export interface Statement {
  /** As the caller wrote it (comments stripped, trimmed): what error messages show. */
  text: string;
  /** What Keystone gets (for AT&T: decimal literals rewritten to hex). */
  ks: string;
  /** Number of `label:` definitions at its start (Keystone counts each as a statement). */
  labels: number;
  kind: 'label' | 'directive' | 'assignment' | 'instruction';
  /** An instruction, or a data directive with values: emitting nothing means Keystone dropped it. */
  mustEmit: boolean;
  /** How many statements Keystone counts for it (labels, x86 prefixes like `lock`/`rep` count apart). */
  ksCount: number;
}

/** Split and check a whole source. TypeError for an unknown x86 syntax; AsmError for a refused statement. */
export function parse(source: string, opts: AsmOptions): Statement[] {
  const syntax: AsmSyntax = opts.arch === 'x86' ? (opts.syntax ?? 'att') : 'intel';
  if (opts.arch === 'x86' && syntax !== 'att' && syntax !== 'intel') {
    throw new TypeError(`unknown syntax "${String(syntax)}" (valid: att, intel)`);
  }
  const lineComment = opts.arch === 'x86' ? '#' : '@';
  return splitStatements(source, lineComment).map((t) => classify(t, opts.arch, syntax));
}

const LABEL = /^([A-Za-z_.$][A-Za-z0-9_.$]*):(?!:)\s*/;
const X86_PREFIXES = /^(?:lock|rep|repe|repz|repne|repnz|data16|data32|addr16|addr32)\s+(?=[A-Za-z])/i;

/** Classify one statement, refusing the shapes that hang Keystone. Throws AsmError. */
export function classify(text: string, arch: AsmArch, syntax: AsmSyntax): Statement {
  checkCharacters(text);
  let body = text;
  let labels = 0;
  for (let m = LABEL.exec(body); m; m = LABEL.exec(body)) {
    labels++;
    body = body.slice(m[0].length);
  }
  let prefixes = 0;
  if (arch === 'x86') {
    for (let b = body, m = X86_PREFIXES.exec(b); m; b = b.slice(m[0].length), m = X86_PREFIXES.exec(b)) prefixes++;
  }
  const att = arch === 'x86' && syntax === 'att';
  const mk = (kind: Statement['kind'], mustEmit = kind === 'instruction'): Statement => ({
    text,
    ks: att ? decimalsToHex(text) : text,
    labels,
    kind,
    mustEmit,
    ksCount: labels + (kind === 'label' ? 0 : 1 + prefixes),
  });
  if (body === '') return mk('label');
  checkStart(text, body);
  const word = /^[A-Za-z_.][A-Za-z0-9_.]*/.exec(body)![0];
  const rest = body.slice(word.length).trim();
  if (rest.startsWith('=')) {
    checkAssignment(text, word, rest.slice(1));
    return mk('assignment');
  }
  if (word.startsWith('.')) return mk('directive', checkDirective(text, word, rest, arch));
  checkOperands(text, rest, arch);
  return mk('instruction');
}

/** Statements as the caller wrote them, for error messages. */
export function shown(stmts: Statement[]): string {
  return stmts.map((s) => s.text).join('; ');
}

/** The source Keystone gets for these statements. */
export function ksSource(stmts: Statement[]): string {
  return stmts.map((s) => s.ks).join('\n');
}

/** How many statements Keystone must count for these; fewer means it dropped some. */
export function ksCount(stmts: Statement[]): number {
  return stmts.reduce((n, s) => n + s.ksCount, 0);
}
