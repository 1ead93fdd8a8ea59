// Padding: the NOP sequences GNU as 2.40 pads code with, per instruction set.

import type { InsnMode } from './frags.js';

/** i386 NOPs of 1..7 bytes, as GNU as (default tuning, --32) emits them. */
const X86_NOPS: number[][] = [
  [],
  [0x90],
  [0x66, 0x90],
  [0x8d, 0x76, 0x00],
  [0x8d, 0x74, 0x26, 0x00],
  [0x8d, 0x74, 0x26, 0x00, 0x90],
  [0x8d, 0xb6, 0x00, 0x00, 0x00, 0x00],
  [0x8d, 0xb4, 0x26, 0x00, 0x00, 0x00, 0x00],
];

function x86Nops(n: number): number[] {
  const out: number[] = [];
  let left = n;
  if (n > 20) {
    // A jump over the padding, then NOPs.
    if (n - 2 <= 127) {
      out.push(0xeb, n - 2);
      left = n - 2;
    } else {
      const r = n - 5;
      out.push(0xe9, r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, (r >>> 24) & 0xff);
      left = n - 5;
    }
  }
  while (left > 7) {
    out.push(...X86_NOPS[7]!);
    left -= 7;
  }
  out.push(...X86_NOPS[left]!);
  return out;
}

/**
 * Padding bytes for code alignment. ARM (ARMv7): zero bytes up to a word boundary,
 * then `nop` (e320f000). Thumb-2: a zero byte if odd, `nop` (bf00) if needed to
 * reach a word boundary, then `nop.w` (f3af 8000).
 */
export function codePadding(mode: InsnMode, n: number): Uint8Array {
  const out: number[] = [];
  if (mode === 'att' || mode === 'intel') return Uint8Array.from(x86Nops(n));
  if (mode === 'arm') {
    for (let i = 0; i < n % 4; i++) out.push(0);
    for (let i = 0; i < Math.floor(n / 4); i++) out.push(0x00, 0xf0, 0x20, 0xe3);
    return Uint8Array.from(out);
  }
  let left = n;
  if (left % 2) {
    out.push(0);
    left--;
  }
  if (left % 4 === 2) {
    out.push(0x00, 0xbf);
    left -= 2;
  }
  for (; left > 0; left -= 4) out.push(0xaf, 0xf3, 0x00, 0x80);
  return Uint8Array.from(out);
}
