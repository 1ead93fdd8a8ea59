// The timer interrupt: the one IRQ this machine has. It is due when the
// periodic tick comes round (every `timeslice` ns of virtual time, where one
// guest instruction is one ns) or when the earliest hrtimer expires. The
// dispatcher (entry.ts) raises it only while the CPU runs user code — the
// kernel's own paths run with IRQs off, and there timers simply fire between
// two instructions — and the CPU enters the kernel through the arch's IRQ
// vector; the entry asm saves pt_regs and calls do_IRQ here. At a tick,
// scheduler_tick flags TIF_NEED_RESCHED if another task is waiting, and the
// return-to-user path schedules: that is preemption.

import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { set_tsk_need_resched } from './sched.js';
import type { Task } from './task.js';
import { ktime_get } from './time/clock.js';
import { hrtimer_get_next_event, hrtimer_interrupt, hrtimer_insns_to_next_event } from './time/hrtimer.js';
import { tick_handle_periodic } from './time/tick.js';

/** Is the timer interrupt due: the tick, or an expired hrtimer? */
export function timer_interrupt_pending(k: Kernel): boolean {
  const now = ktime_get(k);
  const next = hrtimer_get_next_event(k);
  return now >= k.nextTick || (next !== null && next <= now);
}

/** Instructions until the timer interrupt is next due (while a task runs, virtual time advances one ns per instruction). */
export function insns_to_next_interrupt(k: Kernel): number {
  return Math.max(1, Math.min(k.nextTick - ktime_get(k), hrtimer_insns_to_next_event(k)));
}

/** The CPU takes the timer interrupt from user mode: the arch's IRQ entry; the asm then calls do_IRQ. */
export function raise_timer_irq(k: Kernel, t: Task): void {
  k.irqInFlight = true;
  t.syscallReturn = false;
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

/** do_IRQ / asm_do_IRQ: irq 0, the timer — expired hrtimers (their wake-ups), then the tick. */
export function* do_IRQ(k: Kernel, t: Task): KGen<number> {
  k.event('irq_handler_entry', { irq: 0, name: 'timer' });
  const fired = hrtimer_interrupt(k);
  if (fired) yield* k.step('hrtimer_interrupt', `${fired} expired timer(s) fired`);
  if (tick_handle_periodic(k)) {
    const resched = scheduler_tick(k, t);
    yield* k.step('scheduler_tick', resched
      ? `timer tick: pid ${t.pid} has used its slice and ${k.runqueue.length} task(s) wait — TIF_NEED_RESCHED`
      : `timer tick: pid ${t.pid} keeps the CPU (nobody else is runnable)`);
  }
  k.event('irq_handler_exit', { irq: 0, ret: 'handled' });
  k.irqInFlight = false;
  return 0;
}
