// Fragments: what the directive pass produces and layout consumes.

import type { SrcLoc } from './errors.js';
import type { Expr } from './expr.js';
import type { Token } from './lexer.js';

export type SectionName = 'text' | 'rodata' | 'data' | 'bss';

/** Instruction encoding mode. */
export type InsnMode = 'arm' | 'thumb' | 'att' | 'intel';

export interface FragBase {
  readonly loc: SrcLoc;
  /** Position of the statement in the source (statement counter). */
  readonly seq: number;
  /** Statement text for the line table. */
  readonly text: string;
  // Layout state (mutable).
  addr: number;
  size: number;
}

/** A literal pool: filled by `ldr rX, =value` while laying out; placed at .ltorg or the section end. */
export interface Pool {
  readonly id: number;
  /** Entries collected in the current pass, in order of first use; key → index. */
  keys: Map<string, number>;
  values: bigint[];
  /** Address of the first entry (after alignment) in the previous pass; NaN before the first pass. */
  addr: number;
}

export type Frag =
  | (FragBase & { kind: 'label'; name: string })
  | (FragBase & { kind: 'assign'; name: string; expr: Expr })
  | (FragBase & {
      kind: 'insn';
      mode: InsnMode;
      mnemonic: string;
      operands: string;
      /** Operand tokens, local labels already resolved. */
      tokens: Token[];
      /** Condition of this instruction's slot in a Thumb IT block. */
      itCond?: string;
      /** The pool an `ldr rX, =value` puts its literal in. */
      pool?: Pool;
      bytes: Uint8Array;
    })
  | (FragBase & { kind: 'data'; width: 1 | 2 | 4 | 8; exprs: Expr[]; bytes: Uint8Array })
  | (FragBase & { kind: 'bytes'; bytes: Uint8Array })
  | (FragBase & {
      kind: 'space';
      count: Expr;
      fillSize: number;
      fill: Expr | null;
      /** .org: count is the target location (section offset, or an address in the section). */
      org?: boolean;
      bytes: Uint8Array;
    })
  | (FragBase & {
      kind: 'align';
      /** Alignment in bytes (evaluated from the directive's argument). */
      align: Expr;
      /** How align's value is read: as a byte count or a power of two. */
      pow2: boolean;
      fill: Expr | null;
      fillSize: number;
      max: Expr | null;
      /** Code alignment pads with NOPs of this mode; data alignment (null) with zeros. */
      code: InsnMode | null;
      /** The alignment .arm/.thumb imply: not counted as the section's alignment. */
      modeSwitch?: boolean;
      bytes: Uint8Array;
    })
  | (FragBase & { kind: 'pool'; pool: Pool; bytes: Uint8Array });

export interface SymbolDef {
  kind: 'label' | 'equ';
  /** Name in source (for messages and the symbol table). */
  display: string;
  section?: SectionName;
  /** Label defined while assembling Thumb code. */
  thumb: boolean;
  /** Marked as a function (.type NAME, %function or .thumb_func). */
  func: boolean;
  /** Local (numeric or .L) label: left out of the exported symbol table. */
  hidden: boolean;
  loc: SrcLoc;
  /** Position of the defining statement in the source. */
  seq: number;
}

export interface Plan {
  readonly sections: Record<SectionName, Frag[]>;
  readonly symbols: Map<string, SymbolDef>;
  /** Internal names of symbols, in definition order. */
  readonly order: string[];
}
