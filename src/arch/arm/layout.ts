// ARM (AArch32) kernel data layouts, as Linux 3.x defines them, and the
// asm-offsets the entry assembly uses. Every offset the asm sees is computed
// here from the layouts (like arch/arm/kernel/asm-offsets.c), never typed twice.
//
// Sources: arch/arm/include/asm/thread_info.h (struct thread_info,
// struct cpu_context_save), arch/arm/include/uapi/asm/ptrace.h (struct pt_regs,
// ARM_r0 … ARM_ORIG_r0), arch/arm/include/asm/processor.h (struct thread_struct),
// arch/arm/kernel/entry-header.S (S_OFF).

import { defineStruct, type StructLayout } from '../../machine/struct.js';
import { PAGE_OFFSET, PAGE_SIZE, THREAD_SIZE } from '../types.js';

/** struct cpu_context_save: what __switch_to saves (callee-saved registers, sp, pc). */
export const cpuContextSave: StructLayout = defineStruct('cpu_context_save', [
  ['r4', 'u32'],
  ['r5', 'u32'],
  ['r6', 'u32'],
  ['r7', 'u32'],
  ['r8', 'u32'],
  ['r9', 'u32'],
  ['sl', 'u32'],
  ['fp', 'u32'],
  ['sp', 'u32'],
  ['pc', 'u32'],
  ['extra', { array: 'u32', length: 2 }], // XScale 'acc' register, etc.
]);

/**
 * struct thread_info (Linux 3.0–3.10 layout; 3.11 made tp_value an array of two
 * without moving anything before it). The FP/VFP state, crunch state and
 * restart_block that follow tp_value in Linux are left out: nothing here uses
 * them, so sizeof(struct thread_info) is smaller than Linux's.
 */
export const threadInfo: StructLayout = defineStruct('thread_info', [
  ['flags', 'u32'], // low level flags (TIF_*)
  ['preempt_count', 'i32'], // 0 => preemptable, <0 => bug
  ['addr_limit', 'u32'], // mm_segment_t: USER_DS / KERNEL_DS
  ['task', 'u32'], // struct task_struct * (a kernel virtual address)
  ['exec_domain', 'u32'],
  ['cpu', 'u32'],
  ['cpu_domain', 'u32'], // DACR value for this thread
  ['cpu_context', { struct: cpuContextSave }], // __switch_to assumes it follows cpu_domain
  ['syscall', 'u32'], // syscall number
  ['used_cp', { bytes: 16 }], // __u8 used_cp[16]: thread used coprocessor
  ['tp_value', 'u32'], // TLS value (TPIDRURO, and the kuser word at 0xffff0ff0)
]);

/** The 18 saved registers of struct pt_regs, in uregs[] order (ARM_r0 = uregs[0] … ARM_ORIG_r0 = uregs[17]). */
export const PT_REGS_FIELDS = [
  'ARM_r0', 'ARM_r1', 'ARM_r2', 'ARM_r3', 'ARM_r4', 'ARM_r5', 'ARM_r6', 'ARM_r7', 'ARM_r8', 'ARM_r9', 'ARM_r10',
  'ARM_fp', 'ARM_ip', 'ARM_sp', 'ARM_lr', 'ARM_pc', 'ARM_cpsr', 'ARM_ORIG_r0',
] as const;

/** struct pt_regs { unsigned long uregs[18]; }, with Linux's ARM_* names for each slot. */
export const ptRegs: StructLayout = defineStruct(
  'pt_regs',
  PT_REGS_FIELDS.map((n) => [n, 'u32'] as const),
);

/** struct thread_struct (the arch part of task_struct), kept to its fault-information fields. */
export const threadStruct: StructLayout = defineStruct('thread_struct', [
  ['address', 'u32'], // fault address
  ['trap_no', 'u32'],
  ['error_code', 'u32'],
]);

/** Program status register bits and modes (arch/arm/include/uapi/asm/ptrace.h). */
export const PSR = {
  USR_MODE: 0x10,
  FIQ_MODE: 0x11,
  IRQ_MODE: 0x12,
  SVC_MODE: 0x13,
  ABT_MODE: 0x17,
  UND_MODE: 0x1b,
  SYSTEM_MODE: 0x1f,
  MODE_MASK: 0x1f,
  T_BIT: 0x20,
  F_BIT: 0x40,
  I_BIT: 0x80,
  A_BIT: 0x100,
  E_BIT: 0x200,
  J_BIT: 0x01000000,
  /** IT[7:0] of Thumb-2 IT blocks: bits 15:10 and 26:25. */
  IT_MASK: 0x0600fc00,
} as const;

/** Extra stack space below pt_regs while a syscall runs: r4 and r5 pushed as the 5th and 6th C arguments (entry-header.S). */
export const S_OFF = 8;
/** The initial kernel sp sits 8 bytes below the top of the stack (THREAD_START_SP); pt_regs end there. */
export const THREAD_START_SP = THREAD_SIZE - 8;
/** EABI: syscall numbers start at 0; the ARM-private ones (set_tls …) at 0xf0000 (asm/unistd.h). */
export const NR_SYSCALL_BASE = 0;
export const ARM_NR_BASE = 0xf0000;

/** Where vector_swi is reached: the SWI slot of the high vectors page. */
export const VECTORS_BASE = 0xffff0000;
export const VECTOR_SWI = VECTORS_BASE + 0x08;
export const VECTOR_IRQ = VECTORS_BASE + 0x18;
/** The word __kuser_get_tls loads (Linux's software TLS slot in the vectors page). */
export const KUSER_TLS = 0xffff0ff0;

/** thread_info->flags bits (arch/arm/include/asm/thread_info.h). */
export const TIF = { SIGPENDING: 0, NEED_RESCHED: 1, NOTIFY_RESUME: 2 } as const;
/** The work ret_to_user does before restoring the user's registers. */
export const _TIF_WORK_MASK = (1 << TIF.NEED_RESCHED) | (1 << TIF.SIGPENDING) | (1 << TIF.NOTIFY_RESUME);

/** asm-offsets for the entry assembly: thread_info (TI_*), pt_regs (S_*), and a few arch constants. */
export function armAsmOffsets(): Record<string, number> {
  const o: Record<string, number> = {};
  const ti = (sym: string, field: string) => (o[sym] = threadInfo.offsetOf(field));
  ti('TI_FLAGS', 'flags');
  ti('TI_PREEMPT', 'preempt_count');
  ti('TI_ADDR_LIMIT', 'addr_limit');
  ti('TI_TASK', 'task');
  ti('TI_EXEC_DOMAIN', 'exec_domain');
  ti('TI_CPU', 'cpu');
  ti('TI_CPU_DOMAIN', 'cpu_domain');
  ti('TI_CPU_SAVE', 'cpu_context');
  ti('TI_SYSCALL', 'syscall');
  ti('TI_USED_CP', 'used_cp');
  ti('TI_TP_VALUE', 'tp_value');
  // S_R0 … S_R10, S_FP, S_IP, S_SP, S_LR, S_PC, S_PSR, S_OLD_R0 (asm-offsets.c names).
  for (const f of PT_REGS_FIELDS) {
    const sym = f === 'ARM_cpsr' ? 'S_PSR' : f === 'ARM_ORIG_r0' ? 'S_OLD_R0' : `S_${f.slice(4).toUpperCase()}`;
    o[sym] = ptRegs.offsetOf(f);
  }
  o.S_FRAME_SIZE = ptRegs.size;
  o.S_OFF = S_OFF;
  o.THREAD_SIZE = THREAD_SIZE;
  o.THREAD_START_SP = THREAD_START_SP;
  o.PAGE_SZ = PAGE_SIZE;
  o.PAGE_OFFSET = PAGE_OFFSET;
  o.USR_MODE = PSR.USR_MODE;
  o.SVC_MODE = PSR.SVC_MODE;
  o.IRQ_MODE = PSR.IRQ_MODE;
  o.MODE_MASK = PSR.MODE_MASK;
  o.PSR_T_BIT = PSR.T_BIT;
  o.PSR_F_BIT = PSR.F_BIT;
  o.PSR_I_BIT = PSR.I_BIT;
  o.__NR_SYSCALL_BASE = NR_SYSCALL_BASE;
  o.__ARM_NR_BASE = ARM_NR_BASE;
  o._TIF_WORK_MASK = _TIF_WORK_MASK;
  return o;
}
