// kernel/futex.c, reduced: FUTEX_WAIT sleeps while *uaddr == val; FUTEX_WAKE
// wakes up to n waiters. Waiters are keyed by (mm, uaddr) — private futexes.

import { TASK_INTERRUPTIBLE } from './layout.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { wait_event, wake_up_process } from './sched.js';
import { ERESTARTSYS, signal_pending } from './signal.js';
import type { Task } from './task.js';

const waiters = new WeakMap<Kernel, Map<string, Task[]>>();

function queue(k: Kernel, mm: number, uaddr: number): Task[] {
  let m = waiters.get(k);
  if (!m) waiters.set(k, (m = new Map()));
  const key = `${mm}:${uaddr}`;
  let q = m.get(key);
  if (!q) m.set(key, (q = []));
  return q;
}

export function* futex_wait(k: Kernel, t: Task, uaddr: number, val: number): KGen<number> {
  const cur = k.mm.getUser32(t.mm, uaddr);
  if (cur === null) return -14; // EFAULT
  if (cur !== val >>> 0) return -11; // EAGAIN
  const q = queue(k, t.mm, uaddr);
  q.push(t);
  yield* wait_event(k, TASK_INTERRUPTIBLE, () => !q.includes(t) || signal_pending(t));
  const i = q.indexOf(t);
  if (i >= 0) {
    q.splice(i, 1);
    return ERESTARTSYS; // woken by a signal
  }
  return 0;
}

export function futex_wake(k: Kernel, mm: number, uaddr: number, n: number): number {
  const q = queue(k, mm, uaddr);
  let woken = 0;
  while (q.length && woken < n) {
    wake_up_process(k, q.shift()!);
    woken++;
  }
  return woken;
}
