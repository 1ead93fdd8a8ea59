// The assembler: a synchronous wrapper around Keystone (@alexaltea/keystone-js, wasm).
//
//   assemble('movl $-8192,%eax; andl %esp,%eax', { arch: 'x86' })   -> b8 00 e0 ff ff 21 e0
//   assembleOne('mov r7, #120', { arch: 'arm', addr: 0x8000 })       -> 78 70 a0 e3
//
// Keystone 0.9.2 has traps; this module exists to keep them away from the rest of trapdoor.
// Every one of them was measured on this package (test/cpu/keystone.test.ts keeps them
// fixed, and test/cpu/asm-golden.test.ts compares the bytes with GNU as):
//
// * THE RADIX BUG. Any call of ks_option (which is how AT&T syntax is chosen — and even
//   choosing Intel explicitly) switches that engine's number radix to 16: `movl $-8192,%eax`
//   becomes b8 6e 7e ff ff, `12(%esp)` becomes 0x12(%esp), `int $128` assembles to nothing
//   and reports success. The radix is per engine; an engine that never saw ks_option reads
//   decimal correctly. Guard:
//     - one engine per (arch, syntax), opened once at start-up and never closed (an engine
//       opened after a bad one was closed can inherit the bad radix through heap reuse);
//       ks_option is called on the AT&T engine only, which is opened last;
//     - for AT&T every decimal (and GNU octal/binary) literal is rewritten to hex before
//       Keystone sees it (`$-8192` -> `$-0x2000`, `12(%esp)` -> `0xc(%esp)`), skipping
//       registers (%st(1)), identifiers (labels with digits), strings and character literals;
//     - a self-check at start-up proves the guard works (and that the ARM/Thumb/Intel
//       engines read decimal), and throws an internal error if it does not.
// * SILENT SUCCESS. Keystone can report success while emitting nothing (`int $256`,
//   `movl %eax, $1`, `stmdb sp!, {r0-r12}^`, a Thumb `b` out of range) — and such a statement
//   silently wipes out the output of the *whole* source. We count statements (Keystone's own
//   `count` drops to 0) and raise AsmError "assembled to 0 bytes" naming the statement.
// * HANGS. Keystone loops forever (found by fuzzing) on a statement that starts with
//   punctuation (`%eax`, `,`, `*`, `(`, `=`), on a stray `:` in an operand, on `{` in an x86
//   operand, and on a malformed expression in a data directive (`.byte %eax`) or an
//   assignment. We reject those shapes before Keystone sees them (checkStatement); only data
//   and alignment directives are accepted, with sizes capped (`.space 100000000` takes ages).
// * WASM CRASHES. keystone-js passes the source on the 64 KiB wasm stack (ccall 'string');
//   a large source overflows it and corrupts the heap for good. We call ks_asm ourselves with
//   the source in malloc'd memory. Any other wasm trap becomes an AsmError, the poisoned
//   instance is dropped and a fresh one is loaded in the background.
// * WRONG BRANCHES. Out-of-range numeric branch targets are encoded silently wrong (ARM
//   `bl 0x4000000` at 0 -> a branch to 0; Thumb `cbz r0, 0x9100` at 0x8000; x86 `jmp` to a
//   33-bit address), and Thumb-2 conditional wide branches (`beq.w`, T3) always are. Every
//   branch to a numeric target is decoded again with Capstone and must land on the requested
//   address, or AsmError (in a multi-statement source: when statement offsets can be mapped).
//
// BRANCH TARGETS ARE ABSOLUTE (measured): with `addr` = the address of the first
// instruction, a numeric branch target is an absolute address, exactly as in GNU as:
//   arm  `b 0x8010` at 0x8000          -> 02 00 00 ea   (pc+8+2*4 = 0x8010)
//   x86  `jmp 0x1010` at 0x1000        -> eb 0e         (0x1002+0x0e)
//   x86  `call 0x1010` at 0x1000       -> e8 0b 00 00 00 (0x1005+0x0b)
// so a front-end can substitute label addresses as numbers and call assembleOne with the
// instruction's own address.

import { createRequire } from 'node:module';
import { disassemble } from './capstone.js';

export type AsmArch = 'arm' | 'thumb' | 'x86';
export type AsmSyntax = 'att' | 'intel';
export const ASM_ARCHES: readonly AsmArch[] = ['arm', 'thumb', 'x86'];
export const ASM_SYNTAXES: readonly AsmSyntax[] = ['att', 'intel'];

export interface AsmOptions {
  arch: AsmArch;
  /** x86 only: 'att' (GNU as style, the default) or 'intel'. Ignored for arm/thumb. */
  syntax?: AsmSyntax;
  /** Address of the first instruction (default 0). Numeric branch targets are absolute. */
  addr?: number;
}

/** The source could not be assembled. `insn` is the offending statement as the caller wrote it. */
export class AsmError extends Error {
  readonly insn: string;
  readonly reason: string;
  constructor(insn: string, reason: string) {
    super(`cannot assemble "${insn}": ${reason}`);
    this.name = 'AsmError';
    this.insn = insn;
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------------------
// The wasm module. keystone-js is an Emscripten CommonJS factory without type declarations;
// we use only ccall/getValue/setValue/_malloc/_free and call ks_* ourselves.

interface KsModule {
  ccall(name: string, ret: 'number' | 'string' | null, argTypes: string[], args: (number | bigint)[]): unknown;
  getValue(ptr: number, type: string): number;
  setValue(ptr: number, value: number, type: string): void;
  _malloc(size: number): number;
  _free(ptr: number): void;
  ARCH_ARM: number;
  ARCH_X86: number;
  MODE_ARM: number;
  MODE_THUMB: number;
  MODE_32: number;
  OPT_SYNTAX: number;
  OPT_SYNTAX_ATT: number;
}
type KsFactory = (moduleArg?: { print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<KsModule>;

type EngineKey = 'arm' | 'thumb' | 'x86-intel' | 'x86-att';

interface KsState {
  mod: KsModule;
  handles: Record<EngineKey, number>;
}

interface RawResult {
  bytes: Uint8Array;
  /** Keystone's statement count (labels count separately). */
  count: number;
  /** ks_strerror text when Keystone reported failure, else null. */
  error: string | null;
}

const requireCjs = createRequire(import.meta.url);
const factory = requireCjs('@alexaltea/keystone-js') as KsFactory;

/** Milliseconds the wasm module took to load and self-check at import (for reports). */
export let keystoneInitMs = 0;

let state: KsState | null = null;
let reviving: Promise<void> | null = null;

async function openState(): Promise<KsState> {
  // LLVM's diagnostics (e.g. "warning: use of SP in the list is deprecated") would go to
  // console.error and mess up the CLI's output: swallow them. Errors come back via ks_errno.
  const mod = await factory({ print: () => {}, printErr: () => {} });
  const open = (arch: number, mode: number): number => {
    const p = mod._malloc(4);
    try {
      const err = mod.ccall('ks_open', 'number', ['number', 'number', 'number'], [arch, mode, p]) as number;
      if (err !== 0) throw new Error(`trapdoor internal error: ks_open failed: ${strerror(mod, err)}`);
      return mod.getValue(p, '*');
    } finally {
      mod._free(p);
    }
  };
  // Order matters (see the radix bug above): engines that must read decimal first, and never
  // a ks_option on them; the AT&T engine last.
  const handles = {
    arm: open(mod.ARCH_ARM, mod.MODE_ARM),
    thumb: open(mod.ARCH_ARM, mod.MODE_THUMB),
    'x86-intel': open(mod.ARCH_X86, mod.MODE_32),
    'x86-att': open(mod.ARCH_X86, mod.MODE_32),
  };
  const err = mod.ccall('ks_option', 'number', ['number', 'number', 'number'], [
    handles['x86-att'],
    mod.OPT_SYNTAX,
    mod.OPT_SYNTAX_ATT,
  ]) as number;
  if (err !== 0) throw new Error(`trapdoor internal error: ks_option(AT&T) failed: ${strerror(mod, err)}`);
  return { mod, handles };
}

function strerror(mod: KsModule, code: number): string {
  return mod.ccall('ks_strerror', 'string', ['number'], [code]) as string;
}

/** One ks_asm call. The source goes through malloc'd memory, not the 64 KiB wasm stack. */
function ksAsm(s: KsState, key: EngineKey, source: string, addr: number): RawResult {
  const { mod } = s;
  const handle = s.handles[key];
  const text = Buffer.from(source + '\0', 'utf8');
  const src = mod._malloc(text.length);
  const out = mod._malloc(12);
  try {
    for (let i = 0; i < text.length; i++) mod.setValue(src + i, text[i]!, 'i8');
    const ret = mod.ccall('ks_asm', 'number', ['number', 'number', 'number', 'number', 'number', 'number'], [
      handle,
      src,
      BigInt(addr),
      out,
      out + 4,
      out + 8,
    ]) as number;
    const enc = mod.getValue(out, '*');
    const size = mod.getValue(out + 4, 'i32');
    const count = mod.getValue(out + 8, 'i32');
    const bytes = new Uint8Array(Math.max(0, size));
    for (let i = 0; i < bytes.length; i++) bytes[i] = mod.getValue(enc + i, 'i8') & 0xff;
    if (enc) mod.ccall('ks_free', null, ['number'], [enc]);
    let error: string | null = null;
    if (ret !== 0) error = strerror(mod, mod.ccall('ks_errno', 'number', ['number'], [handle]) as number);
    return { bytes, count, error };
  } finally {
    mod._free(out);
    mod._free(src);
  }
}

/** Run Keystone; a wasm trap becomes an AsmError and the poisoned instance is replaced. */
function runKs(key: EngineKey, source: string, addr: number, blame: string): RawResult {
  if (!state) {
    throw new AsmError(blame, 'the assembler is restarting after an internal crash; try again in a moment');
  }
  try {
    return ksAsm(state, key, source, addr);
  } catch (e) {
    if (e instanceof AsmError) throw e;
    // A trap inside wasm (RuntimeError: memory access out of bounds, unreachable, ...):
    // the module's memory can no longer be trusted. Load a fresh one in the background.
    state = null;
    reviving ??= openState().then(
      (s) => {
        state = s;
        reviving = null;
      },
      () => {
        reviving = null;
      },
    );
    throw new AsmError(blame, `Keystone crashed on this input (${(e as Error).message ?? String(e)})`);
  }
}

// ---------------------------------------------------------------------------------------
// Source text: statements, comments, the AT&T radix rewrite, and the checks that keep
// Keystone out of its infinite loops.

interface Statement {
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

const X86_PREFIXES = /^(?:lock|rep|repe|repz|repne|repnz|data16|data32|addr16|addr32)\s+(?=[A-Za-z])/i;

const IDENT_START = /[A-Za-z_.$]/;
const IDENT_CHAR = /[A-Za-z0-9_.$]/;

/** Split on `;` and newlines outside strings and character literals, dropping comments. */
function splitStatements(source: string, arch: AsmArch): string[] {
  const lineComment = arch === 'x86' ? '#' : '@';
  const out: string[] = [];
  let cur = '';
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (c === '"') {
      // string literal, with backslash escapes
      let j = i + 1;
      while (j < n && source[j] !== '"' && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      cur += source.slice(i, Math.min(j + 1, n));
      i = j + 1;
    } else if (c === "'") {
      // character literal: 'c, 'c' or '\n'
      let j = i + 1;
      if (source[j] === '\\') j += 2;
      else j += 1;
      if (source[j] === "'") j += 1;
      cur += source.slice(i, Math.min(j, n));
      i = j;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const body = source.slice(i, end < 0 ? n : end + 2);
      // a block comment spanning lines still ends the statement at each newline
      if (body.includes('\n')) {
        out.push(cur);
        cur = '';
      } else cur += ' ';
      i = end < 0 ? n : end + 2;
    } else if (c === lineComment) {
      while (i < n && source[i] !== '\n') i++;
    } else if (c === ';' || c === '\n') {
      out.push(cur);
      cur = '';
      i++;
    } else {
      cur += c;
      i++;
    }
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * AT&T only: rewrite decimal, GNU octal (017) and binary (0b101) literals to hex, so the
 * AT&T engine's radix-16 bug cannot bite. Identifiers, %registers (incl. %st(1)), strings
 * and character literals are left alone; so are hex literals and numbers with other suffixes
 * (1f/1b local labels, which Keystone rejects anyway).
 */
export function decimalsToHex(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "'") {
      let j = i + 1;
      j += text[j] === '\\' ? 2 : 1;
      if (text[j] === "'") j += 1;
      out += text.slice(i, j);
      i = j;
    } else if (c === '%') {
      // a register: %eax, %st, %st(1), %cr0, %mm7
      let j = i + 1;
      while (j < n && IDENT_CHAR.test(text[j]!)) j++;
      const m = /^\(\s*\d+\s*\)/.exec(text.slice(j));
      if (text.slice(i + 1, j).toLowerCase() === 'st' && m) j += m[0].length;
      out += text.slice(i, j);
      i = j;
    } else if (IDENT_START.test(c) && c !== '$') {
      let j = i + 1;
      while (j < n && IDENT_CHAR.test(text[j]!)) j++;
      out += text.slice(i, j);
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      const tok = text.slice(i, j);
      out += literalToHex(tok);
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function literalToHex(tok: string): string {
  let v: bigint | null = null;
  if (/^0[xX][0-9a-fA-F]+$/.test(tok)) return tok;
  if (/^0[bB][01]+$/.test(tok)) v = BigInt(tok);
  else if (/^0[0-7]+$/.test(tok)) v = BigInt('0o' + tok.slice(1));
  else if (/^(0|[1-9][0-9]*)$/.test(tok)) {
    v = BigInt(tok);
    if (v < 10n) return tok; // the same in every radix
  }
  return v === null ? tok : '0x' + v.toString(16);
}

const DATA_DIRECTIVES = new Set(['.byte', '.short', '.hword', '.word', '.long', '.int', '.quad']);
const STRING_DIRECTIVES = new Set(['.ascii', '.asciz', '.string']);
const ALIGN_DIRECTIVES = new Set(['.align', '.balign', '.p2align']);
const SPACE_DIRECTIVES = new Set(['.space', '.skip', '.zero']);
const MAX_SPACE = 0x100000;

/** Split a directive's arguments on commas outside strings and character literals. */
function splitArgs(rest: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < rest.length && rest[j] !== '"') j += rest[j] === '\\' ? 2 : 1;
      cur += rest.slice(i, j + 1);
      i = j;
    } else if (c === "'") {
      let j = i + 1;
      j += rest[j] === '\\' ? 2 : 1;
      if (rest[j] === "'") j += 1;
      cur += rest.slice(i, j);
      i = j - 1;
    } else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.length === 1 && out[0] === '' ? [] : out;
}

const EXPR_TOKEN =
  /^\s*(?:(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)(?![A-Za-z0-9_])|('(?:\\.|[^\\])'?)|([A-Za-z_.][A-Za-z0-9_.$]*)|(<<|>>|[-+*\/%|&^~!()]))/;

/**
 * Is `e` a plain GNU expression (numbers, symbols, character literals, + - * / % << >> | & ^,
 * unary - ~ !, parentheses)? Keystone loops forever on a malformed one in a data directive.
 */
function isSimpleExpr(e: string): boolean {
  let rest = e;
  let wantOperand = true;
  let depth = 0;
  while (rest.trim() !== '') {
    const m = EXPR_TOKEN.exec(rest);
    if (!m) return false;
    rest = rest.slice(m[0].length);
    const op = m[4];
    if (op === undefined) {
      if (!wantOperand) return false;
      wantOperand = false;
    } else if (op === '(') {
      if (!wantOperand) return false;
      depth++;
    } else if (op === ')') {
      if (wantOperand || depth === 0) return false;
      depth--;
    } else if (wantOperand) {
      if (!['-', '+', '~', '!'].includes(op)) return false;
    } else wantOperand = true;
  }
  return !wantOperand && depth === 0;
}

function parseNum(s: string): number | null {
  const t = s.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(t) || /^(0|[1-9][0-9]*)$/.test(t)) return Number(t);
  if (/^0[0-7]+$/.test(t)) return parseInt(t.slice(1), 8);
  return null;
}

/**
 * Classify a statement and reject the shapes that send Keystone into an infinite loop or a
 * huge allocation. Throws AsmError.
 */
function checkStatement(text: string, arch: AsmArch, syntax: AsmSyntax): Statement {
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 && ch !== '\t') {
      throw new AsmError(text, `unexpected control character U+${code.toString(16).padStart(4, '0')}`);
    }
    if (code > 0x7e) throw new AsmError(text, `unexpected character "${ch}" (only ASCII is accepted)`);
  }
  let body = text;
  let labels = 0;
  for (;;) {
    const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*):(?!:)\s*/.exec(body);
    if (!m) break;
    labels++;
    body = body.slice(m[0].length);
  }
  const att = arch === 'x86' && syntax === 'att';
  let prefixes = 0;
  if (arch === 'x86') {
    for (let b = body, m = X86_PREFIXES.exec(b); m; b = b.slice(m[0].length), m = X86_PREFIXES.exec(b)) prefixes++;
  }
  const mk = (kind: Statement['kind'], mustEmit = kind === 'instruction'): Statement => ({
    text,
    ks: att ? decimalsToHex(text) : text,
    labels,
    kind,
    mustEmit,
    ksCount: labels + (kind === 'label' ? 0 : 1 + prefixes),
  });
  if (body === '') return mk('label');
  if (!/^[A-Za-z_.]/.test(body)) {
    throw new AsmError(text, `expected an instruction mnemonic, a label or a directive, not "${body[0]}"`);
  }
  const word = /^[A-Za-z_.][A-Za-z0-9_.]*/.exec(body)![0];
  const rest = body.slice(word.length).trim();
  if (rest.startsWith('=')) {
    // `sym = expr`: Keystone loops on a malformed expression here too
    if (!isSimpleExpr(rest.slice(1))) throw new AsmError(text, `"${word} =" needs a number or a simple expression`);
    return mk('assignment');
  }
  if (word.startsWith('.')) {
    const d = word.toLowerCase();
    const args = splitArgs(rest);
    if (DATA_DIRECTIVES.has(d)) {
      const bad = args.find((a) => !isSimpleExpr(a));
      if (bad !== undefined) throw new AsmError(text, `${d} needs numbers or simple expressions, not "${bad}"`);
      return mk('directive', args.length > 0);
    }
    if (STRING_DIRECTIVES.has(d)) {
      const bad = args.find((a) => !/^"(?:\\.|[^"\\])*"$/.test(a));
      if (bad !== undefined) throw new AsmError(text, `${d} needs quoted strings, not ${bad === '' ? 'nothing' : `'${bad}'`}`);
      return mk('directive', d !== '.ascii' || args.some((a) => a.length > 2));
    }
    if (ALIGN_DIRECTIVES.has(d) || SPACE_DIRECTIVES.has(d)) {
      const nums = args.map(parseNum);
      if (args.length === 0 || args.length > 3 || nums.some((v) => v === null)) {
        throw new AsmError(text, `${d} needs plain numbers`);
      }
      const v = nums[0]!;
      const pow = d === '.p2align' || (d === '.align' && arch !== 'x86');
      if (SPACE_DIRECTIVES.has(d) ? v > MAX_SPACE : pow ? v > 12 : v > 4096) {
        throw new AsmError(text, `${d} ${v} is too large for this assembler`);
      }
      return mk('directive');
    }
    throw new AsmError(
      text,
      `directive ${word} is not supported here (only data, .align/.balign/.p2align and .space/.skip/.zero)`,
    );
  }
  // Operands: Keystone's parser loops forever on some shapes; refuse them here
  // (character literals like ':' or '{' are harmless, so they are blanked out first).
  const ops = rest.replace(/'(?:\\.|[^\\])'?/g, '0');
  if (arch === 'x86') {
    // AVX-512 {k} masks are of no use on i386, and a '{' sends Keystone into a loop.
    const brace = /[{}]/.exec(ops);
    if (brace) throw new AsmError(text, `unexpected "${brace[0]}"`);
    // a ':' must follow a segment register (%gs:0x10, gs:[0x10]) — anything else hangs AT&T.
    const re = /:/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(ops))) {
      const before = ops.slice(0, m.index);
      if (!/%?\b[cdefgs]s\s*$/i.test(before)) {
        throw new AsmError(text, 'unexpected ":" (only a segment override like %gs:0x10 may use one)');
      }
    }
  }
  if (arch !== 'x86') {
    // ':' only in #:lower16:sym / #:upper16:sym and [rN:align]; elsewhere Keystone can hang.
    const stripped = ops.replace(/#:(?:lower|upper)16:/gi, '#').replace(/\[\s*\w+\s*:\s*\d+\s*\]/g, '[]');
    if (stripped.includes(':')) throw new AsmError(text, 'unexpected ":"');
  }
  return mk('instruction');
}

function engineKey(opts: AsmOptions): EngineKey {
  switch (opts.arch) {
    case 'arm':
      return 'arm';
    case 'thumb':
      return 'thumb';
    case 'x86':
      return (opts.syntax ?? 'att') === 'intel' ? 'x86-intel' : 'x86-att';
    default:
      throw new TypeError(`unknown arch "${String((opts as { arch: unknown }).arch)}" (valid: arm, thumb, x86)`);
  }
}

function checkAddr(addr: number | undefined): number {
  const a = addr ?? 0;
  if (!Number.isSafeInteger(a) || a < 0 || a > 0xffffffff) {
    throw new RangeError(`address must be an integer in 0..0xffffffff, not ${a}`);
  }
  return a;
}

function parse(source: string, opts: AsmOptions): Statement[] {
  const syntax: AsmSyntax = opts.arch === 'x86' ? (opts.syntax ?? 'att') : 'intel';
  if (opts.arch === 'x86' && syntax !== 'att' && syntax !== 'intel') {
    throw new TypeError(`unknown syntax "${String(syntax)}" (valid: att, intel)`);
  }
  return splitStatements(source, opts.arch).map((t) => checkStatement(t, opts.arch, syntax));
}

// ---------------------------------------------------------------------------------------
// Branch verification: a numeric target must be where the encoded branch really goes.

const ARM_COND = '(?:eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?';
const ARM_BRANCH = new RegExp(`^(?:bl?x?${ARM_COND}(?:\\.[nw])?|cbn?z)\\s+(?:\\w+\\s*,\\s*)?#?(0[xX][0-9a-fA-F]+|[0-9]+)$`, 'i');
const X86_BRANCH =
  /^(?:jmpl?|calll?|j(?:n?[abceglopsz]|n?[abgl]e|p[eo]|e?cxz)|loopn?[ez]?)\s+(0[xX][0-9a-fA-F]+|[0-9]+)$/i;

function branchTarget(st: Statement, arch: AsmArch): number | null {
  if (st.kind !== 'instruction' || st.labels > 0) return null;
  const m = (arch === 'x86' ? X86_BRANCH : ARM_BRANCH).exec(st.text);
  if (!m) return null;
  let s = m[1]!;
  // AT&T decimals are what GNU as means; Intel/ARM engines read decimal correctly
  return Number(/^0[0-7]+$/.test(s) && arch === 'x86' ? BigInt('0o' + s.slice(1)) : BigInt(s));
}

/** `st` (the last statement of `bytes`) branches to a number: is that where it goes? */
function verifyBranch(st: Statement, bytes: Uint8Array, addr: number, opts: AsmOptions): void {
  const want = branchTarget(st, opts.arch);
  if (want === null) return;
  const hex = (v: number) => '0x' + v.toString(16);
  if (want > 0xffffffff) throw new AsmError(st.text, `branch target ${hex(want)} is beyond the 32-bit address space`);
  const insns = disassemble(bytes, { arch: opts.arch, syntax: 'intel', addr });
  const got = insns[insns.length - 1];
  const m = got ? /(?:#|\b)(0x[0-9a-f]+|[0-9]+)\s*$/i.exec(got.opStr) : null;
  const target = m ? Number(m[1]) : NaN;
  if (!got || got.mnemonic.startsWith('.') || target !== want) {
    throw new AsmError(
      st.text,
      Number.isNaN(target)
        ? `branch target ${hex(want)} is out of range from ${hex(addr)}`
        : `Keystone encoded a branch to ${hex(target)}, not ${hex(want)}: the target is out of range from ${hex(addr)}, ` +
            'or this is a Keystone encoding bug (Thumb-2 b<cond>.w is one)',
    );
  }
}

// ---------------------------------------------------------------------------------------
// The public functions.

/**
 * Group statements into units that Keystone must see together: a Thumb/ARM IT instruction
 * and the 1-4 conditional instructions of its block (`it eq; moveq r0, #1`); everything
 * else is a unit on its own.
 */
function units(stmts: Statement[], arch: AsmArch): Statement[][] {
  const out: Statement[][] = [];
  for (let i = 0; i < stmts.length; ) {
    const st = stmts[i]!;
    const m = arch !== 'x86' && st.kind === 'instruction' && st.labels === 0 ? /^it([te]{0,3})\s+\w+$/i.exec(st.text) : null;
    const n = m ? Math.min(1 + m[1]!.length, stmts.length - i - 1) : 0;
    out.push(stmts.slice(i, i + 1 + n));
    i += 1 + n;
  }
  return out;
}

const text = (u: Statement[]) => u.map((s) => s.text).join('; ');

/** One Keystone call for a unit; AsmError if it fails, emits nothing or branches wrong. */
function assembleUnit(unit: Statement[], opts: AsmOptions, addr: number, blame = text(unit)): Uint8Array {
  const r = runKs(engineKey(opts), unit.map((s) => s.ks).join('\n'), addr, blame);
  if (r.error !== null) throw new AsmError(blame, r.error);
  // Keystone's silent failures show up as a statement count that falls short (usually to 0).
  const expected = unit.reduce((n, s) => n + s.ksCount, 0);
  if (r.count < expected || (r.bytes.length === 0 && unit.some((s) => s.mustEmit))) {
    throw new AsmError(blame, 'assembled to 0 bytes (Keystone accepted it but emitted nothing)');
  }
  verifyBranch(unit[unit.length - 1]!, r.bytes, addr, opts);
  return r.bytes;
}

function assembleStatements(stmts: Statement[], opts: AsmOptions, addr: number, blame: string): Uint8Array {
  if (stmts.length === 0) return new Uint8Array(0);
  const us = units(stmts, opts.arch);
  if (us.length === 1) return assembleUnit(us[0]!, opts, addr, blame);
  const r = runKs(engineKey(opts), stmts.map((s) => s.ks).join('\n'), addr, blame);
  const expected = stmts.reduce((n, s) => n + s.ksCount, 0);
  if (r.error === null && r.count >= expected) {
    verifyBranches(us, opts, addr, r.bytes);
    return r.bytes;
  }
  // Find the culprit by assembling unit by unit. A unit that fails alone only for a missing
  // symbol may just use a label defined elsewhere: blame it only if nothing else fails.
  let a = addr;
  let missing: AsmError | null = null;
  for (const u of us) {
    let one: Uint8Array;
    try {
      one = assembleUnit(u, opts, a);
    } catch (e) {
      if (!(e instanceof AsmError)) throw e;
      if (/SYMBOL_MISSING/.test(e.reason)) {
        missing ??= e;
        continue;
      }
      throw e;
    }
    a = (a + one.length) >>> 0;
  }
  if (missing) throw missing;
  throw new AsmError(
    blame,
    r.error ?? `Keystone assembled ${r.count} of ${expected} statements and emitted ${r.bytes.length} bytes`,
  );
}

/**
 * Check the numeric branches of a multi-unit source. Best effort: each unit is assembled
 * alone to learn its offset; sources whose units cannot be (labels) or whose layout moves
 * (literal pools, alignment) are not checked.
 */
function verifyBranches(us: Statement[][], opts: AsmOptions, addr: number, all: Uint8Array): void {
  if (!us.some((u) => branchTarget(u[u.length - 1]!, opts.arch) !== null)) return;
  const parts: { u: Statement[]; off: number; len: number }[] = [];
  let off = 0;
  for (const u of us) {
    const r = runKs(engineKey(opts), u.map((s) => s.ks).join('\n'), (addr + off) >>> 0, text(u));
    if (r.error !== null) return;
    parts.push({ u, off, len: r.bytes.length });
    off += r.bytes.length;
  }
  if (off !== all.length) return;
  for (const p of parts) {
    verifyBranch(p.u[p.u.length - 1]!, all.subarray(p.off, p.off + p.len), (addr + p.off) >>> 0, opts);
  }
}

/**
 * Assemble instructions separated by `;` or newlines (labels and data/alignment directives
 * allowed; comments: `#` for x86, `@` for ARM, and C-style). x86 defaults to AT&T syntax.
 * Throws AsmError naming the statement that fails.
 */
export function assemble(source: string, opts: AsmOptions): Uint8Array {
  const addr = checkAddr(opts.addr);
  const stmts = parse(source, opts);
  return assembleStatements(stmts, opts, addr, text(stmts));
}

/**
 * Assemble exactly one instruction (or one data directive) at `opts.addr`. A Thumb IT
 * instruction may come with the instructions of its block (`it eq\nmoveq r0, #1`): they
 * are one unit for Keystone.
 */
export function assembleOne(insn: string, opts: AsmOptions): Uint8Array {
  const addr = checkAddr(opts.addr);
  const stmts = parse(insn, opts);
  const shown = insn.trim();
  const us = units(stmts, opts.arch);
  if (us.length !== 1 || us[0]!.every((s) => s.kind === 'label')) {
    const found = us.filter((u) => u.some((s) => s.kind !== 'label')).length;
    throw new AsmError(shown, `expected exactly one instruction, found ${found}`);
  }
  return assembleUnit(us[0]!, opts, addr, shown);
}

// ---------------------------------------------------------------------------------------
// Start-up: load the wasm module and prove the radix guard works.

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function selfCheck(): void {
  const checks: [string, AsmOptions, string][] = [
    ['movl $-8192,%eax', { arch: 'x86', syntax: 'att' }, 'b8 00 e0 ff ff'],
    ['mov eax, -8192', { arch: 'x86', syntax: 'intel' }, 'b8 00 e0 ff ff'],
    ['mov r7, #120', { arch: 'arm' }, '78 70 a0 e3'],
    ['movs r7, #120', { arch: 'thumb' }, '78 27'],
  ];
  for (const [src, opts, want] of checks) {
    let got: string;
    try {
      got = toHex(assembleOne(src, opts));
    } catch (e) {
      got = `error: ${(e as Error).message}`;
    }
    if (got !== want) {
      throw new Error(
        `trapdoor internal error: Keystone's radix guard failed: "${src}" (${opts.arch}${opts.syntax ? ' ' + opts.syntax : ''}) ` +
          `assembled to ${got}, expected ${want}. Every decimal literal would be misread; refusing to continue.`,
      );
    }
  }
}

{
  const t0 = performance.now();
  state = await openState();
  selfCheck();
  keystoneInitMs = performance.now() - t0;
}
