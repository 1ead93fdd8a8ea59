// kernel/sched/core.c, reduced to one CPU and a FIFO runqueue: deterministic
// round robin. schedule() picks the next runnable task and context_switch()
// switches address space (switch_mm) and registers (switch_to).

import { EXIT_DEAD, TASK_DEAD, TASK_RUNNING } from './layout.js';
import type { Kernel } from './kernel.js';
import { SCHEDULE, type KGen } from './kfunc.js';
import type { Task } from './task.js';

/** activate_task: put a runnable task on the runqueue (once). */
export function enqueue(k: Kernel, t: Task): void {
  if (!k.runqueue.includes(t)) k.runqueue.push(t);
  t.v.set('on_rq', 1);
}

function dequeue(k: Kernel, t: Task): void {
  const i = k.runqueue.indexOf(t);
  if (i >= 0) k.runqueue.splice(i, 1);
  t.v.set('on_rq', 0);
}

/** try_to_wake_up: a sleeping task becomes TASK_RUNNING and joins the runqueue. */
export function wake_up_process(k: Kernel, t: Task): boolean {
  if (t.state === TASK_RUNNING && t.v.get('on_rq')) return false;
  if (t.state & TASK_DEAD || t.exitState) return false;
  t.state = TASK_RUNNING;
  enqueue(k, t);
  k.event('sched_wakeup', { comm: t.comm, pid: t.pid, prio: 120, success: 1, target_cpu: '000' });
  return true;
}

/** wake_up_new_task: the child of fork becomes runnable; with child-runs-first it goes to the front. */
export function wake_up_new_task(k: Kernel, t: Task): void {
  t.state = TASK_RUNNING;
  if (k.opts.childRunsFirst) {
    dequeue(k, t);
    k.runqueue.unshift(t);
    t.v.set('on_rq', 1);
  } else enqueue(k, t);
  k.event('sched_wakeup_new', { comm: t.comm, pid: t.pid, prio: 120, success: 1, target_cpu: '000' });
}

/**
 * Picks the next task. The current task, if still TASK_RUNNING, goes to the
 * back of the queue (unless the child-runs-first rule put a child in front).
 * Returns null when nothing can run (every task sleeps).
 */
export function pick_next_task(k: Kernel): Task | null {
  const prev = k.current;
  if (prev.state === TASK_RUNNING && !prev.exitState && prev.pid !== 0) enqueue(k, prev);
  else dequeue(k, prev);
  const next = k.runqueue.shift();
  if (!next) return null;
  next.v.set('on_rq', 1);
  return next;
}

/**
 * context_switch: switch_mm when the address space changes, then switch_to.
 * A task without an mm (a kernel thread, or one past exit_mm) borrows the
 * previous task's active_mm and pins it (mm_count); when such a task is
 * switched out, finish_task_switch drops what it held.
 */
export function context_switch(k: Kernel, prev: Task, next: Task): void {
  const prevLive = k.byPa.has(prev.taskPa);
  // A prev already released (an autoreaped thread) dropped its active_mm in release_task.
  const oldmm = prevLive ? prev.v.get('active_mm') : 0;
  const nextMm = next.mm;
  if (!nextMm) {
    const borrowed = oldmm || k.initMmVa;
    k.mm.mmgrab(borrowed);
    next.v.set('active_mm', borrowed);
  }
  const mmVa = nextMm || next.v.get('active_mm');
  const pgd = k.mm.pgdPa(mmVa);
  if (pgd !== k.currentPgd) {
    k.currentPgd = pgd;
    k.ops.switchMm(pgd);
  }
  k.event('sched_switch', {
    prev_comm: prev.comm, prev_pid: prev.pid, prev_prio: 120,
    prev_state: prev.exitState ? 'X' : prev.state === TASK_RUNNING ? 'R' : prev.state & 1 ? 'S' : prev.state & 2 ? 'D' : prev.state & 4 ? 'T' : 'X',
    next_comm: next.comm, next_pid: next.pid, next_prio: 120,
  });
  if (prev.state === TASK_RUNNING) prev.v.set('nivcsw', prev.v.get('nivcsw') + 1);
  else prev.v.set('nvcsw', prev.v.get('nvcsw') + 1);
  let dropMm = 0;
  if (prevLive && !prev.mm && oldmm) {
    prev.v.set('active_mm', 0); // rq->prev_mm
    dropMm = oldmm;
  }
  const dead = (prev.state & TASK_DEAD) !== 0 || prev.exitState === EXIT_DEAD || !prevLive;
  if (dead || prev.pid === 0) k.ops.loadFirst(next);
  else k.ops.switchTo(prev, next, k.cpu.regRead(k.arch.cpu.regIds[k.arch.cpu.pc]!));
  k.current = next;
  if (dropMm) k.mm.mmdrop(dropMm); // finish_task_switch
}

/** schedule() for kernel code: `yield* schedule(k)` gives up the CPU. */
export function* schedule(k: Kernel): KGen<void> {
  yield SCHEDULE;
}

/** Sleeps in state until cond() holds (wait_event). Signals are checked by the caller. */
export function* wait_event(k: Kernel, state: number, cond: () => boolean): KGen<void> {
  while (!cond()) {
    k.current.state = state;
    yield SCHEDULE;
  }
  k.current.state = TASK_RUNNING;
}
