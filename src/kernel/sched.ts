// kernel/sched/core.c, reduced to one CPU and a FIFO runqueue: deterministic
// round robin. schedule() picks the next runnable task and context_switch()
// switches address space (switch_mm) and registers (switch_to).

import { EXIT_DEAD, TASK_DEAD, TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from './layout.js';
import type { Kernel } from './kernel.js';
import { SCHEDULE, type KGen } from './kfunc.js';
import type { Task } from './task.js';
import { put_task_struct } from './fork.js';

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

/** set_tsk_need_resched: the return-to-user path (or the next schedule point) will call schedule(). */
export function set_tsk_need_resched(k: Kernel, t: Task): void {
  set_tsk_thread_flag(k, t, k.arch.tif.NEED_RESCHED);
}

export function set_tsk_thread_flag(k: Kernel, t: Task, bit: number): void {
  const ti = k.threadInfo(t);
  ti.set('flags', (ti.get('flags') | (1 << bit)) >>> 0);
}

export function clear_tsk_thread_flag(k: Kernel, t: Task, bit: number): void {
  const ti = k.threadInfo(t);
  ti.set('flags', (ti.get('flags') & ~(1 << bit)) >>> 0);
}

export function test_tsk_thread_flag(k: Kernel, t: Task, bit: number): boolean {
  return (k.threadInfo(t).get('flags') & (1 << bit)) !== 0;
}

/**
 * try_to_wake_up(p, state): wakes p only if its state is one of `state`'s bits
 * (a TASK_UNINTERRUPTIBLE sleeper ignores a signal's wake-up; a stopped task
 * wakes only for SIGCONT or SIGKILL).
 */
export function wake_up_state(k: Kernel, t: Task, state: number): boolean {
  if (!(t.state & state)) return false;
  return wake_up_process(k, t);
}

/** wake_up_process: a sleeping task becomes TASK_RUNNING and joins the runqueue. */
export function wake_up_process(k: Kernel, t: Task): boolean {
  if (t.pid === 0) return false; // the idle task is never on the runqueue (it runs when nothing else can)
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
  if (prev.pid !== 0) clear_tsk_thread_flag(k, prev, k.arch.tif.NEED_RESCHED);
  if (prev.state === TASK_RUNNING && !prev.exitState && prev.pid !== 0) enqueue(k, prev);
  else dequeue(k, prev);
  const next = k.runqueue.shift();
  if (!next) return null;
  next.v.set('on_rq', 1);
  return next;
}

/**
 * context_switch: switch_mm when the address space changes (kernel threads
 * borrow the previous active_mm, counted in mm_count), then switch_to, then
 * finish_task_switch's drops. `prevPc` is where prev's CPU state resumes (the
 * gate it stopped at).
 */
export function context_switch(k: Kernel, prev: Task, next: Task): void {
  const oldmm = prev.v.get('active_mm');
  const nextMm = next.mm;
  if (!nextMm) {
    // enter_lazy_tlb: a kernel thread runs on the previous address space, holding mm_count.
    next.v.set('active_mm', oldmm);
    k.mm.mmgrab(oldmm);
  }
  let prevMm = 0;
  if (!prev.mm) {
    // rq->prev_mm: the borrowed mm is dropped once the switch is done.
    prev.v.set('active_mm', 0);
    prevMm = oldmm;
  }
  const mmVa = nextMm || oldmm;
  const pgd = k.mm.pgdPa(mmVa);
  if (pgd !== k.currentPgd) {
    k.currentPgd = pgd;
    k.ops.switchMm(pgd);
  }
  k.event('sched_switch', {
    prev_comm: prev.comm, prev_pid: prev.pid, prev_prio: 120,
    prev_state: prev.exitState ? 'X' : prev.state === TASK_RUNNING ? 'R' : prev.state & 1 ? 'S' : prev.state & 2 ? 'D' : prev.state & 4 ? 'T' : prev.state & 8 ? 't' : 'X',
    next_comm: next.comm, next_pid: next.pid, next_prio: 120,
  });
  // prev's task_struct is valid here even if release_task ran: a dead task's
  // last reference is dropped only below, in finish_task_switch.
  if (prev.state === TASK_RUNNING) prev.v.set('nivcsw', prev.v.get('nivcsw') + 1);
  else prev.v.set('nvcsw', prev.v.get('nvcsw') + 1);
  const taskDead = (prev.state & TASK_DEAD) !== 0;
  const dead = taskDead || prev.exitState === EXIT_DEAD;
  if (dead || prev.pid === 0) k.ops.loadFirst(next);
  else k.ops.switchTo(prev, next, k.cpu.regRead(k.arch.cpu.regIds[k.arch.cpu.pc]!));
  k.current = next;
  // finish_task_switch: mmdrop(prev_mm); a dead task's last schedule() drops its own reference.
  if (prevMm) k.mm.mmdrop(prevMm);
  if (taskDead) put_task_struct(k, prev);
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
