// The timer interrupt: the one IRQ this machine has. Virtual time is the
// instruction count, so the "hardware" timer fires every `timeslice` guest
// instructions (a periodic tick). The dispatcher (entry.ts) raises it only
// while the CPU runs user code — the kernel's own paths run with IRQs off —
// and the CPU enters the kernel through the arch's IRQ vector; the entry asm
// saves pt_regs and calls do_IRQ here. scheduler_tick then flags
// TIF_NEED_RESCHED if another task is waiting, and the return-to-user path
// schedules: that is preemption.

import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { set_tsk_need_resched } from './sched.js';
import type { Task } from './task.js';

/** Is the timer interrupt due (at or past the next tick)? */
export function timer_pending(k: Kernel): boolean {
  return k.now >= k.nextTick;
}

/** The CPU takes the timer interrupt: the next tick is programmed, then the arch's IRQ entry. */
export function raise_timer_irq(k: Kernel, t: Task): void {
  const period = k.opts.timeslice;
  k.nextTick = (Math.floor(k.now / period) + 1) * period;
  k.ops.irqEntry(k.kstackTop(t));
}

/**
 * scheduler_tick: the running task has used its slice (one tick, round robin).
 * If anyone else can run, it must give up the CPU on the way back to user mode.
 */
function scheduler_tick(k: Kernel, t: Task): boolean {
  if (t.pid === 0 || k.runqueue.length === 0) return false;
  set_tsk_need_resched(k, t);
  return true;
}

/** do_IRQ / asm_do_IRQ: irq 0, the timer (tick_periodic → update_process_times → scheduler_tick). */
export function* do_IRQ(k: Kernel, t: Task): KGen<number> {
  k.event('irq_handler_entry', { irq: 0, name: 'timer' });
  const resched = scheduler_tick(k, t);
  yield* k.step('scheduler_tick', resched
    ? `timer tick: pid ${t.pid} has used its slice and ${k.runqueue.length} task(s) wait — TIF_NEED_RESCHED`
    : `timer tick: pid ${t.pid} keeps the CPU (nobody else is runnable)`);
  k.event('irq_handler_exit', { irq: 0, ret: 'handled' });
  return 0;
}
