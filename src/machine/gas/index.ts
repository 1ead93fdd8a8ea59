// trapdoor's GNU-as front end: assembles a program written for GNU as (sections,
// labels, data directives, literal pools, local labels, expressions) into a loadable
// image with a symbol table and a line table. Keystone encodes single instructions;
// everything around them (layout, symbols, directives) is done here.
//
//   lexer.ts       source → statements (comments, `;`, labels); operand tokens
//   expr.ts        GNU-as expressions (its precedence), evaluation
//   directives.ts  statements → per-section fragments, symbols, modes, local labels
//   layout.ts      addresses to a fixed point (sizes only grow), then emit
//   arm.ts         ARM/Thumb: branches, ldr =value + literal pools, adr, IT blocks
//   arm-encode.ts  branch bit encoders, immediate checks
//   x86.ts         i386: jmp/jcc/call relaxation, Intel-syntax label operands
//   operands.ts    symbol/expression folding in operand text
//   fill.ts        GNU as's NOP padding;  ks.ts  the keystone boundary
//
// The reference is GNU as 2.40 + ld (arm-linux-gnueabi with -march=armv7-a, i686 --32):
// the tests check byte-identical sections and symbol addresses for realistic programs.
// Not supported: macros (.macro/.rept/.irp), conditionals (.if), .include, the C
// preprocessor, Thumb divided syntax, 16/64-bit x86 code, relocations to external symbols.

import { buildPlan } from './directives.js';
import { Layout, SECTION_ORDER } from './layout.js';
import { parseSource } from './lexer.js';
import { makeKs } from './ks.js';
import type { Frag } from './frags.js';

export { GasError } from './errors.js';

export interface Section {
  name: string;
  addr: number;
  bytes: Uint8Array;
  /** >= bytes.length (.bss has no bytes). */
  size: number;
  read: boolean;
  write: boolean;
  exec: boolean;
}

export interface LineInfo {
  addr: number;
  size: number;
  file: string;
  line: number;
  text: string;
  thumb: boolean;
}

export interface AsmProgram {
  arch: 'arm' | 'x86';
  /** Address of _start (global or not), else of the first instruction; bit 0 set for Thumb code. */
  entry: number;
  /** .text (r-x, includes .rodata), then .data (rw-), then .bss (rw-, zero). */
  sections: Section[];
  /** Every label and .equ/.set symbol (local `1:` and `.L` labels excluded). */
  symbols: Map<string, number>;
  /** One per emitted instruction or data directive, sorted by address. */
  lines: LineInfo[];
}

export interface AssembleOptions {
  arch: 'arm' | 'x86';
  fileName?: string;
  /** Where .text starts: default 0x00010000 (ARM), 0x08048000 (x86). */
  textAddr?: number;
}

export const DEFAULT_TEXT_ADDR = { arm: 0x00010000, x86: 0x08048000 } as const;

export function assembleProgram(source: string, opts: AssembleOptions): AsmProgram {
  const arch = opts.arch;
  const file = opts.fileName ?? '<input>';
  const textAddr = opts.textAddr ?? DEFAULT_TEXT_ADDR[arch];
  if (!Number.isInteger(textAddr) || textAddr < 0 || textAddr > 0xffffffff) {
    throw new RangeError(`textAddr 0x${textAddr.toString(16)} is not a 32-bit address`);
  }
  const stmts = parseSource(source, arch, file);
  const plan = buildPlan(stmts, { arch });
  const { sections: placed, values } = new Layout(plan, arch, textAddr, makeKs()).run();

  const bytesOf = (frags: Frag[], base: number, size: number): Uint8Array => {
    const out = new Uint8Array(size);
    for (const f of frags) {
      if ('bytes' in f && f.bytes.length) out.set(f.bytes, f.addr - base);
    }
    return out;
  };
  const text = placed.text;
  const rodata = placed.rodata;
  // .rodata follows .text in the same r-x section (the gap between them is zero).
  const textSize = rodata.size ? rodata.addr + rodata.size - text.addr : text.size;
  const textBytes = new Uint8Array(textSize);
  textBytes.set(bytesOf(text.frags, text.addr, text.size), 0);
  if (rodata.size) textBytes.set(bytesOf(rodata.frags, rodata.addr, rodata.size), rodata.addr - text.addr);
  const sections: Section[] = [
    { name: '.text', addr: text.addr, bytes: textBytes, size: textSize, read: true, write: false, exec: true },
    {
      name: '.data', addr: placed.data.addr, bytes: bytesOf(placed.data.frags, placed.data.addr, placed.data.size),
      size: placed.data.size, read: true, write: true, exec: false,
    },
    { name: '.bss', addr: placed.bss.addr, bytes: new Uint8Array(), size: placed.bss.size, read: true, write: true, exec: false },
  ];

  const symbols = new Map<string, number>();
  for (const name of plan.order) {
    const def = plan.symbols.get(name)!;
    const v = values.get(name);
    if (def.hidden || v === undefined) continue;
    symbols.set(def.display, Number(BigInt.asUintN(32, v.value)));
  }

  const lines: LineInfo[] = [];
  for (const sec of SECTION_ORDER) {
    for (const f of placed[sec].frags) {
      if (f.size === 0 || f.kind === 'label' || f.kind === 'assign') continue;
      lines.push({
        addr: f.addr, size: f.size, file: f.loc.file, line: f.loc.line, text: f.text,
        thumb: f.kind === 'insn' ? f.mode === 'thumb' : f.kind === 'align' ? f.code === 'thumb' : false,
      });
    }
  }
  lines.sort((a, b) => a.addr - b.addr);

  let entry: number | undefined;
  const start = plan.symbols.get('_start');
  const startValue = values.get('_start');
  if (start && startValue !== undefined) {
    entry = Number(BigInt.asUintN(32, startValue.value));
    if (start.kind === 'label' && start.thumb) entry |= 1;
  } else {
    const first = SECTION_ORDER.flatMap((s) => placed[s].frags).find((f) => f.kind === 'insn');
    if (first && first.kind === 'insn') entry = first.addr | (first.mode === 'thumb' ? 1 : 0);
  }
  return { arch, entry: (entry ?? text.addr) >>> 0, sections, symbols, lines };
}
