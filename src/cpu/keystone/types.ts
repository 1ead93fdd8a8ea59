// The assembler's public vocabulary: architectures, syntaxes, options and its one error.

export type AsmArch = 'arm' | 'thumb' | 'x86';
export type AsmSyntax = 'att' | 'intel';
export const ASM_ARCHES: readonly AsmArch[] = ['arm', 'thumb', 'x86'];
export const ASM_SYNTAXES: readonly AsmSyntax[] = ['att', 'intel'];

export interface AsmOptions {
  arch: AsmArch;
  /** x86 only: 'att' (GNU as style, the default) or 'intel'. Ignored for arm/thumb. */
  syntax?: AsmSyntax;
  /** Address of the first instruction (default 0). Numeric branch targets are absolute. */
  addr?: number;
}

/** The source could not be assembled. `insn` is the offending statement as the caller wrote it. */
export class AsmError extends Error {
  readonly insn: string;
  readonly reason: string;
  constructor(insn: string, reason: string) {
    super(`cannot assemble "${insn}": ${reason}`);
    this.name = 'AsmError';
    this.insn = insn;
    this.reason = reason;
  }
}
