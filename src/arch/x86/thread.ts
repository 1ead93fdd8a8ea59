// copy_thread, start_thread, flush_thread (arch/x86/kernel/process_32.c), on guest
// memory; the TLS descriptors themselves are tls.ts.

import { StructView, type PhysMem } from '../../machine/struct.js';
import { PAGE_OFFSET } from '../types.js';
import {
  GDT_ENTRY_TLS_MIN,
  X86_EFLAGS_FIXED,
  X86_EFLAGS_IF,
  __KERNEL_CS,
  __USER_CS,
  __USER_DS,
  flatTlsDesc,
  ptRegsLayout,
  threadStructLayout,
} from './layout.js';
import type { TaskRef, UserAccess } from '../types.js';
import { do_set_thread_area, flush_thread_tls, set_tls_desc } from './tls.js';

/**
 * The frame switch_to's `popl %ebp; popfl` expects below a new task's pt_regs:
 * thread.sp points at [ebp = 0, eflags = X86_EFLAGS_FIXED], then pt_regs. (Linux's
 * child starts with thread.sp = childregs and enters ret_from_fork without running
 * those pops; here the context load always pops, so the child gets a dummy frame.)
 */
function setFirstContext(mem: PhysMem, threadPa: number, regsPa: number, ip: number): void {
  const regsVa = (regsPa + PAGE_OFFSET) >>> 0;
  mem.dv.setUint32(regsPa - 8, 0, true); // ebp
  mem.dv.setUint32(regsPa - 4, X86_EFLAGS_FIXED, true); // eflags
  const t = new StructView(mem, threadStructLayout, threadPa);
  t.set('sp', regsVa - 8);
  t.set('sp0', regsVa + ptRegsLayout.size); // childregs + 1: TSS.esp0 while the child runs
  t.set('ip', ip);
}

/** copy_thread for a user task (fork/vfork/clone): eax = 0 in the child, optional new user sp. */
export function copyThread(mem: PhysMem, child: TaskRef, childRegsPa: number, newsp: number, sym: (name: string) => number): void {
  const regs = new StructView(mem, ptRegsLayout, childRegsPa);
  regs.set('ax', 0);
  if (newsp) regs.set('sp', newsp);
  setFirstContext(mem, child.threadPa, childRegsPa, sym('ret_from_fork'));
}

/**
 * copy_thread for a kernel thread (PF_KTHREAD): pt_regs cleared but for kernel
 * segments, bx = the thread function and bp = its argument; the first switch-in
 * runs ret_from_kernel_thread, which calls bx(bp).
 */
export function copyKernelThread(mem: PhysMem, child: TaskRef, childRegsPa: number, fn: number, arg: number, sym: (name: string) => number): void {
  mem.u8.fill(0, childRegsPa, childRegsPa + ptRegsLayout.size);
  const regs = new StructView(mem, ptRegsLayout, childRegsPa);
  regs.set('cs', __KERNEL_CS);
  regs.set('ds', __USER_DS);
  regs.set('es', __USER_DS);
  regs.set('flags', X86_EFLAGS_IF | X86_EFLAGS_FIXED);
  regs.set('orig_ax', -1);
  regs.set('bx', fn);
  regs.set('bp', arg);
  setFirstContext(mem, child.threadPa, childRegsPa, sym('ret_from_kernel_thread'));
}

/** start_thread: a fresh user-mode entry at `entry` with stack `sp`. */
export function startThread(mem: PhysMem, regsPa: number, entry: number, sp: number): void {
  mem.u8.fill(0, regsPa, regsPa + ptRegsLayout.size);
  const regs = new StructView(mem, ptRegsLayout, regsPa);
  regs.set('ip', entry);
  regs.set('sp', sp);
  regs.set('cs', __USER_CS);
  regs.set('ss', __USER_DS);
  regs.set('ds', __USER_DS);
  regs.set('es', __USER_DS);
  // fs = gs = 0 (set_user_gs(regs, 0)): no TLS until the program asks for one.
  regs.set('flags', X86_EFLAGS_IF | X86_EFLAGS_FIXED);
}

/**
 * The contract's setTls (a shortcut Linux does not have on i386): the flat 4 GiB
 * descriptor glibc asks for, based at `tls`, in the first TLS slot (GDT entry 6,
 * selector 0x33). Real programs use set_thread_area / CLONE_SETTLS with a
 * struct user_desc (tls.ts).
 */
export function setTls(mem: PhysMem, ti: TaskRef, tls: number): void {
  set_tls_desc(mem, ti, GDT_ENTRY_TLS_MIN, flatTlsDesc(tls, GDT_ENTRY_TLS_MIN));
}

/** copy_thread_tls, CLONE_SETTLS: `tls` points to a struct user_desc; no free-slot search (can_allocate = 0). */
export function copyThreadTls(mem: PhysMem, child: TaskRef, tls: number, user: UserAccess): number {
  return do_set_thread_area(mem, child, tls, false, user);
}

/** flush_thread (execve): the TLS descriptors go. */
export function flushThread(mem: PhysMem, ti: TaskRef): void {
  flush_thread_tls(mem, ti);
}
