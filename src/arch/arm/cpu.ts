// ARM (AArch32) register set as Unicorn names it.

import { ARM_REG } from '../../cpu/uc-consts.js';
import type { ArchCpu } from '../../machine/arch-cpu.js';

const MODES: Record<number, string> = { 0x10: 'usr', 0x11: 'fiq', 0x12: 'irq', 0x13: 'svc', 0x17: 'abt', 0x1b: 'und', 0x1f: 'sys' };

export const armCpu: ArchCpu = {
  name: 'arm',
  regNames: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'r11', 'r12', 'sp', 'lr', 'pc', 'cpsr'],
  regIds: {
    r0: ARM_REG.R0, r1: ARM_REG.R1, r2: ARM_REG.R2, r3: ARM_REG.R3, r4: ARM_REG.R4, r5: ARM_REG.R5,
    r6: ARM_REG.R6, r7: ARM_REG.R7, r8: ARM_REG.R8, r9: ARM_REG.R9, r10: ARM_REG.R10, r11: ARM_REG.R11,
    r12: ARM_REG.R12, sp: ARM_REG.SP, lr: ARM_REG.LR, pc: ARM_REG.PC, cpsr: ARM_REG.CPSR, spsr: ARM_REG.SPSR,
    fp: ARM_REG.R11, ip: ARM_REG.R12, r13: ARM_REG.SP, r14: ARM_REG.LR, r15: ARM_REG.PC,
  },
  pc: 'pc',
  sp: 'sp',
  flags: 'cpsr',
  syscallIntno: 2, // EXCP_SWI
  syscallInsn: 'svc 0',
  describeFlags(v: number): string {
    const f = (bit: number, c: string) => ((v >>> bit) & 1 ? c.toUpperCase() : c);
    const mode = MODES[v & 0x1f] ?? `mode 0x${(v & 0x1f).toString(16)}`;
    return `${f(31, 'n')}${f(30, 'z')}${f(29, 'c')}${f(28, 'v')} ${mode}${v & 0x20 ? ' thumb' : ''}${v & 0x80 ? ' I' : ''}`;
  },
};
