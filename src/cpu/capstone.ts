// Disassembler wrapper over capstone-js (wasm): arm, thumb, x86 in AT&T or Intel.

import { createRequire } from 'node:module';
import type { AsmArch, AsmSyntax } from './keystone.js';

export interface Insn {
  address: number;
  bytes: Uint8Array;
  size: number;
  mnemonic: string;
  opStr: string;
}

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const cs: any = await require('@alexaltea/capstone-js')();

interface Handle {
  disasm(code: Uint8Array | number[], addr: number, count?: number): { address: number | bigint; bytes: number[]; size: number; mnemonic: string; op_str: string }[];
}
const handles = new Map<string, Handle>();

function handle(arch: AsmArch, syntax: AsmSyntax): Handle {
  const key = `${arch}/${syntax}`;
  let h = handles.get(key);
  if (!h) {
    h = (arch === 'x86' ? new cs.Capstone(cs.ARCH_X86, cs.MODE_32) : new cs.Capstone(cs.ARCH_ARM, arch === 'thumb' ? cs.MODE_THUMB : cs.MODE_ARM)) as Handle;
    if (arch === 'x86') (h as unknown as { option(a: number, b: number): void }).option(cs.OPT_SYNTAX, syntax === 'att' ? cs.OPT_SYNTAX_ATT : cs.OPT_SYNTAX_INTEL);
    handles.set(key, h);
  }
  return h;
}

/** Disassembles everything (or `count` instructions); undecodable bytes become `.byte`/`.word` lines. */
export function disassemble(code: Uint8Array, opts: { arch: AsmArch; syntax?: AsmSyntax; addr?: number; count?: number }): Insn[] {
  const h = handle(opts.arch, opts.syntax ?? 'att');
  const base = opts.addr ?? 0;
  const out: Insn[] = [];
  let off = 0;
  const unit = opts.arch === 'arm' ? 4 : opts.arch === 'thumb' ? 2 : 1;
  while (off < code.length && (opts.count === undefined || out.length < opts.count)) {
    let got: ReturnType<Handle['disasm']> = [];
    try {
      got = h.disasm(code.subarray(off), (base + off) >>> 0, opts.count === undefined ? 0 : opts.count - out.length);
    } catch {
      got = [];
    }
    for (const i of got) {
      out.push({ address: Number(i.address) >>> 0, bytes: Uint8Array.from(i.bytes), size: i.size, mnemonic: i.mnemonic, opStr: i.op_str });
      off += i.size;
      if (opts.count !== undefined && out.length >= opts.count) return out;
    }
    if (off >= code.length) break;
    // Capstone stopped at bytes it cannot decode: show them as data and go on.
    const n = Math.min(unit, code.length - off);
    const bytes = code.slice(off, off + n);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
    const [mn, op] = n === 4 ? ['.word', `0x${dv.getUint32(0, true).toString(16).padStart(8, '0')}`] : n === 2 ? ['.short', `0x${dv.getUint16(0, true).toString(16).padStart(4, '0')}`] : ['.byte', `0x${bytes[0]!.toString(16).padStart(2, '0')}`];
    out.push({ address: (base + off) >>> 0, bytes, size: n, mnemonic: mn, opStr: op });
    off += n;
  }
  return out;
}

const hexBytes = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** `ADDRESS: BYTES  MNEMONIC OPERANDS`, e.g. `00001000: 78 70 a0 e3  mov r7, #0x78`. */
export function formatInsn(i: Insn, bytesWidth = hexBytes(i.bytes).length): string {
  const text = i.opStr ? `${i.mnemonic} ${i.opStr}` : i.mnemonic;
  return `${(i.address >>> 0).toString(16).padStart(8, '0')}: ${hexBytes(i.bytes).padEnd(bytesWidth)}  ${text}`;
}

/** A listing with the bytes column padded so mnemonics line up. */
export function formatListing(insns: Insn[]): string[] {
  const w = Math.max(0, ...insns.map((i) => hexBytes(i.bytes).length));
  return insns.map((i) => formatInsn(i, w));
}
