// The disassembler: a synchronous wrapper around Capstone 5 (@alexaltea/capstone-js, wasm)
// for ARM, Thumb and i386 (AT&T or Intel syntax).
//
//   disassemble(bytes, { arch: 'arm', addr: 0x1000 })  ->  [{ mnemonic: 'mov', opStr: 'r7, #0x78', ... }, ...]
//   formatListing(insns)  ->  ['00001000: 78 70 a0 e3  mov r7, #0x78', '00001004: 00 00 00 ef  svc #0']
//
// Capstone's text is kept as Capstone prints it (e.g. `calll *%gs:0x10` in AT&T: Capstone 5
// spells the operand size where objdump writes `call`). Bytes Capstone cannot decode are
// never dropped: they become pseudo-instructions — `.word 0xe7f000f0` (ARM, 4 bytes),
// `.short 0xde00` (Thumb, 2 bytes), `.byte 0x0f` (x86; and `.byte 0x01, 0x02` for a tail
// shorter than an ARM/Thumb unit) — and decoding resumes after them.

import { createRequire } from 'node:module';
import type { AsmArch, AsmSyntax } from './keystone/index.js';

export interface Insn {
  address: number;
  bytes: Uint8Array;
  size: number;
  mnemonic: string;
  opStr: string;
}

export interface DisasmOptions {
  arch: AsmArch;
  /** x86 only: 'att' (default, like objdump) or 'intel'. Ignored for arm/thumb. */
  syntax?: AsmSyntax;
  /** Address of the first byte (default 0). */
  addr?: number;
  /** Stop after this many lines (instructions and data pseudo-lines). */
  count?: number;
}

interface CsInsn {
  address: number | bigint;
  bytes: number[];
  size: number;
  mnemonic: string;
  op_str: string;
}
interface CsHandle {
  disasm(code: number[] | Uint8Array, addr: number, max?: number): CsInsn[];
  option(option: number, value: number): void;
}
interface CsModule {
  Capstone: new (arch: number, mode: number) => CsHandle;
  ARCH_ARM: number;
  ARCH_X86: number;
  MODE_ARM: number;
  MODE_THUMB: number;
  MODE_32: number;
  OPT_SYNTAX: number;
  OPT_SYNTAX_ATT: number;
}

const requireCjs = createRequire(import.meta.url);
type CsFactory = (moduleArg?: { print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<CsModule>;
const cs = await (requireCjs('@alexaltea/capstone-js') as CsFactory)({ print: () => {}, printErr: () => {} });

type HandleKey = 'arm' | 'thumb' | 'x86-att' | 'x86-intel';
const handles = new Map<HandleKey, CsHandle>();

function handle(key: HandleKey): CsHandle {
  let h = handles.get(key);
  if (!h) {
    if (key === 'arm') h = new cs.Capstone(cs.ARCH_ARM, cs.MODE_ARM);
    else if (key === 'thumb') h = new cs.Capstone(cs.ARCH_ARM, cs.MODE_THUMB);
    else {
      h = new cs.Capstone(cs.ARCH_X86, cs.MODE_32);
      if (key === 'x86-att') h.option(cs.OPT_SYNTAX, cs.OPT_SYNTAX_ATT);
    }
    handles.set(key, h);
  }
  return h;
}

function handleKey(opts: DisasmOptions): HandleKey {
  switch (opts.arch) {
    case 'arm':
      return 'arm';
    case 'thumb':
      return 'thumb';
    case 'x86': {
      const syntax = opts.syntax ?? 'att';
      if (syntax !== 'att' && syntax !== 'intel') throw new TypeError(`unknown syntax "${String(syntax)}" (valid: att, intel)`);
      return syntax === 'att' ? 'x86-att' : 'x86-intel';
    }
    default:
      throw new TypeError(`unknown arch "${String((opts as { arch: unknown }).arch)}" (valid: arm, thumb, x86)`);
  }
}

/** Capstone reads at most this many bytes per call (keeps bad-byte runs linear). */
const WINDOW = 4096;

/** A pseudo-instruction for bytes that do not decode. */
function dataInsn(arch: AsmArch, bytes: Uint8Array, address: number): Insn {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let mnemonic = '.byte';
  let opStr = Array.from(bytes, (b) => '0x' + b.toString(16).padStart(2, '0')).join(', ');
  if (arch === 'arm' && bytes.length === 4) {
    mnemonic = '.word';
    opStr = '0x' + dv.getUint32(0, true).toString(16).padStart(8, '0');
  } else if (arch === 'thumb' && bytes.length === 2) {
    mnemonic = '.short';
    opStr = '0x' + dv.getUint16(0, true).toString(16).padStart(4, '0');
  }
  return { address, bytes, size: bytes.length, mnemonic, opStr };
}

/**
 * Disassemble `code` (all of it, or `count` lines). Undecodable bytes become `.word`/`.short`/
 * `.byte` lines (per arch) and decoding continues after them. Addresses wrap at 2^32.
 */
export function disassemble(code: Uint8Array, opts: DisasmOptions): Insn[] {
  const h = handle(handleKey(opts));
  const base = opts.addr ?? 0;
  if (!Number.isSafeInteger(base) || base < 0 || base > 0xffffffff) {
    throw new RangeError(`address must be an integer in 0..0xffffffff, not ${base}`);
  }
  const limit = opts.count ?? Infinity;
  const unit = opts.arch === 'arm' ? 4 : opts.arch === 'thumb' ? 2 : 1;
  const out: Insn[] = [];
  let off = 0;
  while (off < code.length && out.length < limit) {
    const start = off;
    const window = code.subarray(off, Math.min(code.length, off + WINDOW));
    const want = limit === Infinity ? 0 : limit - out.length;
    let got: CsInsn[];
    try {
      got = h.disasm(window, (base + off) >>> 0, want);
    } catch {
      got = []; // capstone-js throws when not even the first instruction decodes
    }
    for (const i of got) {
      if (out.length >= limit) break;
      out.push({
        address: (base + off) >>> 0,
        bytes: Uint8Array.from(i.bytes),
        size: i.size,
        mnemonic: i.mnemonic,
        opStr: i.op_str,
      });
      off += i.size;
    }
    if (out.length >= limit || off >= code.length) break;
    const windowEnd = start + window.length;
    if (got.length > 0 && windowEnd < code.length && off > windowEnd - 16) {
      // Capstone stopped near the end of the window: the next instruction may straddle it.
      continue;
    }
    // Capstone stopped at bytes it cannot decode: show them as data and go on.
    const n = Math.min(unit, code.length - off);
    out.push(dataInsn(opts.arch, code.slice(off, off + n), (base + off) >>> 0));
    off += n;
  }
  return out;
}

function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/**
 * `ADDRESS: BYTES  MNEMONIC OPERANDS`, e.g. `00001000: 78 70 a0 e3  mov r7, #0x78`.
 * `bytesWidth` pads the bytes column (formatListing passes the widest of a listing).
 */
export function formatInsn(i: Insn, bytesWidth = 0): string {
  const text = i.opStr ? `${i.mnemonic} ${i.opStr}` : i.mnemonic;
  return `${(i.address >>> 0).toString(16).padStart(8, '0')}: ${hexBytes(i.bytes).padEnd(bytesWidth)}  ${text}`;
}

/** One line per instruction, the bytes column padded so the mnemonics line up. */
export function formatListing(insns: readonly Insn[]): string[] {
  const w = insns.reduce((m, i) => Math.max(m, i.size * 3 - 1), 0);
  return insns.map((i) => formatInsn(i, w));
}
