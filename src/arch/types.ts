// The contract between the arch-neutral kernel model (src/kernel) and each
// architecture (src/arch/<arch>). The kernel never names a register, a page-table
// bit or an instruction: it asks the architecture through this interface.
//
// Addresses: `pa` = guest physical (an index into PhysMem), `va` = guest virtual.
// Lowmem is mapped linearly: va = pa + PAGE_OFFSET for every byte of RAM.

import type { Unicorn } from '../cpu/unicorn.js';
import type { ArchCpu } from '../machine/arch-cpu.js';
import type { PhysMem, StructLayout } from '../machine/struct.js';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const PAGE_OFFSET = 0xc0000000;
/** Kernel stacks: 8 KiB, 8 KiB-aligned, thread_info at the lowest address (the seeds' layout). */
export const THREAD_SIZE = 8192;

export interface PageProt {
  readonly user: boolean;
  readonly write: boolean;
  readonly exec: boolean;
}

/** What a page-table walk found for one virtual address. */
export interface PteInfo {
  /** Physical address the va translates to (page base + offset within the page). */
  readonly pa: number;
  readonly prot: PageProt;
  /** Physical address of the descriptor that mapped it (L1 section entry / PDE with PS, or L2 entry / PTE). */
  readonly entryPa: number;
  readonly level: 'section' | 'page';
}

/** Returns a zeroed 4 KiB physical page for a second-level table. */
export type AllocTable = () => number;

/** Hardware page tables in guest RAM, in the architecture's real format. */
export interface PageTableOps {
  /** Size and alignment of a top-level table (ARM L1: 16 KiB/16 KiB; i386 page directory: 4 KiB/4 KiB). */
  readonly pgdSize: number;
  readonly pgdAlign: number;
  /** Fills the kernel half of a zeroed pgd: lowmem mapped linearly at PAGE_OFFSET (kernel-only, RW, exec), plus arch extras (ARM: the vectors page at 0xffff0000, user-readable and executable, backed by `vectorsPa`). */
  initKernel(mem: PhysMem, pgd: number, ramSize: number, allocTable: AllocTable, vectorsPa: number | null): void;
  /** pgd_alloc: copies the kernel half of `from` into the zeroed pgd `to` (second-level kernel tables are shared, not copied). */
  cloneKernel(mem: PhysMem, from: number, to: number): void;
  /** Walks the tables like the MMU does; null if nothing maps `va`. */
  walk(mem: PhysMem, pgd: number, va: number): PteInfo | null;
  /** Installs a 4 KiB user mapping va → pa (both page-aligned), allocating a second-level table if needed. */
  setPte(mem: PhysMem, pgd: number, va: number, pa: number, prot: PageProt, allocTable: AllocTable): void;
  /** Removes a 4 KiB user mapping (no-op if absent). */
  clearPte(mem: PhysMem, pgd: number, va: number): void;
  /** Calls fn for every present 4 KiB mapping below PAGE_OFFSET, in ascending va order. */
  forEachUserPte(mem: PhysMem, pgd: number, fn: (va: number, pte: PteInfo) => void): void;
  /** Frees every second-level table of the user half (calls freeTable(pa) once per table) and clears those entries. */
  freeUserTables(mem: PhysMem, pgd: number, freeTable: (pa: number) => void): void;
}

/** Where each syscall argument lives in pt_regs (field names of the arch's pt_regs layout). */
export interface SyscallRegs {
  /** Field holding the syscall number as the entry asm saved it (ARM: ARM_r7; i386: orig_ax). */
  readonly nr: string;
  /** Fields of arguments 1..6. */
  readonly args: readonly string[];
  /** Field the return value is stored to (ARM: ARM_r0; i386: ax). */
  readonly ret: string;
  /** Field holding the user stack pointer, and the user pc. */
  readonly sp: string;
  readonly pc: string;
}

/** The kernel image the architecture's asm/<arch>/*.S sources assemble to. */
export interface KernelSource {
  readonly file: string;
  readonly text: string;
}

/** A task as the architecture sees it: its thread_info (base of its kernel stack), task_struct, and the task_struct's embedded `thread` (thread_struct). */
export interface TaskRef {
  readonly tiPa: number;
  readonly taskPa: number;
  readonly threadPa: number;
}

/**
 * The kernel's access to the current task's user memory (copy_from_user /
 * copy_to_user): user rights, demand paging and COW as a user access would get;
 * null / false where that faults (the caller returns -EFAULT).
 */
export interface UserAccess {
  read(va: number, len: number): Uint8Array | null;
  write(va: number, bytes: Uint8Array): boolean;
}

/** i386's TLS segment calls (arch/x86/kernel/tls.c), on a `struct user_desc __user *`. */
export interface ThreadAreaOps {
  /** do_set_thread_area(p, -1, u_info, can_allocate): 0 or -errno (EFAULT, EINVAL, ESRCH). */
  set(mem: PhysMem, task: TaskRef, uInfo: number, canAllocate: boolean, user: UserAccess): number;
  /** do_get_thread_area(p, -1, u_info): 0 or -errno (EFAULT, EINVAL). */
  get(mem: PhysMem, task: TaskRef, uInfo: number, user: UserAccess): number;
}

/** One instance per running kernel: the CPU-facing half of an architecture. */
export interface ArchCpuOps {
  /** TLB note: ARM's TLB is tagged by privilege level, i386's (all at one CPL here) is not: the i386 ops flush the TLB on every mode change they perform. */
  /** True if the CPU is in user mode (ARM: CPSR mode USR; i386: the model's own mode flag, see DESIGN.md). */
  isUserMode(): boolean;
  /**
   * The syscall instruction just trapped in user mode (Unicorn stopped with pc
   * past it). Do what the CPU does on SWI / int $0x80 through a trap gate, no
   * more: switch to kernel mode and to the task's kernel stack (`kstackTop`,
   * ARM: already in SP_svc; i386: TSS.esp0), save the return state (ARM: SPSR_svc,
   * LR_svc; i386: push ss, esp, eflags, cs, eip), and set pc to the entry vector.
   * The guest asm then builds pt_regs and dispatches.
   */
  trapEntry(kstackTop: number): void;
  /**
   * The timer interrupt arrives while the CPU runs user code (the dispatcher
   * only raises it then; the kernel's own paths run with IRQs off). Do what
   * the CPU does on an IRQ, no more — ARM: IRQ mode, LR_irq = resume pc + 4,
   * SPSR_irq, pc = the IRQ vector; i386: through the interrupt gate (IF
   * cleared) onto the kernel stack, push ss, esp, eflags, cs, eip, jump to the
   * timer's entry stub. The guest asm saves pt_regs and calls do_IRQ.
   */
  irqEntry(kstackTop: number): void;
  /**
   * Addresses where Unicorn must stop so TypeScript completes an instruction
   * the CPU model cannot do (i386: the `iret` of restore_all, an inter-privilege
   * return). Empty on ARM (`movs pc, lr` is real).
   */
  readonly hardwareStops: readonly number[];
  /** Completes the instruction at a hardwareStops address (pops eip, cs, eflags, esp, ss; back to user mode). */
  completeHardwareStop(pc: number): void;
  /**
   * The asm called a kernel C function (a gate address). Returns the address the
   * call returns to: ARM lr; i386 pops it from the stack as `ret` would.
   */
  gateEnter(): number;
  /** Returns from a kernel C function: result in r0/eax, pc = returnAddr. */
  gateReturn(value: number, returnAddr: number): void;
  /**
   * The first argument of the C call that reached a gate: ARM r0 (AAPCS); i386
   * eax (the kernel is built with -mregparm=3). ret_from_fork passes a kernel
   * thread's argument this way.
   */
  gateArg0(): number;
  /**
   * __switch_to: saves the callee-saved state of the task running on the CPU
   * into its own context area (ARM: thread_info.cpu_context; i386: thread_struct
   * sp/ip with ebp and eflags pushed on its stack, as switch_to does) and loads
   * next's. `prevPc` is where prev resumes (it is stopped at a gate).
   */
  switchTo(prev: TaskRef, next: TaskRef, prevPc: number): void;
  /** Loads a new page table (ARM: TTBR0; i386: CR3) and flushes the TLB. */
  switchMm(pgdPa: number): void;
  /** Sets the CPU up to run its very first task (no prev to save): loads its context like switchTo does for next. */
  loadFirst(next: TaskRef): void;
  /**
   * Optional. A user-mode instruction faulted on the kernel page at `faultVa`
   * (page-aligned, as the TLB-fill hook saw it). Where the CPU itself reads kernel
   * memory with supervisor rights on behalf of a user instruction (i386: the GDT,
   * read by a segment-register load), the TLB-fill hook cannot tell that implicit
   * read from a plain user load of the same page (Unicorn runs at one privilege
   * level), so it refuses both and the arch completes the instruction here as the
   * hardware would, reading the instruction's own operands through `user`.
   * Returns true if it did (pc is past the instruction), false for a real fault.
   */
  completeImplicitAccess?(faultVa: number, user: UserAccess): boolean;
  /**
   * Optional. fixup_exception: kernel code took a CPU exception at the current pc.
   * If the kernel's exception table (__ex_table) has an entry for that instruction,
   * pc = its fixup and the result is true; false means a kernel bug (panic).
   */
  fixupException?(): boolean;
}

export interface ThreadInfoFlags {
  readonly SIGPENDING: number;
  readonly NEED_RESCHED: number;
  readonly NOTIFY_RESUME: number;
}

export interface KernelArch {
  readonly cpu: ArchCpu;
  /** Virtual address the kernel image is assembled at (its physical address is va - PAGE_OFFSET). */
  readonly kernelBase: number;
  /** asm/<arch>/*.S of the kernel image, in link order, assembled together at kernelBase. */
  kernelSources(): KernelSource[];
  /**
   * ARM: the vectors page source (exception vectors + kuser helpers at their
   * fixed addresses 0xffff0fa0/0fc0/0fe0), assembled at 0xffff0000 into its own
   * physical page. It may refer to kernel symbols (vector_swi). null on i386.
   */
  vectorsSource(): KernelSource | null;
  /**
   * Symbols the kernel asm needs, by name (asm-offsets, like Linux's
   * asm-offsets.c): struct offsets from the layouts, plus anything arch-specific.
   */
  asmOffsets(): Record<string, number>;
  readonly layouts: {
    /** thread_info at the base of the kernel stack (ARM: flags, preempt_count, addr_limit, task, exec_domain, cpu, cpu_domain, cpu_context, syscall, tp_value; i386: task first). */
    readonly thread_info: StructLayout;
    /** User registers saved by the entry asm at the top of the kernel stack. */
    readonly pt_regs: StructLayout;
    /** Arch part of task_struct (`thread`): i386 sp, ip, tls; ARM: empty-ish. */
    readonly thread_struct: StructLayout;
  };
  readonly pgtable: PageTableOps;
  /**
   * thread_info->flags bit numbers (arch/<arch>/include/asm/thread_info.h) of
   * the work the return-to-user path does: the entry asm tests them, the
   * neutral kernel sets them (set_tsk_need_resched, signal_wake_up).
   */
  readonly tif: ThreadInfoFlags;
  readonly syscallRegs: SyscallRegs;
  /**
   * The signal a user-mode CPU exception raises (arch/<arch>/kernel/traps.c):
   * `intno` is what Unicorn reports (i386: the vector; ARM: QEMU's EXCP_*).
   */
  trapSignal(intno: number): number;
  /**
   * do_signal's syscall restart, when no handler runs (there are none here):
   * the syscall at pt_regs (regsPa) returned -ERESTART*; make it run again.
   * `block`: -ERESTART_RESTARTBLOCK, run restart_syscall instead.
   * i386 rewinds eip over `int $0x80` and reloads eax (orig_ax or
   * __NR_restart_syscall): user space re-executes the trap. ARM (3.x) restores
   * r0 = ORIG_r0 and returns non-zero so the asm re-dispatches the syscall in
   * the kernel (work_pending → local_restart; -1: with scno = restart_syscall).
   * Returns what do_work_pending returns to the asm.
   */
  restartSyscall(mem: PhysMem, regsPa: number, block: boolean): number;
  /** `syscall.tbl` (asm/<arch>/syscall.tbl) parsed: number → name (e.g. 120 → "clone"). */
  syscallTable(): ReadonlyMap<number, string>;
  /**
   * Bytes that fill the gate page, one slot per 4 bytes: a branch to itself.
   * Unicorn may go on executing after a code hook asked to stop (measured on
   * ARM: it ran through the gate page), so a slot holds the CPU in place.
   */
  readonly gateFill: Uint8Array;
  /** Attaches to a CPU once the kernel image is loaded; `sym` resolves kernel symbols (vector_swi, ret_from_fork, …). */
  attach(cpu: Unicorn, mem: PhysMem, sym: (name: string) => number): ArchCpuOps;
  /**
   * copy_thread: the child's kernel stack gets a copy of the parent's pt_regs
   * (already copied by the caller to childRegsPa) with the return register set to
   * 0 and the user sp replaced when newsp != 0; the child's context is set so its
   * first switch-in runs `ret_from_fork` (with sp at childRegsPa).
   */
  copyThread(mem: PhysMem, child: TaskRef, childRegsPa: number, newsp: number, sym: (name: string) => number): void;
  /**
   * copy_thread for a kernel thread (PF_KTHREAD): pt_regs zeroed (kernel mode),
   * the context set so the first switch-in runs the arch's ret_from_fork path,
   * which calls schedule_tail once, then `fn(arg)` (fn: a kernel function's
   * address). If fn returns (only after a successful exec), the task leaves for
   * user mode through the pt_regs start_thread filled in.
   */
  copyKernelThread(mem: PhysMem, child: TaskRef, childRegsPa: number, fn: number, arg: number, sym: (name: string) => number): void;
  /** start_thread: pt_regs at regsPa describe a fresh user-mode entry at `entry` (bit 0 = Thumb) with stack `sp`, all else zero. */
  startThread(mem: PhysMem, regsPa: number, entry: number, sp: number): void;
  /**
   * Stores a TLS value where the arch keeps it. ARM: set_tls (thread_info.tp_value,
   * TPIDRURO and the kuser word at once for the running task). i386 has no such
   * call in Linux (its TLS is a segment descriptor): here it installs the flat
   * descriptor glibc asks for, based at `tls`, in GDT entry 6 — a shortcut for tests.
   */
  setTls(mem: PhysMem, task: TaskRef, tls: number): void;
  /**
   * copy_thread_tls's CLONE_SETTLS half, for the child `child` of the current task:
   * ARM: `tls` is the TLS value itself; i386: `tls` is a struct user_desc pointer in
   * the current task's memory (do_set_thread_area(p, -1, tls, 0)). 0 or -errno
   * (copy_process fails with it).
   */
  copyThreadTls(mem: PhysMem, child: TaskRef, tls: number, user: UserAccess): number;
  /** flush_thread's TLS part (execve): ARM: tp_value = 0 (and TPIDRURO); i386: thread.tls_array cleared (and the GDT's copy if running). */
  flushThread(mem: PhysMem, task: TaskRef): void;
  /** set_thread_area / get_thread_area (i386); null where the arch has no TLS segments (ARM). */
  readonly threadArea: ThreadAreaOps | null;
}
