// i386 instructions: direct jumps/calls to labels are encoded here (with GNU as's
// short-then-near relaxation), everything else goes to keystone after symbol
// folding. In Intel syntax, `offset sym` is an immediate and a bare label operand
// is a memory reference (GNU as semantics, unlike keystone's).

import type { InsnContext } from './context.js';
import { ReasonError } from './errors.js';
import { evaluate, hex, parseExpr, symbolsOf, type Expr } from './expr.js';
import type { Frag } from './frags.js';
import { splitCommas, type Token } from './lexer.js';
import { foldOperands } from './operands.js';

type InsnFrag = Extract<Frag, { kind: 'insn' }>;

const CC: Record<string, number> = {
  o: 0, no: 1, b: 2, c: 2, nae: 2, ae: 3, nb: 3, nc: 3, e: 4, z: 4, ne: 5, nz: 5, be: 6, na: 6,
  a: 7, nbe: 7, s: 8, ns: 9, p: 10, pe: 10, np: 11, po: 11, l: 12, nge: 12, ge: 13, nl: 13,
  le: 14, ng: 14, g: 15, nle: 15,
};
const LOOPS: Record<string, number[]> = {
  loop: [0xe2], loope: [0xe1], loopz: [0xe1], loopne: [0xe0], loopnz: [0xe0], jecxz: [0xe3], jcxz: [0x67, 0xe3],
};
const SIZE_WORDS = new Set(['byte', 'word', 'dword', 'qword', 'tbyte', 'fword', 'ptr']);

const rel32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** A direct branch: mnemonic class and its target tokens, or null if not one. */
function directBranch(frag: InsnFrag): { kind: 'jmp' | 'call' | 'jcc' | 'loop'; cc: number; toks: Token[] } | null {
  let mn = frag.mnemonic;
  if (frag.mode === 'att' && (mn === 'calll' || mn === 'jmpl')) mn = mn.slice(0, -1);
  let toks = frag.tokens;
  if (frag.mode === 'intel' && toks[0]?.kind === 'ident' && /^(short|near)$/i.test(toks[0].name)) {
    toks = toks.slice(1);
    if (toks[0]?.kind === 'ident' && toks[0].name.toLowerCase() === 'ptr') toks = toks.slice(1);
  }
  if (toks.length === 0) return null;
  // Indirect or register/memory operands go to keystone.
  for (const t of toks) {
    if (t.kind === 'reg') return null;
    if (t.kind === 'op' && ((t.op === '*' && t === toks[0]) || t.op === '[' || t.op === '$' || t.op === ':')) return null;
  }
  if (frag.mode === 'att' && toks.some((t) => t.kind === 'op' && t.op === '(') && toks.some((t) => t.kind === 'reg')) return null;
  // `jmp eax`: a register (Intel syntax).
  if (frag.mode === 'intel' && toks.length === 1 && toks[0]!.kind === 'ident' && /^(e?[abcd]x|e?[sd]i|e?[bs]p)$/i.test(toks[0].name)) {
    return null;
  }
  if (mn === 'jmp') return { kind: 'jmp', cc: 0, toks };
  if (mn === 'call') return { kind: 'call', cc: 0, toks };
  if (LOOPS[mn]) return { kind: 'loop', cc: 0, toks };
  const m = /^j(\w+)$/.exec(mn);
  if (m && CC[m[1]!] !== undefined) return { kind: 'jcc', cc: CC[m[1]!]!, toks };
  return null;
}

export function encodeX86(frag: InsnFrag, ctx: InsnContext): Uint8Array {
  const br = directBranch(frag);
  if (br) {
    const tv = evaluate(parseExpr(br.toks, 'branch target'), ctx.env);
    const target = Number(BigInt.asUintN(32, tv.value));
    const a = ctx.addr;
    // GNU as relaxes jumps to labels only; a numeric (absolute) target gets the 32-bit form.
    const fits8 = (len: number): boolean => {
      const off = target - (a + len);
      return tv.reloc !== 0 && off >= -128 && off <= 127;
    };
    const rel = (len: number): number => (target - (a + len)) | 0;
    switch (br.kind) {
      case 'call':
        return Uint8Array.from([0xe8, ...rel32(rel(5))]);
      case 'jmp':
        if (ctx.minSize <= 2 && fits8(2)) return Uint8Array.of(0xeb, rel(2) & 0xff);
        return Uint8Array.from([0xe9, ...rel32(rel(5))]);
      case 'jcc':
        if (ctx.minSize <= 2 && fits8(2)) return Uint8Array.of(0x70 | br.cc, rel(2) & 0xff);
        return Uint8Array.from([0x0f, 0x80 | br.cc, ...rel32(rel(6))]);
      case 'loop': {
        const op = LOOPS[frag.mnemonic]!;
        const len = op.length + 1;
        const off = target - (a + len);
        if ((off < -128 || off > 127) && ctx.final) {
          throw new ReasonError(`branch out of range: ${frag.mnemonic} reaches only -128..127 bytes (offset ${target - (a + len)})`);
        }
        return Uint8Array.from([...op, rel(len) & 0xff]);
      }
    }
  }

  let tokens = frag.tokens;
  let text = frag.operands;
  const offsetStarts = new Set<number>();
  if (frag.mode === 'intel') {
    // Drop `offset` keywords (blank them out so token positions stay valid) and remember what followed.
    const kept: Token[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.kind === 'ident' && t.name.toLowerCase() === 'offset' && tokens[i + 1]) {
        text = text.slice(0, t.start) + ' '.repeat(t.end - t.start) + text.slice(t.end);
        offsetStarts.add(tokens[i + 1]!.start);
        continue;
      }
      kept.push(t);
    }
    tokens = kept;
  }
  const knownNow = (e: Expr): boolean =>
    [...symbolsOf(e)].every((n) => {
      const d = ctx.symbol(n);
      return d !== undefined && d.seq < frag.seq;
    });
  const parts = splitCommas(tokens);
  const partOf = (idx: number): Token[] | undefined => parts.find((p) => p.includes(tokens[idx]!));
  const fold = (format: (value: bigint, spanIdx: number) => string) => {
    let k = 0;
    return foldOperands(text, tokens, {
      mode: frag.mode,
      env: ctx.env,
      isSymbol: (n) => ctx.isSymbol(n),
      replace: (expr, value, reloc, span) => {
        const shown = format(value, k++);
        if (frag.mode !== 'intel') return shown;
        const first = tokens[span.first]!;
        if (offsetStarts.has(first.start)) return shown;
        // A constant GNU as already knows is an immediate; an address, or a symbol
        // defined further down, is a memory operand.
        if (reloc === 0 && knownNow(expr)) return shown;
        let depth = 0;
        for (let i = 0; i < span.first; i++) {
          const t = tokens[i]!;
          if (t.kind === 'op' && t.op === '[') depth++;
          if (t.kind === 'op' && t.op === ']') depth--;
        }
        if (depth > 0) return shown;
        const part = partOf(span.first);
        if (!part) return shown;
        const before = part.slice(0, part.indexOf(first));
        const isWhole = part.indexOf(tokens[span.end - 1]!) === part.length - 1 &&
          before.every((t) => t.kind === 'ident' && SIZE_WORDS.has(t.name.toLowerCase()));
        // GNU as (Intel syntax): a bare label operand is a memory reference.
        return isWhole ? `[${shown}]` : shown;
      },
    });
  };
  const folded = fold((v) => hex(v));
  const insn = (ops: string): string => `${frag.mnemonic} ${ops}`.trim();

  // GNU as picks 8-bit immediates/displacements only for values it knows when it reads
  // the line; addresses and symbols defined later get 32-bit fields. Keystone sees only
  // numbers, so encode with 32-bit placeholders and patch the real values in.
  const wide = folded.spans.map((sp) => sp.reloc !== 0 || !knownNow(sp.expr));
  if (wide.some(Boolean)) {
    const placeholder = (k: number): number => 0x7e5a3c00 + k * 0x11;
    const withPh = fold((v, k) => (wide[k] ? hex(placeholder(k)) : hex(v)));
    let bytes: Uint8Array | undefined;
    try {
      bytes = ctx.ks(insn(withPh.text), frag.mode, ctx.addr);
    } catch {
      bytes = undefined;
    }
    if (bytes) {
      const out = Uint8Array.from(bytes);
      const ok = folded.spans.every((sp, k) => {
        if (!wide[k]) return true;
        const ph = placeholder(k);
        const at = findLE32(out, ph);
        if (at < 0) return false;
        const v = Number(BigInt.asUintN(32, sp.value));
        out.set([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff], at);
        return true;
      });
      if (ok) return out;
    }
  }
  return ctx.ks(insn(folded.text), frag.mode, ctx.addr);
}

function findLE32(b: Uint8Array, v: number): number {
  for (let i = 0; i + 4 <= b.length; i++) {
    if (b[i] === (v & 0xff) && b[i + 1] === ((v >>> 8) & 0xff) && b[i + 2] === ((v >>> 16) & 0xff) && b[i + 3] === ((v >>> 24) & 0xff)) return i;
  }
  return -1;
}
