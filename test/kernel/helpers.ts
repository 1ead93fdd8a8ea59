// Shared helpers for the kernel tests that read guest memory: boot a user
// program as /bin/program (pid 3 under init), stop the machine at kernel points
// or guest addresses, and read task_structs, lists and page tables as the
// kernel stores them.
import { expect } from 'vitest';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { assembleProgram, type AsmProgram } from '../../src/machine/gas/index.js';
import { PROGRAM_PATH } from '../../src/kernel/boot.js';
import { runKernel, type RunOptions, type RunStop } from '../../src/kernel/entry.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { KernelOptions } from '../../src/kernel/kernel.js';
import { list_entries } from '../../src/kernel/list.js';
import { bootProgram } from '../../src/kernel/program.js';
import type { Task } from '../../src/kernel/task.js';

export type Arch = 'arm' | 'x86';
export const ARCHES = ['arm', 'x86'] as const;

/** A syscall's number on an architecture, from its syscall.tbl (never typed in by hand). */
export function nr(arch: Arch, name: string): number {
  for (const [n, s] of kernelArch(arch).syscallTable()) if (s === name) return n;
  throw new Error(`${arch}: no syscall "${name}" in syscall.tbl`);
}

export interface Booted {
  k: Kernel;
  img: AsmProgram;
}

/** Assembles `src` and boots a kernel that will run it as /bin/program; nothing has run yet. */
export function boot(arch: Arch, src: string, opts: KernelOptions = {}): Booted {
  const img = assembleProgram(src, { arch, fileName: 'test.S' });
  return { k: bootProgram(kernelArch(arch), img, opts), img };
}

/** Boots, runs `fn`, always closes the kernel. */
export function withBoot<T>(arch: Arch, src: string, opts: KernelOptions, fn: (b: Booted) => T): T {
  const b = boot(arch, src, opts);
  try {
    return fn(b);
  } finally {
    b.k.close();
  }
}

/** The address of a label of the assembled program. */
export function sym(img: AsmProgram, name: string): number {
  const v = img.symbols.get(name);
  if (v === undefined) throw new Error(`no symbol "${name}" in the test program`);
  return v;
}

/** Runs with a budget (a test never hangs) and returns the stop. */
export function run(k: Kernel, opts: RunOptions = {}): RunStop {
  return runKernel(k, { budget: 2_000_000, ...opts });
}

/**
 * Runs until a guest breakpoint hit by /bin/program or a task it forked (init
 * runs its own code at the same user addresses, so its hits are stepped over);
 * fails the test on any other stop. Returns the task that hit it.
 */
export function runToBreakpoint(k: Kernel, ...addrs: number[]): { pc: number; task: Task } {
  const hits: string[] = [];
  for (let i = 0; ; i++) {
    if (i > 200) throw new Error('breakpoint never reached by the program: ' + hits.slice(-10).join(' '));
    const stop = run(k, { breakpoints: new Set(addrs) });
    if (stop.kind !== 'breakpoint') throw new Error(`expected a breakpoint at ${addrs.map((a) => '0x' + a.toString(16)).join(', ')}, got ${JSON.stringify(stop)}`);
    hits.push(`${stop.pc.toString(16)}/${k.current.pid}/${k.current.comm}/${k.now}`);
    if (k.current.comm === PROGRAM_PATH.split('/').pop()) return { pc: stop.pc, task: k.current };
  }
}

/** Runs until the kernel reaches a stop point `accept` takes; fails the test on any other stop. */
export function runToPoint(k: Kernel, accept: (fn: string, text: string, t: Task) => boolean): { fn: string; text: string; task: Task } {
  const stop = run(k, { stopAtPoint: (p, t) => accept(p.fn, p.text, t) });
  if (stop.kind !== 'point') throw new Error(`expected a kernel stop point, got ${JSON.stringify(stop)}`);
  return { fn: stop.fn, text: stop.text, task: k.current };
}

/** Runs until every task sleeps or has exited; fails the test if the budget ran out. */
export function runToIdle(k: Kernel, budget = 5_000_000): void {
  const stop = runKernel(k, { budget });
  expect(stop.kind).toBe('idle');
}

/** The task running /bin/program (pid 3 in a normal boot). */
export function programTask(k: Kernel): Task {
  const pid = k.execs.get(PROGRAM_PATH);
  if (pid === undefined) throw new Error('/bin/program has not been exec\'d yet');
  const t = k.pidHash.get(pid);
  if (!t) throw new Error(`pid ${pid} is gone`);
  return t;
}

/** The wait status /bin/program exited with, or undefined if it has not exited. */
export function programExit(k: Kernel): number | undefined {
  const pid = k.execs.get(PROGRAM_PATH);
  return k.exits.find((e) => e.pid === pid)?.code;
}

/** A 32-bit word of guest memory at a kernel virtual address (through the page tables). */
export function kread32(k: Kernel, va: number): number {
  const b = k.readVirt(va, 4);
  expect(b.length).toBe(4);
  return new DataView(b.buffer, b.byteOffset).getUint32(0, true);
}

/** A task_struct field, read from guest memory by virtual address (not through the Task object). */
export function taskField(k: Kernel, taskVa: number, field: string): number {
  return kread32(k, taskVa + k.taskLayout.offsetOf(field));
}

/** The task_struct addresses on `parent`'s children list (linked through their sibling list_heads), in list order. */
export function childrenOf(k: Kernel, parent: Task): number[] {
  const tl = k.taskLayout;
  return [...list_entries(k.mem, parent.va + tl.offsetOf('children'), tl.offsetOf('sibling'))];
}

/** Every task on init_task's `tasks` list, plus init_task itself. */
export function allTasks(k: Kernel): Task[] {
  const off = k.taskLayout.offsetOf('tasks');
  return [k.initTask, ...[...list_entries(k.mem, k.initTask.va + off, off)].map((va) => k.task(va))];
}

/** Checks a list_head's neighbours point back at it (next->prev == entry, prev->next == entry). */
export function expectLinked(k: Kernel, entryVa: number): void {
  const next = kread32(k, entryVa);
  const prev = kread32(k, entryVa + 4);
  expect(kread32(k, next + 4)).toBe(entryVa);
  expect(kread32(k, prev)).toBe(entryVa);
}

/** A user word of a task's address space (through its own page tables), or null if unmapped. */
export function uread32(k: Kernel, t: Task, va: number): number | null {
  const pte = k.arch.pgtable.walk(k.mem, k.mm.pgdPa(t.mm), va);
  return pte ? k.mem.dv.getUint32(pte.pa, true) : null;
}

/** The syscall-return events (sys_exit) of a pid, from a kept trace. */
export function sysExits(k: Kernel, pid: number, name: string): number[] {
  return k.trace.events.filter((e) => e.t === 'sys_exit' && e.pid === pid && e.name === name).map((e) => (e as { ret: number }).ret);
}

// ---- a few lines of guest assembly per arch, for the small test programs ----

const ARG_REGS: Record<Arch, string[]> = { arm: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'], x86: ['%ebx', '%ecx', '%edx', '%esi', '%edi', '%ebp'] };

/**
 * One system call in the arch's convention (ARM EABI: r7 and svc; i386: %eax and
 * int $0x80). Each argument is a number or a label (its address); the result is
 * left in r0 / %eax. ARM programs need a `.ltorg` after the last use.
 */
export function syscall(arch: Arch, name: string, ...args: (number | string)[]): string {
  const regs = ARG_REGS[arch];
  if (args.length > regs.length) throw new Error('too many syscall arguments');
  const lit = (a: number | string) => (typeof a === 'number' ? `0x${(a >>> 0).toString(16)}` : a);
  if (arch === 'arm') return [...args.map((a, i) => `        ldr ${regs[i]}, =${lit(a)}`), `        mov r7, #${nr(arch, name)}`, '        svc #0'].join('\n');
  return [...args.map((a, i) => `        movl $${lit(a)}, ${regs[i]}`), `        movl $${nr(arch, name)}, %eax`, '        int $0x80'].join('\n');
}

/** Jumps to `label` if the last syscall returned 0. */
export function ifZero(arch: Arch, label: string): string {
  return arch === 'arm' ? `        cmp r0, #0\n        beq ${label}` : `        testl %eax, %eax\n        je ${label}`;
}

/** Stores the last syscall's result at `label`. */
export function storeResult(arch: Arch, label: string): string {
  return arch === 'arm' ? `        ldr r1, =${label}\n        str r0, [r1]` : `        movl %eax, ${label}`;
}

/** exit_group(-result): a -errno becomes the exit status. */
export function exitNegResult(arch: Arch): string {
  return arch === 'arm'
    ? `        rsb r0, r0, #0\n        mov r7, #${nr(arch, 'exit_group')}\n        svc #0`
    : `        negl %eax\n        movl %eax, %ebx\n        movl $${nr(arch, 'exit_group')}, %eax\n        int $0x80`;
}

/** A data word with a label (little-endian 32 bits). */
export function word(arch: Arch, label: string, value = 0): string {
  return arch === 'arm' ? `        .align 2\n${label}: .word ${value}` : `        .align 4\n${label}: .long ${value}`;
}

/** The literal pool (ARM) after the code that uses `ldr =`. */
export function pool(arch: Arch): string {
  return arch === 'arm' ? '        .ltorg' : '';
}
