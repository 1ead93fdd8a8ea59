// kernel/sched/cputime.c, reduced: CPU time is charged per CPU run, exactly.
//
// Every instruction the emulated CPU retires belongs to the task that was
// current during the run (1 instruction = 1 ns, see clock.ts). After each
// uc_emu_start the dispatcher charges the run's instructions to
// task_struct.utime if the run ended in user mode, else to .stime. A run is
// either user code that ends in a trap, fault or budget stop (user time), or
// the kernel's entry asm up to a gate (system time). On ARM the few return-asm
// instructions before `movs pc, lr` ride along with the user run that
// follows them and count as user time; on x86 the return path stops at iret,
// so the split is exact there. The TypeScript kernel costs no time and idle
// time belongs to no task. utime + stime is exact either way: it is what the
// CPU-time clocks report (Linux: sum_exec_runtime).

import type { Kernel } from '../kernel.js';
import { signal_struct } from '../layout.js';
import { __pa } from '../list.js';
import { StructView } from '../../machine/struct.js';
import type { Task } from '../task.js';

/** account_user_time / account_system_time for one CPU run that started at `startRetired`. */
export function account_cpu_run(k: Kernel, t: Task, startRetired: number): void {
  const ns = k.cpu.retired - startRetired;
  if (ns <= 0) return;
  const field = k.ops.isUserMode() ? 'utime' : 'stime';
  t.v.set(field, t.v.get(field) + ns);
}

/** task_sched_runtime: the CPU time of one thread, ns (CLOCK_THREAD_CPUTIME_ID). */
export function task_cputime(t: Task): number {
  return t.v.get('utime') + t.v.get('stime');
}

/**
 * thread_group_cputime: the CPU time of a whole process, ns
 * (CLOCK_PROCESS_CPUTIME_ID) — its threads still in the pid hash (zombies
 * included) plus what released threads left in signal_struct.
 */
export function thread_group_cputime(k: Kernel, t: Task): number {
  let sum = 0;
  for (const p of k.pidHash.values()) if (p.tgid === t.tgid && p.pid !== 0) sum += task_cputime(p);
  const sigVa = t.v.get('signal');
  if (sigVa) {
    const sig = new StructView(k.mem, signal_struct, __pa(sigVa));
    sum += sig.get('utime') + sig.get('stime');
  }
  return sum;
}

/** __exit_signal: a released thread's CPU time stays with its process. */
export function account_exit_signal(k: Kernel, t: Task, sigVa: number): void {
  const sig = new StructView(k.mem, signal_struct, __pa(sigVa));
  sig.set('utime', sig.get('utime') + t.v.get('utime'));
  sig.set('stime', sig.get('stime') + t.v.get('stime'));
}
