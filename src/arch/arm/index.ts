// The ARM (AArch32, EABI) architecture for the modelled kernel: layouts,
// page tables, entry assembly, syscall numbers and the CPU-facing ops.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../cpu/libs.js';
import { StructView } from '../../machine/struct.js';
import type { KernelArch, KernelSource } from '../types.js';
import { PAGE_OFFSET, PAGE_SIZE } from '../types.js';
import { armCpu } from './cpu.js';
import { PSR, TIF, armAsmOffsets, cpuContextSave, ptRegs, threadInfo, threadStruct } from './layout.js';
import { ArmCpuOps, attachedOps } from './ops.js';
import { armPgtable } from './pgtable.js';
import { armSyscallTable } from './syscalls.js';

/** Where the kernel image is assembled (Linux's TEXT_OFFSET 0x8000 above PAGE_OFFSET). */
export const ARM_KERNEL_BASE = 0xc0008000;

/** Kernel image sources, in link order. */
export const ARM_KERNEL_FILES = ['asm/arm/entry.S'] as const;
export const ARM_VECTORS_FILE = 'asm/arm/vectors.S';

function source(file: string): KernelSource {
  return { file, text: readFileSync(join(projectRoot(), file), 'utf8') };
}

/**
 * `b .` (0xeafffffe) over a page: a gate slot spins on itself. Unicorn may go
 * on executing after a code hook asked it to stop (measured: it ran on through
 * the gate page into the sys_call_table), so a slot must hold the CPU in place
 * until the stop takes effect.
 */
function gatePage(): Uint8Array {
  const out = new Uint8Array(PAGE_SIZE);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < PAGE_SIZE; i += 4) dv.setUint32(i, 0xeafffffe, true);
  return out;
}

export const armKernelArch: KernelArch = {
  cpu: armCpu,
  kernelBase: ARM_KERNEL_BASE,
  kernelSources: () => ARM_KERNEL_FILES.map(source),
  vectorsSource: () => source(ARM_VECTORS_FILE),
  asmOffsets: armAsmOffsets,
  layouts: { thread_info: threadInfo, pt_regs: ptRegs, thread_struct: threadStruct },
  pgtable: armPgtable,
  tif: TIF,
  // traps.c / fault.c: QEMU's EXCP_UDEF (1) → SIGILL, EXCP_PREFETCH_ABORT (3) and
  // EXCP_DATA_ABORT (4) → SIGSEGV, EXCP_BKPT (7) → SIGTRAP; anything else SIGILL.
  // do_signal (arch/arm/kernel/signal.c, 3.x), no handler: r0 = ORIG_r0; pc stays
  // after the svc; the asm restarts the syscall itself (1), or restart_syscall (-1).
  restartSyscall(mem, regsPa, block) {
    const regs = new StructView(mem, ptRegs, regsPa);
    regs.set('ARM_r0', regs.get('ARM_ORIG_r0'));
    return block ? -1 : 1;
  },
  trapSignal: (excp) => ({ 3: 11, 4: 11, 7: 5 } as Record<number, number>)[excp] ?? 4,
  // EABI: number in r7, arguments in r0–r5, result in r0.
  syscallRegs: {
    nr: 'ARM_r7',
    args: ['ARM_r0', 'ARM_r1', 'ARM_r2', 'ARM_r3', 'ARM_r4', 'ARM_r5'],
    ret: 'ARM_r0',
    sp: 'ARM_sp',
    pc: 'ARM_pc',
  },
  syscallTable: armSyscallTable,
  gateFill: gatePage(),

  attach: (cpu, mem, sym) => new ArmCpuOps(cpu, mem, sym),

  // copy_thread (arch/arm/kernel/process.c), user-task branch.
  copyThread(mem, child, childRegsPa, newsp, sym) {
    const regs = new StructView(mem, ptRegs, childRegsPa);
    regs.set('ARM_r0', 0); // the child's fork() returns 0
    if (newsp) regs.set('ARM_sp', newsp);
    // memset(&thread->cpu_context, 0, …): r5 = 0 tells ret_from_fork this is not a kernel thread.
    const ctx = child.tiPa + threadInfo.offsetOf('cpu_context');
    mem.u8.fill(0, ctx, ctx + cpuContextSave.size);
    const ti = new StructView(mem, threadInfo, child.tiPa);
    ti.set('cpu_context.pc', sym('ret_from_fork'));
    ti.set('cpu_context.sp', (childRegsPa + PAGE_OFFSET) >>> 0);
  },

  // copy_thread (arch/arm/kernel/process.c), PF_KTHREAD branch: ret_from_fork
  // sees r5 = fn and calls fn(r4) after schedule_tail.
  copyKernelThread(mem, child, childRegsPa, fn, arg, sym) {
    mem.u8.fill(0, childRegsPa, childRegsPa + ptRegs.size);
    new StructView(mem, ptRegs, childRegsPa).set('ARM_cpsr', PSR.SVC_MODE);
    const ctx = child.tiPa + threadInfo.offsetOf('cpu_context');
    mem.u8.fill(0, ctx, ctx + cpuContextSave.size);
    const ti = new StructView(mem, threadInfo, child.tiPa);
    ti.set('cpu_context.r4', arg);
    ti.set('cpu_context.r5', fn);
    ti.set('cpu_context.pc', sym('ret_from_fork'));
    ti.set('cpu_context.sp', (childRegsPa + PAGE_OFFSET) >>> 0);
  },

  // start_thread (arch/arm/include/asm/processor.h).
  startThread(mem, regsPa, entry, sp) {
    mem.u8.fill(0, regsPa, regsPa + ptRegs.size);
    const regs = new StructView(mem, ptRegs, regsPa);
    regs.set('ARM_cpsr', PSR.USR_MODE | (entry & 1 ? PSR.T_BIT : 0));
    regs.set('ARM_pc', entry & ~1);
    regs.set('ARM_sp', sp);
  },

  // set_tls (arch/arm/include/asm/tls.h): thread_info.tp_value, and the hardware
  // at once if the task is the one running on an attached CPU.
  setTls(mem, ti, tls) {
    new StructView(mem, threadInfo, ti.tiPa).set('tp_value', tls);
    const ops = attachedOps(mem);
    if (ops && ops.currentTi === ti.tiPa) ops.loadTls(tls);
  },

  // copy_thread: `if (clone_flags & CLONE_SETTLS) thread->tp_value[0] = childregs->ARM_r3;`
  // — the value itself, for the child (not running, so only its thread_info changes).
  copyThreadTls(mem, child, tls) {
    armKernelArch.setTls(mem, child, tls);
    return 0;
  },

  // flush_thread → flush_tls (execve): the new image starts with TLS 0.
  flushThread(mem, ti) {
    armKernelArch.setTls(mem, ti, 0);
  },

  // No TLS segments on ARM: set_thread_area/get_thread_area are i386 calls.
  threadArea: null,
};
