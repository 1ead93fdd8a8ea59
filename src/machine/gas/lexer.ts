// Lexer: source text → statements (comments removed, `;` split, labels peeled off),
// and statement text → tokens for expressions and operands.

import { GasError, ReasonError, type SrcLoc } from './errors.js';

export type Arch = 'arm' | 'x86';

/** One statement: leading labels, then a directive, an assignment, an instruction, or nothing. */
export interface Statement {
  readonly loc: SrcLoc;
  readonly labels: readonly string[];
  readonly body:
    | { kind: 'empty' }
    | { kind: 'directive'; name: string; args: string }
    | { kind: 'assign'; name: string; expr: string }
    | { kind: 'insn'; mnemonic: string; operands: string };
  /** The statement's own text (labels and comments removed), for the line table. */
  readonly text: string;
}

const IDENT_START: Record<Arch, RegExp> = { arm: /[A-Za-z_.$]/, x86: /[A-Za-z_.]/ };
const IDENT_CHAR: Record<Arch, RegExp> = { arm: /[A-Za-z0-9_.$]/, x86: /[A-Za-z0-9_.$]/ };

/** Skips a char constant starting at s[i] === "'"; returns the index after it. */
function skipCharConst(s: string, i: number): number {
  let j = i + 1;
  if (s[j] === '\\') j += 2;
  else j += 1;
  if (s[j] === "'") j += 1;
  return Math.min(j, s.length);
}

/** Skips a string literal starting at s[i] === '"'; returns the index after the closing quote. */
function skipString(s: string, i: number): number {
  let j = i + 1;
  while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
  return Math.min(j + 1, s.length);
}

/** Splits source into statements with their location, removing comments. */
function splitStatements(source: string, arch: Arch, file: string): { loc: SrcLoc; text: string }[] {
  const lines = source.split(/\r?\n/);
  const out: { loc: SrcLoc; text: string }[] = [];
  let inBlock = false;
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    const loc: SrcLoc = { file, line: n + 1, text: raw };
    let cur = '';
    let i = 0;
    const flush = (): void => {
      out.push({ loc, text: cur });
      cur = '';
    };
    // ARM: '#' starts a comment only at the start of a line; x86: anywhere.
    if (!inBlock && arch === 'arm' && /^\s*#/.test(raw)) {
      out.push({ loc, text: '' });
      continue;
    }
    while (i < raw.length) {
      if (inBlock) {
        const end = raw.indexOf('*/', i);
        if (end < 0) {
          i = raw.length;
          break;
        }
        inBlock = false;
        cur += ' ';
        i = end + 2;
        continue;
      }
      const c = raw[i]!;
      if (c === '/' && raw[i + 1] === '*') {
        inBlock = true;
        i += 2;
        continue;
      }
      if (c === '/' && raw[i + 1] === '/') break;
      if (arch === 'arm' && c === '@') break;
      if (arch === 'x86' && c === '#') break;
      if (c === '"') {
        const j = skipString(raw, i);
        cur += raw.slice(i, j);
        i = j;
        continue;
      }
      if (c === "'") {
        const j = skipCharConst(raw, i);
        cur += raw.slice(i, j);
        i = j;
        continue;
      }
      if (c === ';') {
        flush();
        i++;
        continue;
      }
      cur += c;
      i++;
    }
    flush();
  }
  return out;
}

const X86_PREFIXES = new Set([
  'rep', 'repe', 'repz', 'repne', 'repnz', 'lock', 'data16', 'data32', 'addr16', 'addr32',
]);

/** Parses one statement's text (comment-free) into labels and body. */
function parseStatement(loc: SrcLoc, text: string, arch: Arch): Statement {
  const labels: string[] = [];
  let rest = text.trim();
  const labelRe = arch === 'arm' ? /^([A-Za-z_.$][A-Za-z0-9_.$]*|\d+)\s*:(?!:)/ : /^([A-Za-z_.][A-Za-z0-9_.$]*|\d+)\s*:(?!:)/;
  for (;;) {
    const m = labelRe.exec(rest);
    if (!m) break;
    labels.push(m[1]!);
    rest = rest.slice(m[0].length).trim();
  }
  if (rest === '') return { loc, labels, body: { kind: 'empty' }, text: '' };
  const assign = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)\s*(.*)$/.exec(rest);
  if (assign && assign[1] !== '.') {
    return { loc, labels, body: { kind: 'assign', name: assign[1]!, expr: assign[2]! }, text: rest };
  }
  if (assign && assign[1] === '.') {
    throw new GasError(loc, 'assignment to `.\' is not supported (use .space or .org)');
  }
  if (rest.startsWith('.')) {
    const m = /^(\.[A-Za-z0-9_.$]*)\s*(.*)$/.exec(rest)!;
    return { loc, labels, body: { kind: 'directive', name: m[1]!.toLowerCase(), args: m[2]!.trim() }, text: rest };
  }
  const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(.*)$/.exec(rest);
  if (!m) throw new GasError(loc, `junk at start of statement: '${rest}'`);
  let mnemonic = m[1]!.toLowerCase();
  let operands = m[2]!.trim();
  if (arch === 'x86' && X86_PREFIXES.has(mnemonic)) {
    const m2 = /^([A-Za-z][A-Za-z0-9]*)\s*(.*)$/.exec(operands);
    if (m2) {
      mnemonic = `${mnemonic} ${m2[1]!.toLowerCase()}`;
      operands = m2[2]!.trim();
    }
  }
  return { loc, labels, body: { kind: 'insn', mnemonic, operands }, text: rest };
}

/** Source → statements. Throws GasError on lexical errors. */
export function parseSource(source: string, arch: Arch, file: string): Statement[] {
  return splitStatements(source, arch, file).map(({ loc, text }) => parseStatement(loc, text, arch));
}

// ---------------------------------------------------------------------------
// Tokens

export type Token =
  | { kind: 'num'; value: bigint; start: number; end: number }
  | { kind: 'ident'; name: string; display?: string; start: number; end: number }
  /** A local label reference such as `1b` or `2f`. */
  | { kind: 'local'; label: string; dir: 'b' | 'f'; start: number; end: number }
  | { kind: 'str'; bytes: number[]; start: number; end: number }
  /** An x86 AT&T register such as `%eax`. */
  | { kind: 'reg'; name: string; start: number; end: number }
  | { kind: 'op'; op: string; start: number; end: number }
  /** Text passed through untouched (floating-point literals). */
  | { kind: 'raw'; text: string; start: number; end: number };

const OPS3: string[] = [];
const OPS2 = ['<<', '>>', '<=', '>=', '==', '!=', '<>', '&&', '||'];

/** Decodes one escape sequence in a string/char literal starting after the backslash. */
function decodeEscape(s: string, i: number): { code: number; next: number } {
  const c = s[i];
  if (c === undefined) throw new ReasonError('unterminated escape sequence');
  switch (c) {
    case 'n': return { code: 10, next: i + 1 };
    case 't': return { code: 9, next: i + 1 };
    case 'r': return { code: 13, next: i + 1 };
    case 'b': return { code: 8, next: i + 1 };
    case 'f': return { code: 12, next: i + 1 };
    case 'v': return { code: 11, next: i + 1 };
    case 'a': return { code: 7, next: i + 1 };
    case 'e': return { code: 27, next: i + 1 };
    case '\\': return { code: 92, next: i + 1 };
    case '"': return { code: 34, next: i + 1 };
    case "'": return { code: 39, next: i + 1 };
    case 'x':
    case 'X': {
      let j = i + 1;
      let v = 0;
      while (j < s.length && /[0-9a-fA-F]/.test(s[j]!)) v = (v * 16 + parseInt(s[j++]!, 16)) & 0xff;
      if (j === i + 1) throw new ReasonError('\\x used with no following hex digits');
      return { code: v, next: j };
    }
    default:
      if (/[0-7]/.test(c)) {
        let j = i;
        let v = 0;
        while (j < s.length && j < i + 3 && /[0-7]/.test(s[j]!)) v = v * 8 + (s.charCodeAt(j++) - 48);
        return { code: v & 0xff, next: j };
      }
      return { code: c.charCodeAt(0), next: i + 1 };
  }
}

/** Decodes a string literal's body (between the quotes) into bytes (UTF-8 for non-ASCII). */
function decodeString(s: string, start: number): { bytes: number[]; end: number } {
  const bytes: number[] = [];
  let i = start + 1;
  while (i < s.length && s[i] !== '"') {
    if (s[i] === '\\') {
      const e = decodeEscape(s, i + 1);
      bytes.push(e.code);
      i = e.next;
    } else {
      const cp = s.codePointAt(i)!;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  if (s[i] !== '"') throw new ReasonError('missing closing `"\'');
  return { bytes, end: i + 1 };
}

function parseNumber(s: string, start: number, arch: Arch): Token {
  const rest = s.slice(start);
  let m: RegExpExecArray | null;
  const identChar = IDENT_CHAR[arch];
  const after = (len: number): string | undefined => s[start + len];
  // Local label reference: digits followed by b or f, not followed by an identifier character.
  m = /^(\d+)([bf])/.exec(rest);
  if (m && !(m[1] === '0' && m[2] === 'b' && /[01]/.test(after(2) ?? ''))) {
    const nxt = after(m[0].length);
    if (nxt === undefined || !identChar.test(nxt)) {
      return { kind: 'local', label: m[1]!, dir: m[2] as 'b' | 'f', start, end: start + m[0].length };
    }
  }
  let value: bigint;
  let len: number;
  if ((m = /^0[xX]([0-9a-fA-F]+)/.exec(rest))) {
    value = BigInt('0x' + m[1]);
    len = m[0].length;
  } else if ((m = /^0[bB]([01]+)/.exec(rest))) {
    value = BigInt('0b' + m[1]);
    len = m[0].length;
  } else if ((m = /^0([0-7]+)/.exec(rest))) {
    value = BigInt('0o' + m[1]);
    len = m[0].length;
  } else {
    m = /^\d+/.exec(rest)!;
    value = BigInt(m[0]);
    len = m[0].length;
  }
  const nxt = after(len);
  if (nxt !== undefined && identChar.test(nxt)) {
    const bad = /^[0-9A-Za-z_.$]+/.exec(rest)![0];
    throw new ReasonError(`bad number '${bad}'`);
  }
  return { kind: 'num', value, start, end: start + len };
}

/** Tokenizes operand or directive-argument text. Throws ReasonError on bad input. */
export function tokenize(s: string, arch: Arch): Token[] {
  const out: Token[] = [];
  const identStart = IDENT_START[arch];
  const identChar = IDENT_CHAR[arch];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const f = /^\d+\.\d*(?:[eE][-+]?\d+)?|^\d+[eE][-+]?\d+/.exec(s.slice(i));
      if (f) {
        out.push({ kind: 'raw', text: f[0], start: i, end: i + f[0].length });
        i += f[0].length;
        continue;
      }
      const t = parseNumber(s, i, arch);
      out.push(t);
      i = t.end;
      continue;
    }
    if (identStart.test(c)) {
      let j = i + 1;
      while (j < s.length && identChar.test(s[j]!)) j++;
      out.push({ kind: 'ident', name: s.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    if (c === '%' && arch === 'x86' && /[A-Za-z]/.test(s[i + 1] ?? '')) {
      let j = i + 1;
      while (j < s.length && /[A-Za-z0-9]/.test(s[j]!)) j++;
      out.push({ kind: 'reg', name: s.slice(i + 1, j).toLowerCase(), start: i, end: j });
      i = j;
      continue;
    }
    if (c === '"') {
      const { bytes, end } = decodeString(s, i);
      out.push({ kind: 'str', bytes, start: i, end });
      i = end;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      let code: number;
      if (s[j] === '\\') {
        const e = decodeEscape(s, j + 1);
        code = e.code;
        j = e.next;
      } else if (j < s.length) {
        code = s.charCodeAt(j);
        j++;
      } else throw new ReasonError('bad character constant');
      if (s[j] === "'") j++;
      out.push({ kind: 'num', value: BigInt(code), start: i, end: j });
      i = j;
      continue;
    }
    const op = [...OPS3, ...OPS2].find((o) => s.startsWith(o, i)) ?? c;
    if (!/[-+*/%&|^~!()[\]{},#$=:<>?!]/.test(op[0]!)) throw new ReasonError(`unexpected character '${c}'`);
    out.push({ kind: 'op', op, start: i, end: i + op.length });
    i += op.length;
  }
  return out;
}

/** Splits a token list at top-level commas (outside (), [] and {}). */
export function splitCommas(tokens: Token[]): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op') {
      if (t.op === '(' || t.op === '[' || t.op === '{') depth++;
      else if (t.op === ')' || t.op === ']' || t.op === '}') depth--;
      else if (t.op === ',' && depth === 0) {
        parts.push([]);
        continue;
      }
    }
    parts[parts.length - 1]!.push(t);
  }
  return parts;
}
