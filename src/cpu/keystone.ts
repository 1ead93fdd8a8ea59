// Assembler wrapper over keystone-js (wasm), for arm, thumb and x86 (AT&T or Intel).
//
// Keystone's radix trap (DESIGN.md, measured): once ks_option has been called on
// an engine (as choosing AT&T syntax requires), plain decimal numbers are read
// as hex — `movl $-8192,%eax` would assemble to b8 6e 7e ff ff and `int $128`
// to nothing, reported as success. Hex-written numbers are always right. So:
//   - every engine serves one (arch, syntax) pair and is never shared;
//   - for AT&T, decimal literals are rewritten to hex before assembling;
//   - a self-check at load time proves the guard works;
//   - "assembled to 0 bytes" for a non-empty instruction is an error.
// Numeric branch targets (`b 0x8010`, `jmp 0x1010`) are absolute addresses when
// `addr` is given: keystone computes the pc-relative encoding itself.

import { createRequire } from 'node:module';

export type AsmArch = 'arm' | 'thumb' | 'x86';
export type AsmSyntax = 'att' | 'intel';
export const ASM_ARCHES: readonly AsmArch[] = ['arm', 'thumb', 'x86'];

export class AsmError extends Error {
  constructor(readonly insn: string, readonly reason: string) {
    super(`cannot assemble "${insn}": ${reason}`);
  }
}

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ks: any = await require('@alexaltea/keystone-js')();

interface Engine {
  asm(src: string, addr: number): { failed: boolean; mc: Uint8Array | number[] };
  errno(): number;
}
const engines = new Map<string, Engine>();

function engine(arch: AsmArch, syntax: AsmSyntax): Engine {
  const key = `${arch}/${arch === 'x86' ? syntax : ''}`;
  let e = engines.get(key);
  if (!e) {
    e = (arch === 'x86' ? new ks.Keystone(ks.ARCH_X86, ks.MODE_32) : new ks.Keystone(ks.ARCH_ARM, arch === 'thumb' ? ks.MODE_THUMB : ks.MODE_ARM)) as Engine;
    // Intel is keystone's default for x86: only AT&T needs ks_option (and brings the radix trap).
    if (arch === 'x86' && syntax === 'att') (e as unknown as { option(a: number, b: number): void }).option(ks.OPT_SYNTAX, ks.OPT_SYNTAX_ATT);
    engines.set(key, e);
  }
  return e;
}

/**
 * Rewrites decimal literals to hex in AT&T source: `$-8192` → `$-0x2000`,
 * `12(%esp)` → `0xc(%esp)`, `(,%eax,4)` → `(,%eax,0x4)`. Hex, octal-looking
 * hex digits inside identifiers, register names (%st(1) keeps its index),
 * and character literals are left alone.
 */
export function decimalsToHex(src: string): string {
  return src.replace(/'(?:\\.|[^'\\])'|%st\(\d\)|0[xX][0-9a-fA-F]+|[A-Za-z_.][\w.$]*|\d+/g, (m) => {
    if (!/^\d+$/.test(m)) return m;
    return `0x${BigInt(m).toString(16)}`;
  });
}

function assembleRaw(src: string, arch: AsmArch, syntax: AsmSyntax, addr: number): Uint8Array {
  const e = engine(arch, syntax);
  const text = arch === 'x86' && syntax === 'att' ? decimalsToHex(src) : src;
  let r: { failed: boolean; mc: Uint8Array | number[] };
  try {
    r = e.asm(text, addr >>> 0);
  } catch (err) {
    throw new AsmError(src, `keystone failed: ${(err as Error).message}`);
  }
  if (r.failed) throw new AsmError(src, String(ks.strerror(e.errno())));
  return Uint8Array.from(r.mc);
}

function splitInsns(source: string): string[] {
  return source
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Assembles one instruction; throws AsmError (never a wasm crash). */
export function assembleOne(insn: string, opts: { arch: AsmArch; syntax?: AsmSyntax; addr?: number }): Uint8Array {
  const syntax = opts.syntax ?? 'att';
  const text = insn.trim();
  if (!text) throw new AsmError(insn, 'empty instruction');
  const out = assembleRaw(text, opts.arch, syntax, opts.addr ?? 0);
  if (out.length === 0) throw new AsmError(text, 'keystone produced no bytes (unsupported or malformed instruction)');
  return out;
}

/** Assembles instructions separated by `;` or newlines at `addr`; the failing instruction is named on error. */
export function assemble(source: string, opts: { arch: AsmArch; syntax?: AsmSyntax; addr?: number }): Uint8Array {
  const syntax = opts.syntax ?? 'att';
  const insns = splitInsns(source);
  if (insns.length === 0) throw new AsmError(source, 'no instructions');
  const parts: Uint8Array[] = [];
  let addr = opts.addr ?? 0;
  // One at a time: the error names the instruction, and an empty result is caught per instruction.
  // Labels are not supported here (use the GNU-as front end, src/machine/gas).
  for (const insn of insns) {
    const b = assembleOne(insn, { arch: opts.arch, syntax, addr });
    parts.push(b);
    addr += b.length;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// Self-check: the radix guard must hold, or every AT&T number is silently wrong.
{
  const got = Array.from(assembleRaw('movl $-8192,%eax', 'x86', 'att', 0));
  const want = [0xb8, 0x00, 0xe0, 0xff, 0xff];
  if (got.join() !== want.join()) throw new Error(`trapdoor: keystone radix guard failed (movl $-8192,%eax → ${got.map((b) => b.toString(16)).join(' ')})`);
}
