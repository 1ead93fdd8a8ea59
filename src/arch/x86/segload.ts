// Decoding the i386 instructions that load a data segment register from user
// mode, for ops.ts's completeImplicitAccess (why it is needed is explained there).
//
//   8e /r        mov  r/m16, %es|%ds|%fs|%gs
//   07 1f        pop  %es, pop %ds
//   0f a1 0f a9  pop  %fs, pop %gs
//   c4 c5 /r     les, lds    m16:32 (or m16:16 with 0x66)
//   0f b4 0f b5  lfs, lgs    m16:32
//
// Prefixes: 0x66 (operand size), segment overrides. Not decoded (the caller lets
// the fault stand, so the task gets SIGSEGV): loads of %ss (`mov ..., %ss`,
// `pop %ss`, `lss`: this machine keeps SS flat, see ops.ts), 16-bit addressing
// (0x67), lock/rep prefixes, and anything else.

/** Segment registers by their ModRM reg-field number (Intel order). */
export const SREG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
export type SregName = (typeof SREG_NAMES)[number];

/** A 32-bit memory operand: seg:[base + index * scale + disp]. Registers by number (eax 0 … edi 7). */
export interface MemOperand {
  base: number | null;
  index: number | null;
  scale: number;
  disp: number;
  /** Segment used for the access: the override prefix, else ss for an esp/ebp base, else ds. */
  seg: SregName;
}

export interface SegLoad {
  sreg: 'es' | 'ds' | 'fs' | 'gs';
  /** Instruction length in bytes. */
  len: number;
  /** Where the selector comes from. */
  src:
    | { kind: 'reg'; reg: number }
    /** mov m16: 2 bytes at mem. lds & co: `offsetBytes` bytes of offset into general register `dest`, then the selector. */
    | { kind: 'mem'; mem: MemOperand; offsetBytes: 0 | 2 | 4; dest: number | null }
    /** pop: the selector is the low 16 bits of a 4-byte (2 with 0x66) stack slot. */
    | { kind: 'pop'; size: 2 | 4 };
}

const SEG_PREFIX: Record<number, SregName> = { 0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds', 0x64: 'fs', 0x65: 'gs' };
const ESP = 4, EBP = 5;

/** Decodes a ModRM memory operand at code[i] (mod != 3); returns it and the index past it, or null if the bytes run out. */
function decodeMem(code: Uint8Array, i: number, override: SregName | null): { mem: MemOperand; next: number } | null {
  const byte = (at: number): number | null => (at < code.length ? code[at]! : null);
  const modrm = byte(i++);
  if (modrm === null) return null;
  const mod = modrm >>> 6, rm = modrm & 7;
  let base: number | null = rm, index: number | null = null, scale = 1;
  if (rm === ESP) {
    const sib = byte(i++);
    if (sib === null) return null;
    scale = 1 << (sib >>> 6);
    index = ((sib >>> 3) & 7) === ESP ? null : (sib >>> 3) & 7;
    base = sib & 7;
    if (base === EBP && mod === 0) base = null; // [index*scale + disp32]
  } else if (rm === EBP && mod === 0) base = null; // [disp32]
  let disp = 0;
  const dispBytes = mod === 1 ? 1 : mod === 2 || base === null ? 4 : 0;
  if (i + dispBytes > code.length) return null;
  if (dispBytes === 1) disp = (code[i]! << 24) >> 24;
  else if (dispBytes === 4) disp = new DataView(code.buffer, code.byteOffset + i, 4).getInt32(0, true);
  i += dispBytes;
  const seg: SregName = override ?? (base === ESP || base === EBP ? 'ss' : 'ds');
  return { mem: { base, index, scale, disp, seg }, next: i };
}

/** Decodes the instruction at the start of `code` if it is a supported data-segment load; null otherwise. */
export function decodeSegLoad(code: Uint8Array): SegLoad | null {
  let i = 0;
  let opsize16 = false;
  let override: SregName | null = null;
  for (; i < code.length && i < 14; i++) {
    const b = code[i]!;
    if (b === 0x66) opsize16 = true;
    else if (b in SEG_PREFIX) override = SEG_PREFIX[b]!;
    else break;
  }
  if (i >= code.length) return null;
  const op = code[i++]!;
  const data = (n: number): SegLoad['sreg'] | null => {
    const s = SREG_NAMES[n];
    return s === 'es' || s === 'ds' || s === 'fs' || s === 'gs' ? s : null;
  };
  if (op === 0x07 || op === 0x1f) return { sreg: op === 0x07 ? 'es' : 'ds', len: i, src: { kind: 'pop', size: opsize16 ? 2 : 4 } };
  if (op === 0x8e || op === 0xc4 || op === 0xc5) {
    if (i >= code.length) return null;
    const modrm = code[i]!;
    const reg = (modrm >>> 3) & 7;
    const mod = modrm >>> 6;
    if (op === 0x8e) {
      const sreg = data(reg);
      if (!sreg) return null;
      if (mod === 3) return { sreg, len: i + 1, src: { kind: 'reg', reg: modrm & 7 } };
      const m = decodeMem(code, i, override);
      return m && { sreg, len: m.next, src: { kind: 'mem', mem: m.mem, offsetBytes: 0, dest: null } };
    }
    if (mod === 3) return null; // c4/c5 with a register operand: not les/lds
    const m = decodeMem(code, i, override);
    return m && { sreg: op === 0xc4 ? 'es' : 'ds', len: m.next, src: { kind: 'mem', mem: m.mem, offsetBytes: opsize16 ? 2 : 4, dest: reg } };
  }
  if (op === 0x0f && i < code.length) {
    const op2 = code[i++]!;
    if (op2 === 0xa1 || op2 === 0xa9) return { sreg: op2 === 0xa1 ? 'fs' : 'gs', len: i, src: { kind: 'pop', size: opsize16 ? 2 : 4 } };
    if (op2 === 0xb4 || op2 === 0xb5) {
      if (i >= code.length || code[i]! >>> 6 === 3) return null;
      const reg = (code[i]! >>> 3) & 7;
      const m = decodeMem(code, i, override);
      return m && { sreg: op2 === 0xb4 ? 'fs' : 'gs', len: m.next, src: { kind: 'mem', mem: m.mem, offsetBytes: opsize16 ? 2 : 4, dest: reg } };
    }
  }
  return null;
}
