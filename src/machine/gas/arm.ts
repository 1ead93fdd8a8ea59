// ARM and Thumb instructions: the forms GNU as handles itself (branches to labels,
// `ldr rX, =value` with literal pools, `adr`, pc-relative `ldr rX, label`,
// instructions inside IT blocks) and the plain rest via keystone.

import type { InsnContext } from './context.js';
import { ReasonError } from './errors.js';
import { evaluate, hex, parseExpr, symbolsOf, type Expr } from './expr.js';
import type { Frag } from './frags.js';
import { splitCommas, type Token } from './lexer.js';
import { foldOperands } from './operands.js';
import {
  armBlx, armBranch, armReg, isArmImm, isThumbImm, thumbB16, thumbB32, thumbBl, thumbBlx, thumbCbz,
} from './arm-encode.js';

type InsnFrag = Extract<Frag, { kind: 'insn' }>;

const CONDS = 'eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al';
const BRANCH_RE = new RegExp(`^(blx|bl|b)(${CONDS})?(\\.w|\\.n)?$`);
const CBZ_RE = /^(cbnz|cbz)(\.n)?$/;
const LDR_RE = new RegExp(`^(ldr|str)(b|h|sb|sh|d)?(${CONDS})?(\\.w|\\.n)?$`);
const ADR_RE = new RegExp(`^adr(${CONDS})?(\\.w|\\.n)?$`);

/** The operand text covered by a token range. */
function textOf(frag: InsnFrag, toks: Token[]): string {
  if (toks.length === 0) return '';
  return frag.operands.slice(toks[0]!.start, toks[toks.length - 1]!.end);
}

function u32(v: bigint, what: string): number {
  if (v < -(1n << 31n) || v >= 1n << 32n) throw new ReasonError(`${what} 0x${v.toString(16)} does not fit in 32 bits`);
  return Number(BigInt.asUintN(32, v));
}

export function encodeArm(frag: InsnFrag, ctx: InsnContext): Uint8Array {
  const thumb = frag.mode === 'thumb';
  const mn = frag.mnemonic;
  const parts = splitCommas(frag.tokens);

  // Keystone call, wrapped in an IT instruction when inside an IT block.
  const ks = (text: string): Uint8Array => {
    if (frag.itCond) {
      const bytes = ctx.ks(`it ${frag.itCond}\n${text}`, 'thumb', ctx.addr - 2);
      return bytes.slice(2);
    }
    return ctx.ks(text, frag.mode, ctx.addr);
  };
  const wide = (q: string | undefined): boolean => q === '.w' || ctx.minSize >= 4;

  let m: RegExpExecArray | null;
  if ((m = BRANCH_RE.exec(mn)) && !(parts.length === 1 && parts[0]!.length === 1 && parts[0]![0]!.kind === 'ident' && armReg(parts[0]![0]!.name) !== undefined)) {
    if (parts.length !== 1) throw new ReasonError(`${mn} expects one target operand`);
    let kind = m[1] as 'b' | 'bl' | 'blx';
    const cond = m[2] ?? '';
    const q = m[3];
    const expr = parseExpr(parts[0]!, 'branch target');
    const value = u32(evaluate(expr, ctx.env).value, 'branch target');
    // Bit 0 marks a Thumb function. Calls to a function of the other instruction set
    // become blx (as GNU as does for local functions).
    const toThumbFn = (value & 1) === 1;
    const target = (value & ~1) >>> 0;
    const targetDef = expr.kind === 'sym' ? ctx.symbol(expr.name) : undefined;
    const toArmFn = targetDef?.kind === 'label' && targetDef.func && !targetDef.thumb;
    if (!thumb && toThumbFn) {
      if (kind === 'bl') kind = 'blx';
      else if (kind === 'b' && ctx.final) throw new ReasonError('b cannot switch to Thumb code (use bx or blx)');
    }
    if (thumb && kind === 'bl' && toArmFn) kind = 'blx';
    const check = ctx.final;
    if (!thumb) {
      if (kind === 'blx') {
        if (cond && cond !== 'al') throw new ReasonError('blx to a label cannot be conditional');
        return armBlx(ctx.addr, target, check);
      }
      return armBranch(kind, cond, ctx.addr, target, check);
    }
    const effCond = frag.itCond ? '' : cond;
    if (frag.itCond && cond && cond !== frag.itCond) throw new ReasonError(`condition ${cond} does not match the IT block (${frag.itCond})`);
    if (kind === 'bl') {
      if (effCond && effCond !== 'al') throw new ReasonError('bl cannot be conditional outside an IT block');
      return thumbBl(ctx.addr, target, check);
    }
    if (kind === 'blx') {
      if (effCond && effCond !== 'al') throw new ReasonError('blx cannot be conditional outside an IT block');
      return thumbBlx(ctx.addr, target, check);
    }
    if (!wide(q)) {
      const short = thumbB16(effCond, ctx.addr, target);
      if (short) return short;
      if (q === '.n' && check) throw new ReasonError(`branch out of range for ${mn}`);
    }
    return thumbB32(effCond, ctx.addr, target, check);
  }

  if ((m = CBZ_RE.exec(mn))) {
    if (!thumb) throw new ReasonError(`${mn} is only available in Thumb code`);
    if (parts.length !== 2) throw new ReasonError(`${mn} expects a register and a target`);
    const reg = parts[0]!.length === 1 && parts[0]![0]!.kind === 'ident' ? armReg(parts[0]![0]!.name) : undefined;
    if (reg === undefined || reg > 7) throw new ReasonError(`${mn} needs a low register (r0-r7)`);
    const target = (u32(evaluate(parseExpr(parts[1]!, 'branch target'), ctx.env).value, 'branch target') & ~1) >>> 0;
    return thumbCbz(m[1] === 'cbnz', reg, ctx.addr, target, ctx.final);
  }

  const eqIdx = frag.tokens.findIndex((t) => t.kind === 'op' && t.op === '=');
  if ((m = LDR_RE.exec(mn)) && m[1] === 'ldr' && eqIdx >= 0) {
    return literalLoad(frag, ctx, m, parts, ks, wide(m[4]));
  }

  if ((m = ADR_RE.exec(mn))) {
    return adr(frag, ctx, m, parts, ks, wide(m[2]));
  }

  if ((m = LDR_RE.exec(mn)) && parts.length >= 2) {
    const last = parts[parts.length - 1]!;
    const f = last[0];
    const isPlainExpr = f && !(f.kind === 'op' && (f.op === '[' || f.op === '=' || f.op === '#' || f.op === '{'));
    // `ldr r0, [r1], -r2` (post-indexed register) is not a label.
    const hasReg = last.some((t) => t.kind === 'ident' && armReg(t.name) !== undefined);
    if (isPlainExpr && !hasReg) return pcRelative(frag, ctx, m, parts, ks);
  }

  // Operands that are keywords, not expressions: IT conditions, barrier options,
  // CPS interrupt flags, SETEND endianness.
  if (/^(it[te]{0,3}|dmb|dsb|isb|cps(ie|id)?(\.w)?|setend)$/.test(mn)) return ks(`${mn} ${frag.operands}`.trim());

  const folded = foldOperands(frag.operands, frag.tokens, {
    mode: frag.mode, env: ctx.env, isSymbol: (n) => ctx.isSymbol(n),
  });
  let ops = folded.text.trim();
  let mnem = mn;
  if (thumb) [mnem, ops] = gnuThumbForm(mnem, ops);
  let bytes: Uint8Array;
  try {
    bytes = ks(`${mnem} ${ops}`.trim());
  } catch (e) {
    // GNU as also accepts an immediate its instruction cannot encode when the
    // complementary instruction can (sub #-1 → add #1, mov #~x → mvn #x …).
    const alt = invertedImmediate(mnem, ops);
    if (!alt) throw e;
    try {
      bytes = ks(alt);
    } catch {
      throw e;
    }
  }
  if (bytes.length < ctx.minSize && thumb && !/\.[wn]$/.test(mnem)) bytes = ks(`${mnem}.w ${ops}`.trim());
  return bytes;
}

const LOW_REG = /^r[0-7]$/i;

/** Thumb forms rewritten to the encoding GNU as picks where keystone (LLVM) picks another. */
function gnuThumbForm(mn: string, ops: string): [string, string] {
  const m = new RegExp(`^(add|sub)(s?)(${CONDS})?$`).exec(mn);
  if (m) {
    // add rd, rd, #imm: GNU uses the two-operand 8-bit immediate encoding (T2).
    const o = /^(r[0-7])\s*,\s*(r[0-7])\s*,\s*(#.*)$/i.exec(ops);
    if (o && o[1]!.toLowerCase() === o[2]!.toLowerCase() && LOW_REG.test(o[1]!)) return [mn, `${o[1]}, ${o[3]}`];
  }
  const mv = new RegExp(`^mov(${CONDS})?$`).exec(mn);
  if (mv) {
    // mov rd, #imm (no flags): GNU prefers the modified-immediate mov.w over movw.
    const o = /^(\w+)\s*,\s*#\s*(-?(?:0x[0-9a-f]+|\d+))$/i.exec(ops);
    if (o) {
      const v = Number(BigInt.asUintN(32, BigInt(o[2]!.startsWith('-') ? -BigInt(o[2]!.slice(1)) : BigInt(o[2]!))));
      if (v > 0xff && isThumbImm(v)) return [`${mn}.w`, ops];
    }
  }
  return [mn, ops];
}

const INVERSE_OPS: Record<string, [string, 'neg' | 'not']> = {
  add: ['sub', 'neg'], sub: ['add', 'neg'], cmp: ['cmn', 'neg'], cmn: ['cmp', 'neg'],
  mov: ['mvn', 'not'], mvn: ['mov', 'not'], and: ['bic', 'not'], bic: ['and', 'not'],
  adc: ['sbc', 'not'], sbc: ['adc', 'not'], orr: ['orn', 'not'], orn: ['orr', 'not'],
};

/** The complementary instruction with the transformed immediate, or null. */
function invertedImmediate(mn: string, ops: string): string | null {
  const m = new RegExp(`^(add|sub|cmp|cmn|mov|mvn|and|bic|adc|sbc|orr|orn)(s?)(${CONDS})?(\\.[wn])?$`).exec(mn);
  const o = /^(.*#\s*)(-?(?:0x[0-9a-f]+|\d+))\s*$/i.exec(ops);
  if (!m || !o) return null;
  const [other, how] = INVERSE_OPS[m[1]!]!;
  const raw = o[2]!;
  const v = raw.startsWith('-') ? -BigInt(raw.slice(1)) : BigInt(raw);
  const nv = BigInt.asUintN(32, how === 'neg' ? -v : ~v);
  return `${other}${m[2] ?? ''}${m[3] ?? ''}${m[4] ?? ''} ${o[1]}${hex(nv)}`;
}

type Ks = (text: string) => Uint8Array;

/** `ldr rX, =value`: a mov/mvn/movw when the constant allows, else a literal pool slot. */
function literalLoad(frag: InsnFrag, ctx: InsnContext, m: RegExpExecArray, parts: Token[][], ks: Ks, wide: boolean): Uint8Array {
  const thumb = frag.mode === 'thumb';
  if (m[2]) throw new ReasonError(`ldr${m[2]} cannot load from a literal pool (only ldr rX, =value)`);
  if (parts.length !== 2) throw new ReasonError('ldr =value expects a register and =value');
  const rd = textOf(frag, parts[0]!);
  const reg = armReg(rd);
  if (reg === undefined) throw new ReasonError(`bad register '${rd}'`);
  const vt = parts[1]!;
  if (!(vt[0]?.kind === 'op' && vt[0].op === '=')) throw new ReasonError('ldr =value: expected = before the value');
  const expr: Expr = parseExpr(vt.slice(1), 'literal value');
  const v = evaluate(expr, ctx.env);
  const value = u32(v.value, 'literal value');
  const cond = m[3] ?? '';
  const q = m[4] ?? '';
  // GNU as decides while reading the line: only a value known by then (numbers and
  // symbols assigned earlier in the source) may become a mov; anything else uses the pool.
  const knownNow = [...symbolsOf(expr)].every((n) => {
    const d = ctx.symbol(n);
    return d !== undefined && d.kind === 'equ' && d.seq < frag.seq;
  });
  if (v.reloc === 0 && knownNow) {
    if (!thumb) {
      if (isArmImm(value)) return ks(`mov${cond} ${rd}, #${hex(value)}`);
      if (isArmImm(~value)) return ks(`mvn${cond} ${rd}, #${hex((~value) >>> 0)}`);
    } else if (reg !== 13 && reg !== 15) {
      if (isThumbImm(value)) return ks(`mov${cond}.w ${rd}, #${hex(value)}`);
      if (isThumbImm(~value)) return ks(`mvn${cond}.w ${rd}, #${hex((~value) >>> 0)}`);
      if (value <= 0xffff) return ks(`movw${cond} ${rd}, #${hex(value)}`);
    }
  }
  const key = `${v.reloc === 0 ? 'c' : 'r'}:${value}`;
  const slot = ctx.poolSlot(frag.pool!, key, value);
  const base = thumb ? ((ctx.addr + 4) & ~3) >>> 0 : ctx.addr + 8;
  const off = Number.isNaN(slot) ? 0 : slot - base;
  if (ctx.final && (off < -4095 || off > 4095)) {
    throw new ReasonError(`literal pool out of range (${off} bytes from this instruction): add a .ltorg closer to it`);
  }
  const narrow = thumb && !wide && reg < 8 && off >= 0 && off <= 1020 && q !== '.w';
  if (thumb && q === '.n' && !narrow && ctx.final) throw new ReasonError('literal pool out of range for a 16-bit ldr');
  const mn = thumb && !narrow ? `ldr${cond}.w` : `ldr${cond}`;
  const bytes = ks(`${mn} ${rd}, [pc, #${hex(off)}]`);
  // GNU as encodes an ARM literal load at offset 0 as [pc, #-0] (U bit clear).
  if (!thumb && off === 0 && bytes.length === 4) {
    const out = Uint8Array.from(bytes);
    out[2] = out[2]! & 0x7f;
    return out;
  }
  return bytes;
}

/** `adr rX, label` → add/sub rX, pc, #offset. */
function adr(frag: InsnFrag, ctx: InsnContext, m: RegExpExecArray, parts: Token[][], ks: Ks, wide: boolean): Uint8Array {
  const thumb = frag.mode === 'thumb';
  if (parts.length !== 2) throw new ReasonError('adr expects a register and a label');
  const rd = textOf(frag, parts[0]!);
  const reg = armReg(rd);
  if (reg === undefined) throw new ReasonError(`bad register '${rd}'`);
  const expr = parseExpr(parts[1]!, 'adr target');
  let target = u32(evaluate(expr, ctx.env).value, 'adr target');
  const cond = m[1] ?? '';
  if (!thumb) {
    // In ARM code GNU as takes a Thumb function's address without the Thumb bit.
    if (expr.kind === 'sym') target = (target & ~1) >>> 0;
    const off = target - (ctx.addr + 8);
    const imm = Math.abs(off);
    if (!isArmImm(imm)) {
      if (ctx.final) throw new ReasonError(`adr offset ${off} cannot be encoded as an ARM immediate (use ldr ${rd}, =label)`);
      return ks(`add${cond} ${rd}, pc, #0`);
    }
    return ks(`${off >= 0 ? 'add' : 'sub'}${cond} ${rd}, pc, #${hex(imm)}`);
  }
  const off = target - (((ctx.addr + 4) & ~3) >>> 0);
  if (!wide && reg < 8 && off >= 0 && off <= 1020 && (off & 3) === 0 && m[2] !== '.w') {
    return ks(`adr${cond} ${rd}, #${hex(off)}`);
  }
  if (off < -4095 || off > 4095) {
    if (ctx.final) throw new ReasonError(`adr offset ${off} out of range (±4095)`);
    return ks(`addw${cond} ${rd}, pc, #0`);
  }
  return ks(`${off >= 0 ? 'addw' : 'subw'}${cond} ${rd}, pc, #${hex(Math.abs(off))}`);
}

/** `ldr rX, label` (and ldrb/ldrh/…/str): a pc-relative access. */
function pcRelative(frag: InsnFrag, ctx: InsnContext, m: RegExpExecArray, parts: Token[][], ks: Ks): Uint8Array {
  const thumb = frag.mode === 'thumb';
  const last = parts[parts.length - 1]!;
  const target = u32(evaluate(parseExpr(last, 'address'), ctx.env).value, 'address');
  const base = thumb ? ((ctx.addr + 4) & ~3) >>> 0 : ctx.addr + 8;
  const off = target - base;
  const wordOrByte = !m[2] || m[2] === 'b';
  const limit = thumb ? (m[2] === 'd' ? 1020 : 4095) : wordOrByte ? 4095 : 255;
  if (off < -limit || off > limit) {
    if (ctx.final) throw new ReasonError(`pc-relative offset ${off} out of range (±${limit})`);
  }
  const clamped = Math.max(-limit, Math.min(limit, off));
  const regs = parts.slice(0, -1).map((p) => textOf(frag, p));
  const reg = armReg(regs[0] ?? '');
  let mn = frag.mnemonic;
  const narrow = thumb && !m[2] && m[1] === 'ldr' && reg !== undefined && reg < 8 && clamped >= 0 && clamped <= 1020 && (clamped & 3) === 0 && ctx.minSize < 4;
  if (thumb && !narrow && !m[4]) mn += '.w';
  return ks(`${mn} ${regs.join(', ')}, [pc, #${hex(clamped)}]`);
}
