// What the Machine needs to know about a CPU architecture. Each architecture
// (src/arch/<arch>/cpu.ts) provides one; the Machine itself stays arch-neutral.

import type { CpuArch } from '../cpu/unicorn.js';

export interface ArchCpu {
  readonly name: CpuArch;
  /** Registers in display order (as `info registers` shows them). */
  readonly regNames: readonly string[];
  /** Unicorn register id for each name, including aliases (e.g. fp = r11). */
  readonly regIds: Readonly<Record<string, number>>;
  readonly pc: string;
  readonly sp: string;
  /** Status register shown with decoded flags. */
  readonly flags: string;
  /** Interrupt number Unicorn reports for the syscall instruction (ARM EXCP_SWI = 2, x86 int 0x80 = 0x80). */
  readonly syscallIntno: number;
  /** The syscall instruction, for messages. */
  readonly syscallInsn: string;
  /** Decodes the status register as a short string, e.g. "nZcv usr" or "ZF PF IF". */
  describeFlags(value: number): string;
}
