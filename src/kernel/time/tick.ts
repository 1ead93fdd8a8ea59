// The periodic tick (kernel/time/tick-common.c, tick-sched.c), on the virtual
// clock: due every `timeslice` ns. With NO_HZ the tick stops while the CPU
// idles and restarts on the next period boundary after it wakes, so ticks
// missed while idle are not replayed.

import type { Kernel } from '../kernel.js';
import { ktime_get } from './clock.js';

/** The next period boundary strictly after now. */
function next_tick_after(k: Kernel, now: number): number {
  const period = k.opts.timeslice;
  return (Math.floor(now / period) + 1) * period;
}

/** tick_periodic's bookkeeping: if the tick is due, program the next one. Returns whether this interrupt is a tick. */
export function tick_handle_periodic(k: Kernel): boolean {
  const now = ktime_get(k);
  if (now < k.nextTick) return false;
  k.nextTick = next_tick_after(k, now);
  return true;
}

/** tick_nohz_idle_exit → tick_nohz_restart: the CPU leaves idle; the tick resumes at the next boundary. */
export function tick_nohz_restart(k: Kernel): void {
  k.nextTick = next_tick_after(k, ktime_get(k));
}
