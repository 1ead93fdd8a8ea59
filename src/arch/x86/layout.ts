// i386 kernel data layouts, as Linux 3.x defines them for CONFIG_X86_32:
//
//   thread_info   arch/x86/include/asm/thread_info.h (the seeds' struct: task first)
//   pt_regs       arch/x86/include/asm/ptrace.h (what SAVE_ALL + the CPU push)
//   thread_struct arch/x86/include/asm/processor.h (the `thread` member of task_struct)
//   x86_hw_tss    arch/x86/include/asm/processor.h (the TSS the CPU reads esp0 from)
//   user_desc     arch/x86/include/uapi/asm/ldt.h (set_thread_area's argument)
//
// asmOffsets() is this file's asm-offsets_32.c: every number entry_32.S uses comes
// from the layouts below, never from a literal in the assembly.

import { defineStruct, type PhysMem, type StructLayout } from '../../machine/struct.js';
import { PAGE_OFFSET, THREAD_SIZE } from '../types.js';

/**
 * struct restart_block as 2.6's thread_info.h had it: a function pointer and four
 * argument words (later kernels made the argument part a union of per-syscall structs).
 */
export const restartBlockLayout: StructLayout = defineStruct('restart_block', [
  ['fn', 'u32'],
  ['arg0', 'u32'],
  ['arg1', 'u32'],
  ['arg2', 'u32'],
  ['arg3', 'u32'],
]);

/** struct thread_info, at the lowest address of the 8 KiB kernel stack. */
export const threadInfoLayout: StructLayout = defineStruct('thread_info', [
  ['task', 'u32'], //              struct task_struct *task: main task structure
  ['exec_domain', 'u32'], //       struct exec_domain *exec_domain
  ['flags', 'u32'], //             low level flags (TIF_*)
  ['status', 'u32'], //            thread synchronous flags (TS_*)
  ['cpu', 'u32'], //               current CPU
  ['preempt_count', 'i32'], //     0 => preemptable, < 0 => BUG
  ['addr_limit', 'u32'], //        mm_segment_t: 0xC0000000 for user tasks (USER_DS)
  ['restart_block', { struct: restartBlockLayout }],
  ['sysenter_return', 'u32'], //   void __user *sysenter_return
  ['uaccess_err', 'i32'], //       int uaccess_err
]);

/**
 * struct pt_regs (32-bit): 17 words. The last five are pushed by the CPU on the
 * trap (eip, cs, eflags, esp, ss); orig_ax by `pushl %eax` in system_call; the rest by SAVE_ALL.
 */
export const ptRegsLayout: StructLayout = defineStruct('pt_regs', [
  ['bx', 'u32'],
  ['cx', 'u32'],
  ['dx', 'u32'],
  ['si', 'u32'],
  ['di', 'u32'],
  ['bp', 'u32'],
  ['ax', 'u32'],
  ['ds', 'u32'],
  ['es', 'u32'],
  ['fs', 'u32'],
  ['gs', 'u32'],
  ['orig_ax', 'u32'],
  ['ip', 'u32'],
  ['cs', 'u32'],
  ['flags', 'u32'],
  ['sp', 'u32'],
  ['ss', 'u32'],
]);

/** GDT_ENTRY_TLS_ENTRIES: three TLS descriptors per thread (glibc uses the first, entry 6). */
export const GDT_ENTRY_TLS_ENTRIES = 3;
export const GDT_ENTRY_TLS_MIN = 6;
export const GDT_ENTRY_TLS_MAX = GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES - 1;

/**
 * struct thread_struct, 32-bit part, in Linux 3.x order: the TLS descriptors
 * (tls_array[3], two words each: the descriptor's low and high dword), sp0 (the
 * kernel stack top, TSS.esp0 while the task runs), sp and ip (saved by switch_to),
 * sysenter_cs, gs (used with lazy %gs; kept for the layout).
 */
export const threadStructLayout: StructLayout = defineStruct('thread_struct', [
  ['tls_array', { array: 'u32', length: 2 * GDT_ENTRY_TLS_ENTRIES }],
  ['sp0', 'u32'],
  ['sp', 'u32'],
  ['sysenter_cs', 'u32'],
  ['ip', 'u32'],
  ['gs', 'u32'],
]);

/** struct x86_hw_tss (32-bit), 104 bytes: the CPU takes ss0:esp0 from here on a trap from user mode. */
export const hwTssLayout: StructLayout = defineStruct('x86_hw_tss', [
  ['back_link', 'u32'],
  ['sp0', 'u32'],
  ['ss0', 'u32'],
  ['sp1', 'u32'],
  ['ss1', 'u32'],
  ['sp2', 'u32'],
  ['ss2', 'u32'],
  ['cr3', 'u32'],
  ['ip', 'u32'],
  ['flags', 'u32'],
  ['ax', 'u32'],
  ['cx', 'u32'],
  ['dx', 'u32'],
  ['bx', 'u32'],
  ['sp', 'u32'],
  ['bp', 'u32'],
  ['si', 'u32'],
  ['di', 'u32'],
  ['es', 'u32'],
  ['cs', 'u32'],
  ['ss', 'u32'],
  ['ds', 'u32'],
  ['fs', 'u32'],
  ['gs', 'u32'],
  ['ldt', 'u32'],
  ['trace', 'u16'],
  ['io_bitmap_base', 'u16'],
]);

/**
 * struct user_desc (set_thread_area, CLONE_SETTLS on i386). `flags` holds the
 * bitfields: seg_32bit:1, contents:2, read_exec_only:1, limit_in_pages:1,
 * seg_not_present:1, useable:1 (bit 0 upwards).
 */
export const userDescLayout: StructLayout = defineStruct('user_desc', [
  ['entry_number', 'u32'],
  ['base_addr', 'u32'],
  ['limit', 'u32'],
  ['flags', 'u32'],
]);

// Segment selectors (arch/x86/include/asm/segment.h, 32-bit): GDT index * 8 + RPL.
export const GDT_ENTRY_KERNEL_CS = 12;
export const GDT_ENTRY_KERNEL_DS = 13;
export const GDT_ENTRY_DEFAULT_USER_CS = 14;
export const GDT_ENTRY_DEFAULT_USER_DS = 15;
export const GDT_ENTRY_TSS = 16;
export const GDT_ENTRIES = 32;
export const __KERNEL_CS = GDT_ENTRY_KERNEL_CS * 8; // 0x60
export const __KERNEL_DS = GDT_ENTRY_KERNEL_DS * 8; // 0x68
export const __USER_CS = GDT_ENTRY_DEFAULT_USER_CS * 8 + 3; // 0x73
export const __USER_DS = GDT_ENTRY_DEFAULT_USER_DS * 8 + 3; // 0x7b

/**
 * Bytes left unused above pt_regs at the top of every kernel stack. Linux 3.x on
 * 32-bit reserves 8 (task_pt_regs() = stack top - 8 - sizeof(pt_regs), thread.sp0 =
 * stack top - 8: room vm86 mode needs); this machine has no vm86 and the kernel puts
 * pt_regs flush with the stack top (kstackTop = stack base + THREAD_SIZE), as
 * Linux >= 4.2 does without CONFIG_VM86. trapEntry() pushes from whatever kstackTop
 * it is given and copyThread() derives thread.sp0 from childRegsPa, so a kernel
 * that chooses 8 stays consistent too.
 */
export const TOP_OF_KERNEL_STACK_PADDING = 0;

// EFLAGS bits (arch/x86/include/uapi/asm/processor-flags.h).
export const X86_EFLAGS_TF = 0x100;
export const X86_EFLAGS_IF = 0x200;
export const X86_EFLAGS_NT = 0x4000;
export const X86_EFLAGS_RF = 0x10000;
export const X86_EFLAGS_VM = 0x20000;
/** Bit 1 of EFLAGS always reads as 1. */
export const X86_EFLAGS_FIXED = 0x2;

export const ENOSYS = 38;

/** thread_info->flags bits (arch/x86/include/asm/thread_info.h, 32-bit). */
export const TIF = { NOTIFY_RESUME: 1, SIGPENDING: 2, NEED_RESCHED: 3 } as const;
/**
 * _TIF_WORK_MASK: the work resume_userspace does. Linux's mask is "everything
 * but the syscall-trace bits"; this kernel has only these three.
 */
export const _TIF_WORK_MASK = (1 << TIF.NOTIFY_RESUME) | (1 << TIF.SIGPENDING) | (1 << TIF.NEED_RESCHED);

/** asm-offsets for entry_32.S: the names of Linux's asm-offsets_32.c / asm-offsets.c. */
export function asmOffsets(): Record<string, number> {
  const ti = threadInfoLayout;
  const pt = ptRegsLayout;
  return {
    TI_task: ti.offsetOf('task'),
    TI_exec_domain: ti.offsetOf('exec_domain'),
    TI_flags: ti.offsetOf('flags'),
    TI_status: ti.offsetOf('status'),
    TI_cpu: ti.offsetOf('cpu'),
    TI_preempt_count: ti.offsetOf('preempt_count'),
    TI_addr_limit: ti.offsetOf('addr_limit'),
    TI_restart_block: ti.offsetOf('restart_block'),
    TI_sysenter_return: ti.offsetOf('sysenter_return'),
    PT_EBX: pt.offsetOf('bx'),
    PT_ECX: pt.offsetOf('cx'),
    PT_EDX: pt.offsetOf('dx'),
    PT_ESI: pt.offsetOf('si'),
    PT_EDI: pt.offsetOf('di'),
    PT_EBP: pt.offsetOf('bp'),
    PT_EAX: pt.offsetOf('ax'),
    PT_DS: pt.offsetOf('ds'),
    PT_ES: pt.offsetOf('es'),
    PT_FS: pt.offsetOf('fs'),
    PT_GS: pt.offsetOf('gs'),
    PT_ORIG_EAX: pt.offsetOf('orig_ax'),
    PT_EIP: pt.offsetOf('ip'),
    PT_CS: pt.offsetOf('cs'),
    PT_EFLAGS: pt.offsetOf('flags'),
    PT_OLDESP: pt.offsetOf('sp'),
    PT_OLDSS: pt.offsetOf('ss'),
    PTREGS_SIZE: pt.size,
    THREAD_SIZE,
    TOP_OF_KERNEL_STACK_PADDING,
    __PAGE_OFFSET: PAGE_OFFSET,
    __KERNEL_CS,
    __KERNEL_DS,
    __USER_CS,
    __USER_DS,
    GDT_ENTRY_TLS_MIN,
    GDT_ENTRY_TLS_ENTRIES,
    GDT_ENTRIES,
    X86_EFLAGS_IF,
    X86_EFLAGS_VM,
    ENOSYS,
    _TIF_WORK_MASK,
    _TIF_NEED_RESCHED: 1 << TIF.NEED_RESCHED,
    SEGMENT_RPL_MASK: 3,
    USER_RPL: 3,
  };
}

// ---------------------------------------------------------------------------
// Segment descriptors (arch/x86/include/asm/desc_defs.h).

/** GDT_ENTRY_INIT(flags, base, limit) → [low dword, high dword]. */
export function gdtEntry(flags: number, base: number, limit: number): [number, number] {
  const a = ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const b = (((base & 0xff0000) >>> 16) | ((flags & 0xf0ff) << 8) | (limit & 0xf0000) | (base & 0xff000000)) >>> 0;
  return [a, b];
}

/** The base address a descriptor describes. */
export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

export interface UserDesc {
  entry_number: number;
  base_addr: number;
  limit: number;
  seg_32bit: boolean;
  contents: number;
  read_exec_only: boolean;
  limit_in_pages: boolean;
  seg_not_present: boolean;
  useable: boolean;
}

/** Decodes the bitfields of struct user_desc.flags. */
export function decodeUserDesc(entry: number, base: number, limit: number, flags: number): UserDesc {
  return {
    entry_number: entry | 0,
    base_addr: base >>> 0,
    limit: limit >>> 0,
    seg_32bit: (flags & 1) !== 0,
    contents: (flags >>> 1) & 3,
    read_exec_only: ((flags >>> 3) & 1) !== 0,
    limit_in_pages: ((flags >>> 4) & 1) !== 0,
    seg_not_present: ((flags >>> 5) & 1) !== 0,
    useable: ((flags >>> 6) & 1) !== 0,
  };
}

/** The user_desc glibc passes for its thread pointer: flat 4 GiB, 32-bit, writable, useable. */
export function flatTlsDesc(base: number, entry = GDT_ENTRY_TLS_MIN): UserDesc {
  return decodeUserDesc(entry, base, 0xfffff, 0x51);
}

/** LDT_empty(info): the documented "no segment" user_desc (base 0, limit 0, read_exec_only, not present). */
export function LDT_empty(d: UserDesc): boolean {
  return d.base_addr === 0 && d.limit === 0 && d.contents === 0 && d.read_exec_only && !d.seg_32bit && !d.limit_in_pages && d.seg_not_present && !d.useable;
}

/** LDT_zero(info): an all-zero user_desc (but for entry_number), which programs also use to mean "no segment". */
export function LDT_zero(d: UserDesc): boolean {
  return d.base_addr === 0 && d.limit === 0 && d.contents === 0 && !d.read_exec_only && !d.seg_32bit && !d.limit_in_pages && !d.seg_not_present && !d.useable;
}

/**
 * fill_ldt (arch/x86/include/asm/desc.h): user_desc → [low dword, high dword]: S = 1,
 * DPL 3, and (Linux >= 4.15) the Accessed bit set, so the CPU never has to write the
 * descriptor when a selector is loaded (the GDT can be mapped read-only). Callers
 * decide emptiness first (set_tls_desc clears the slot for LDT_empty / LDT_zero).
 */
export function fillLdt(d: UserDesc): [number, number] {
  const a = ((d.limit & 0x0ffff) | ((d.base_addr & 0x0000ffff) << 16)) >>> 0;
  const b =
    ((d.base_addr & 0x00ff0000) >>> 16) |
    (d.base_addr & 0xff000000) |
    (d.limit & 0xf0000) |
    0x100 | // type bit 0: Accessed
    ((d.read_exec_only ? 0 : 1) << 9) |
    (d.contents << 10) |
    ((d.seg_not_present ? 0 : 1) << 15) |
    ((d.seg_32bit ? 1 : 0) << 22) |
    ((d.limit_in_pages ? 1 : 0) << 23) |
    ((d.useable ? 1 : 0) << 20) |
    0x7000; // S = 1 (code/data segment), DPL = 3
  return [a, b >>> 0];
}

/** Writes one TLS descriptor into thread.tls_array[entry - GDT_ENTRY_TLS_MIN] (threadPa: the task's `thread`). */
export function writeTlsDesc(mem: PhysMem, threadPa: number, entry: number, desc: [number, number]): void {
  if (entry < GDT_ENTRY_TLS_MIN || entry > GDT_ENTRY_TLS_MAX) throw new Error(`x86: TLS entry ${entry} is outside ${GDT_ENTRY_TLS_MIN}..${GDT_ENTRY_TLS_MAX}`);
  const at = threadPa + threadStructLayout.offsetOf('tls_array') + 8 * (entry - GDT_ENTRY_TLS_MIN);
  mem.dv.setUint32(at, desc[0], true);
  mem.dv.setUint32(at + 4, desc[1], true);
}
