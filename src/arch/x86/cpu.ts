// i386 register set as Unicorn names it.

import { X86_REG } from '../../cpu/uc-consts.js';
import type { ArchCpu } from '../../machine/arch-cpu.js';

const FLAG_BITS: [number, string][] = [[0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF']];

export const x86Cpu: ArchCpu = {
  name: 'x86',
  regNames: ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'eip', 'eflags'],
  regIds: {
    eax: X86_REG.EAX, ebx: X86_REG.EBX, ecx: X86_REG.ECX, edx: X86_REG.EDX, esi: X86_REG.ESI,
    edi: X86_REG.EDI, ebp: X86_REG.EBP, esp: X86_REG.ESP, eip: X86_REG.EIP, eflags: X86_REG.EFLAGS,
    cs: X86_REG.CS, ds: X86_REG.DS, es: X86_REG.ES, fs: X86_REG.FS, gs: X86_REG.GS, ss: X86_REG.SS,
    cr0: X86_REG.CR0, cr2: X86_REG.CR2, cr3: X86_REG.CR3,
  },
  pc: 'eip',
  sp: 'esp',
  flags: 'eflags',
  syscallIntno: 0x80,
  syscallInsn: 'int $0x80',
  describeFlags(v: number): string {
    return FLAG_BITS.filter(([b]) => (v >>> b) & 1).map(([, n]) => n).join(' ') || '-';
  },
};
