// A task as TypeScript handles it: the addresses of its task_struct and kernel
// stack in guest memory, and the one thing guest memory cannot hold — the
// suspended kernel generator (its "C stack"). Every field is read from and
// written to guest memory; nothing is cached.

import { PAGE_OFFSET, type TaskRef } from '../arch/types.js';
import { StructView, type PhysMem, type StructLayout } from '../machine/struct.js';
import type { KGen } from './kfunc.js';

export class Task implements TaskRef {
  readonly v: StructView;
  /** The in-flight kernel call (syscall handler, kthread function …), or null in user mode / asm. */
  kgen: KGen<number> | null = null;
  /** Where the in-flight kernel call returns to in the entry asm. */
  gateReturn = 0;
  /** Name of the in-flight call (for traces and backtraces). */
  kfn = '';
  /** Syscall number of the in-flight syscall, -1 if none. */
  syscallNr = -1;
  /**
   * On the way back to user mode from a syscall (not an interrupt or a first
   * run): do_signal may restart it. Plays the role of ARM's `why` register and
   * i386's orig_ax >= 0 check.
   */
  syscallReturn = false;
  /** Kernel frames of the in-flight call, innermost last (for backtraces). */
  readonly kframes: string[] = [];

  constructor(readonly mem: PhysMem, layout: StructLayout, readonly taskPa: number) {
    this.v = new StructView(mem, layout, taskPa);
  }

  /** Virtual address of the task_struct (what the kernel stores in pointers). */
  get va(): number {
    return (this.taskPa + PAGE_OFFSET) >>> 0;
  }
  get tiPa(): number {
    return (this.v.get('stack') - PAGE_OFFSET) >>> 0;
  }
  get threadPa(): number {
    return this.v.addrOf('thread');
  }
  get pid(): number {
    return this.v.get('pid');
  }
  get tgid(): number {
    return this.v.get('tgid');
  }
  get comm(): string {
    return this.v.getString('comm');
  }
  get state(): number {
    return this.v.get('state');
  }
  set state(s: number) {
    this.v.set('state', s);
  }
  get flags(): number {
    return this.v.get('flags');
  }
  get mm(): number {
    return this.v.get('mm');
  }
  get exitState(): number {
    return this.v.get('exit_state');
  }
}
