// copy_thread, start_thread, flush_thread and the TLS descriptors
// (arch/x86/kernel/process_32.c, tls.c), on guest memory.

import { StructView, type PhysMem } from '../../machine/struct.js';
import { PAGE_OFFSET } from '../types.js';
import {
  GDT_ENTRY_TLS_ENTRIES,
  GDT_ENTRY_TLS_MAX,
  GDT_ENTRY_TLS_MIN,
  X86_EFLAGS_FIXED,
  X86_EFLAGS_IF,
  __KERNEL_CS,
  __USER_CS,
  __USER_DS,
  fillLdt,
  flatTlsDesc,
  ptRegsLayout,
  threadStructLayout,
  writeTlsDesc,
  type UserDesc,
} from './layout.js';
import type { TaskRef } from '../types.js';
import { cpuStateFor, loadTls } from './ops.js';

const EINVAL = 22;
const ESRCH = 3;

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

/** flush_thread's TLS part (execve): clears thread.tls_array, and the GDT copy if the task is running. */
export function flushThread(mem: PhysMem, ti: TaskRef): void {
  const at = ti.threadPa + threadStructLayout.offsetOf('tls_array');
  mem.u8.fill(0, at, at + 8 * GDT_ENTRY_TLS_ENTRIES);
  reloadIfCurrent(mem, ti);
}

function reloadIfCurrent(mem: PhysMem, ti: TaskRef): void {
  const st = cpuStateFor(mem);
  if (st && st.current && st.current.taskPa === ti.taskPa) loadTls(st, ti.threadPa);
}

/**
 * do_set_thread_area (tls.c): installs `desc` in one of the task's three TLS slots;
 * entry_number -1 picks the first free one (get_free_idx). Returns the entry number
 * used (the kernel writes it back to the user's struct), or -errno. Like
 * set_tls_desc, reloads the GDT's TLS entries at once when the task is running.
 */
export function setThreadArea(mem: PhysMem, ti: TaskRef, desc: UserDesc): number {
  let idx = desc.entry_number;
  if (idx === -1) {
    idx = -ESRCH;
    const at = ti.threadPa + threadStructLayout.offsetOf('tls_array');
    for (let i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++) {
      if (mem.dv.getUint32(at + 8 * i, true) === 0 && mem.dv.getUint32(at + 8 * i + 4, true) === 0) {
        idx = GDT_ENTRY_TLS_MIN + i;
        break;
      }
    }
    if (idx < 0) return idx;
  }
  if (idx < GDT_ENTRY_TLS_MIN || idx > GDT_ENTRY_TLS_MAX) return -EINVAL;
  writeTlsDesc(mem, ti.threadPa, idx, fillLdt({ ...desc, entry_number: idx }));
  reloadIfCurrent(mem, ti);
  return idx;
}

/**
 * The contract's set_tls: on i386 the TLS is a segment descriptor, so `tls` is taken
 * as the base of the flat 4 GiB descriptor glibc asks for, put in the first TLS slot
 * (GDT entry 6, selector 0x33). A real i386 CLONE_SETTLS / set_thread_area passes a
 * `struct user_desc *`: read it and use setThreadArea for the general case.
 */
export function setTls(mem: PhysMem, ti: TaskRef, tls: number): void {
  setThreadArea(mem, ti, flatTlsDesc(tls, GDT_ENTRY_TLS_MIN));
}
