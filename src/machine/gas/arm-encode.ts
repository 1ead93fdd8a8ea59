// Bit-level encoders for ARM/Thumb branches and immediate-operand checks.
// Branches are encoded here rather than by keystone: keystone 0.9.2 mis-encodes
// Thumb conditional b.w (T3) to numeric targets and silently wraps out-of-range
// offsets (b, cbz).

import { ReasonError } from './errors.js';

export const COND: Record<string, number> = {
  eq: 0, ne: 1, cs: 2, hs: 2, cc: 3, lo: 3, mi: 4, pl: 5, vs: 6, vc: 7, hi: 8, ls: 9, ge: 10,
  lt: 11, gt: 12, le: 13, al: 14, '': 14,
};

const le32 = (v: number): Uint8Array => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
const le16x2 = (hw1: number, hw2: number): Uint8Array =>
  Uint8Array.of(hw1 & 0xff, (hw1 >>> 8) & 0xff, hw2 & 0xff, (hw2 >>> 8) & 0xff);
const le16 = (hw: number): Uint8Array => Uint8Array.of(hw & 0xff, (hw >>> 8) & 0xff);

function outOfRange(off: number, what: string): never {
  throw new ReasonError(`branch out of range: ${what} cannot reach offset ${off}`);
}

/** ARM B / BL (cond), offset from the instruction address + 8. */
export function armBranch(kind: 'b' | 'bl', cond: string, addr: number, target: number, check: boolean): Uint8Array {
  const off = target - (addr + 8);
  if (check) {
    if (target & 3) throw new ReasonError(`branch target 0x${target.toString(16)} is not word-aligned (ARM code)`);
    if (off < -(1 << 25) || off > (1 << 25) - 4) outOfRange(off, kind);
  }
  return le32(((COND[cond]! << 28) | (kind === 'bl' ? 0x0b000000 : 0x0a000000) | ((off >> 2) & 0xffffff)) >>> 0);
}

/** ARM BLX immediate (to Thumb code). */
export function armBlx(addr: number, target: number, check: boolean): Uint8Array {
  const off = target - (addr + 8);
  if (check) {
    if (target & 1) throw new ReasonError(`blx target 0x${target.toString(16)} is not halfword-aligned`);
    if (off < -(1 << 25) || off > (1 << 25) - 2) outOfRange(off, 'blx');
  }
  return le32((0xfa000000 | (((off >> 1) & 1) << 24) | ((off >> 2) & 0xffffff)) >>> 0);
}

/** Thumb 16-bit B (T1 conditional / T2 unconditional), or null if out of range. */
export function thumbB16(cond: string, addr: number, target: number): Uint8Array | null {
  const off = target - (addr + 4);
  if (off & 1) return null;
  if (cond === '' || cond === 'al') {
    if (off < -2048 || off > 2046) return null;
    return le16(0xe000 | ((off >> 1) & 0x7ff));
  }
  if (off < -256 || off > 254) return null;
  return le16(0xd000 | (COND[cond]! << 8) | ((off >> 1) & 0xff));
}

function checkThumbTarget(target: number, what: string): void {
  if (target & 1) throw new ReasonError(`${what} target 0x${target.toString(16)} is not halfword-aligned`);
}

/** Thumb 32-bit B.W (T3 conditional / T4 unconditional). */
export function thumbB32(cond: string, addr: number, target: number, check: boolean): Uint8Array {
  const off = target - (addr + 4);
  if (cond === '' || cond === 'al') {
    if (check) {
      checkThumbTarget(target, 'b.w');
      if (off < -(1 << 24) || off > (1 << 24) - 2) outOfRange(off, 'b.w');
    }
    return t4(off, 0x9000);
  }
  if (check) {
    checkThumbTarget(target, 'b.w');
    if (off < -(1 << 20) || off > (1 << 20) - 2) outOfRange(off, `b${cond}.w`);
  }
  const s = off < 0 ? 1 : 0;
  const hw1 = 0xf000 | (s << 10) | (COND[cond]! << 6) | ((off >> 12) & 0x3f);
  const hw2 = 0x8000 | (((off >> 18) & 1) << 13) | (((off >> 19) & 1) << 11) | ((off >> 1) & 0x7ff);
  return le16x2(hw1, hw2);
}

/** T4-style 24-bit offset encoding shared by B.W, BL and BLX (hw2 carries the opcode bits). */
function t4(off: number, hw2Op: number): Uint8Array {
  const s = (off >> 24) & 1;
  const i1 = (off >> 23) & 1;
  const i2 = (off >> 22) & 1;
  const j1 = ~(i1 ^ s) & 1;
  const j2 = ~(i2 ^ s) & 1;
  const hw1 = 0xf000 | (s << 10) | ((off >> 12) & 0x3ff);
  const lowBits = hw2Op === 0xc000 ? (off >> 1) & 0x7fe : (off >> 1) & 0x7ff;
  const hw2 = hw2Op | (j1 << 13) | (j2 << 11) | lowBits;
  return le16x2(hw1, hw2);
}

/** Thumb BL (to Thumb code). */
export function thumbBl(addr: number, target: number, check: boolean): Uint8Array {
  const off = target - (addr + 4);
  if (check) {
    checkThumbTarget(target, 'bl');
    if (off < -(1 << 24) || off > (1 << 24) - 2) outOfRange(off, 'bl');
  }
  return t4(off, 0xd000);
}

/** Thumb BLX immediate (to ARM code): offset from the word-aligned PC. */
export function thumbBlx(addr: number, target: number, check: boolean): Uint8Array {
  const off = target - (((addr + 4) & ~3) >>> 0);
  if (check) {
    if (target & 3) throw new ReasonError(`blx target 0x${target.toString(16)} is not word-aligned (ARM code)`);
    if (off < -(1 << 24) || off > (1 << 24) - 4) outOfRange(off, 'blx');
  }
  return t4(off, 0xc000);
}

/** Thumb CBZ / CBNZ: forward only, 0..126 bytes. */
export function thumbCbz(nonzero: boolean, reg: number, addr: number, target: number, check: boolean): Uint8Array {
  const off = target - (addr + 4);
  if (check) {
    checkThumbTarget(target, nonzero ? 'cbnz' : 'cbz');
    if (off < 0 || off > 126) outOfRange(off, nonzero ? 'cbnz' : 'cbz');
  }
  const o = Math.max(0, Math.min(126, off));
  return le16((nonzero ? 0xb900 : 0xb100) | (((o >> 6) & 1) << 9) | (((o >> 1) & 0x1f) << 3) | reg);
}

const rotl32 = (v: number, n: number): number => ((v << n) | (v >>> ((32 - n) & 31))) >>> 0;

/** Whether v is an ARM-mode modified immediate (8 bits rotated right by an even amount). */
export function isArmImm(v: number): boolean {
  const u = v >>> 0;
  for (let r = 0; r < 32; r += 2) if (rotl32(u, r) <= 0xff) return true;
  return false;
}

/** Whether v is a Thumb-2 modified immediate. */
export function isThumbImm(v: number): boolean {
  const u = v >>> 0;
  if (u <= 0xff) return true;
  const b = u & 0xff;
  if (u === ((b << 16) | b) >>> 0) return true;
  const b1 = (u >>> 8) & 0xff;
  if (u === ((b1 << 24) | (b1 << 8)) >>> 0) return true;
  if (u === ((b << 24) | (b << 16) | (b << 8) | b) >>> 0) return true;
  for (let n = 8; n < 32; n++) {
    const x = rotl32(u, n);
    if (x >= 0x80 && x <= 0xff) return true;
  }
  return false;
}

const REG_NUM: Record<string, number> = {
  sp: 13, lr: 14, pc: 15, ip: 12, fp: 11, sl: 10, sb: 9, a1: 0, a2: 1, a3: 2, a4: 3,
  v1: 4, v2: 5, v3: 6, v4: 7, v5: 8, v6: 9, v7: 10, v8: 11,
};

/** Register number for an ARM register name, or undefined. */
export function armReg(name: string): number | undefined {
  const n = name.trim().toLowerCase();
  const m = /^r(\d+)$/.exec(n);
  if (m) {
    const r = Number(m[1]);
    return r < 16 ? r : undefined;
  }
  return REG_NUM[n];
}
