// kernel/signal.c, minimal but real: default actions only (no sigaction
// handlers yet). A pending signal is a bit in task_struct->pending plus
// TIF_SIGPENDING in thread_info->flags; the return-to-user path
// (entry_work.ts, called from the entry asm) sees the flag and runs
// get_signal, which carries out the default action: ignore, stop, or
// terminate through do_group_exit.

import { StructView } from '../machine/struct.js';
import {
  JOBCTL_STOP_PENDING, SIGNAL_GROUP_EXIT, SIGNAL_STOP_CONTINUED, SIGNAL_STOP_STOPPED, TASK_INTERRUPTIBLE,
  TASK_RUNNING, TASK_STOPPED, TASK_WAKEKILL, __TASK_STOPPED, signal_struct,
} from './layout.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { SCHEDULE } from './kfunc.js';
import { __pa, list_entries } from './list.js';
import { clear_tsk_thread_flag, set_tsk_thread_flag, wake_up_state } from './sched.js';
import { __wake_up } from './wait_queue.js';
import type { Task } from './task.js';

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
  SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15,
  SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22;

export const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
};

// Kernel-internal syscall returns (include/linux/errno.h): a sleep ended by a
// signal. They never reach user space: do_signal restarts the syscall (there
// are no handlers, so nothing turns them into EINTR).
export const ERESTARTSYS = -512;
export const ERESTARTNOINTR = -513;
export const ERESTARTNOHAND = -514;
export const ERESTART_RESTARTBLOCK = -516;

/** Highest signal number the pending mask holds (the model keeps the 32 classic signals). */
export const _NSIG_MODEL = 32;

const sigmask = (sig: number): number => (1 << (sig - 1)) >>> 0;

/** sig_kernel_ignore: default action "ignore" (SIGCHLD, SIGCONT, SIGURG, SIGWINCH). */
export function sig_default_ignored(sig: number): boolean {
  return sig === SIGCHLD || sig === SIGCONT || sig === 23 || sig === 28;
}

/** sig_kernel_stop: default action "stop" (job control). */
export function sig_kernel_stop(sig: number): boolean {
  return sig === SIGSTOP || sig === SIGTSTP || sig === SIGTTIN || sig === SIGTTOU;
}

/** sig_kernel_only: SIGKILL and SIGSTOP can be neither caught nor ignored. */
function sig_kernel_only(sig: number): boolean {
  return sig === SIGKILL || sig === SIGSTOP;
}

function signalOf(k: Kernel, t: Task): StructView {
  return new StructView(k.mem, signal_struct, __pa(t.v.get('signal')));
}

/** Every thread of t's group (t included), in thread_group list order from the leader. */
export function thread_group(k: Kernel, t: Task): Task[] {
  const leader = k.task(t.v.get('group_leader'));
  const off = k.taskLayout.offsetOf('thread_group');
  return [leader, ...[...list_entries(k.mem, leader.va + off, off)].map((va) => k.task(va))];
}

/** sig_ignored: the signal is dropped at once (SIG_IGN, or SIG_DFL whose default is to ignore). */
function sig_ignored(k: Kernel, t: Task, sig: number): boolean {
  if (sig_kernel_only(sig)) return false;
  const h = k.sighandAction(t, sig);
  return h === 1 || (h === 0 && sig_default_ignored(sig));
}

/**
 * signal_wake_up: TIF_SIGPENDING, and a wake-up if the task sleeps
 * interruptibly — or, with `resume` (SIGKILL), also from TASK_WAKEKILL sleeps
 * and job-control stops.
 */
export function signal_wake_up(k: Kernel, t: Task, resume: boolean): void {
  set_tsk_thread_flag(k, t, k.arch.tif.SIGPENDING);
  wake_up_state(k, t, TASK_INTERRUPTIBLE | (resume ? TASK_WAKEKILL : 0));
}

/**
 * prepare_signal: job control happens when the signal is sent, not when it is
 * delivered. A stop signal cancels a pending SIGCONT; SIGCONT cancels pending
 * stop signals and resumes every stopped thread of the group.
 * Returns false when the signal is to be dropped.
 */
function prepare_signal(k: Kernel, t: Task, sig: number): boolean {
  const sg = signalOf(k, t);
  if (sg.get('flags') & SIGNAL_GROUP_EXIT) return sig === SIGKILL; // the group is dying anyway
  if (sig_kernel_stop(sig)) {
    for (const th of thread_group(k, t)) th.v.set('pending', th.v.get('pending') & ~sigmask(SIGCONT));
  } else if (sig === SIGCONT) {
    const stopMask = sigmask(SIGSTOP) | sigmask(SIGTSTP) | sigmask(SIGTTIN) | sigmask(SIGTTOU);
    for (const th of thread_group(k, t)) {
      th.v.set('pending', th.v.get('pending') & ~stopMask);
      th.v.set('jobctl', th.v.get('jobctl') & ~JOBCTL_STOP_PENDING);
      wake_up_state(k, th, __TASK_STOPPED);
    }
    if (sg.get('flags') & SIGNAL_STOP_STOPPED) {
      // The group was stopped: the parent may learn of it with WCONTINUED.
      sg.set('flags', (sg.get('flags') & ~SIGNAL_STOP_STOPPED) | SIGNAL_STOP_CONTINUED);
      sg.set('group_exit_code', 0);
      const leader = k.task(t.v.get('group_leader'));
      do_notify_parent_cldstop(k, leader, 'continued');
    }
  }
  return !sig_ignored(k, t, sig);
}

/**
 * send_signal (__send_signal + complete_signal): queue the signal on the
 * target thread and wake it. A fatal signal (SIGKILL, or a default action of
 * terminate — there are no handlers) takes the whole thread group down at
 * once: SIGNAL_GROUP_EXIT and SIGKILL to every thread, as complete_signal does.
 */
export function send_signal(k: Kernel, t: Task, sig: number): void {
  if (t.exitState) return;
  const res = prepare_signal(k, t, sig);
  k.event('signal_generate', { sig, errno: 0, code: 0, comm: t.comm, pid: t.pid, grp: 1, res: res ? 0 : 1 });
  if (!res) return;
  t.v.set('pending', (t.v.get('pending') | sigmask(sig)) >>> 0);
  const sg = signalOf(k, t);
  const fatal = !sig_kernel_stop(sig) && !sig_default_ignored(sig) && k.sighandAction(t, sig) === 0;
  if (fatal && !(sg.get('flags') & SIGNAL_GROUP_EXIT) && (sig === SIGKILL || (t.v.get('blocked') & sigmask(sig)) === 0)) {
    // complete_signal's "fatal to the whole group" case
    sg.set('flags', SIGNAL_GROUP_EXIT);
    sg.set('group_exit_code', sig);
    for (const th of thread_group(k, t)) {
      th.v.set('pending', (th.v.get('pending') | sigmask(SIGKILL)) >>> 0);
      signal_wake_up(k, th, true);
    }
    return;
  }
  signal_wake_up(k, t, sig === SIGKILL);
}

/** zap_other_threads: SIGKILL to every other thread of the group (do_group_exit). */
export function zap_other_threads(k: Kernel, t: Task): void {
  for (const th of thread_group(k, t)) {
    if (th === t || th.exitState) continue;
    th.v.set('pending', (th.v.get('pending') | sigmask(SIGKILL)) >>> 0);
    signal_wake_up(k, th, true);
  }
}

/** The lowest pending signal, or 0. */
export function next_signal(t: Task): number {
  const p = t.v.get('pending') & ~t.v.get('blocked');
  for (let s = 1; s <= _NSIG_MODEL; s++) if (p & sigmask(s)) return s;
  return 0;
}

export function signal_pending(t: Task): boolean {
  return next_signal(t) !== 0;
}

export function fatal_signal_pending(t: Task): boolean {
  return (t.v.get('pending') & sigmask(SIGKILL)) !== 0;
}

/** recalc_sigpending: TIF_SIGPENDING mirrors "something deliverable is pending (or a group stop waits)". */
export function recalc_sigpending(k: Kernel, t: Task): void {
  if (signal_pending(t) || t.v.get('jobctl') & JOBCTL_STOP_PENDING) set_tsk_thread_flag(k, t, k.arch.tif.SIGPENDING);
  else clear_tsk_thread_flag(k, t, k.arch.tif.SIGPENDING);
}

/** dequeue_signal: take the lowest pending signal off the queue. */
function dequeue_signal(k: Kernel, t: Task): number {
  const sig = next_signal(t);
  if (sig) t.v.set('pending', t.v.get('pending') & ~sigmask(sig));
  recalc_sigpending(k, t);
  return sig;
}

/**
 * do_notify_parent_cldstop: SIGCHLD (CLD_STOPPED / CLD_CONTINUED) to the
 * parent of the group leader, and a wake-up of its wait4 sleepers.
 */
function do_notify_parent_cldstop(k: Kernel, leader: Task, why: 'stopped' | 'continued'): void {
  const parent = k.task(leader.v.get('real_parent'));
  if (parent.exitState) return;
  k.event('signal_cldstop', { pid: leader.pid, why, parent: parent.pid });
  send_signal(k, parent, SIGCHLD);
  __wake_up(k, wait_chldexit(k, parent));
}

/** The wait queue wait4 sleeps on: parent->signal->wait_chldexit. */
export function wait_chldexit(k: Kernel, parent: Task): number {
  return (parent.v.get('signal') + signal_struct.offsetOf('wait_chldexit')) >>> 0;
}

/**
 * do_signal_stop: this thread takes part in a group stop. The first thread to
 * stop starts it (every other thread gets JOBCTL_STOP_PENDING and a wake-up);
 * the last one to stop marks the group SIGNAL_STOP_STOPPED and tells the
 * parent. Sleeps in TASK_STOPPED until SIGCONT or SIGKILL.
 */
function* do_signal_stop(k: Kernel, t: Task, sig: number): KGen<void> {
  const sg = signalOf(k, t);
  if (!(t.v.get('jobctl') & JOBCTL_STOP_PENDING)) {
    // Initiating a group stop.
    sg.set('group_exit_code', sig);
    for (const th of thread_group(k, t)) {
      if (th === t || th.exitState) continue;
      th.v.set('jobctl', th.v.get('jobctl') | JOBCTL_STOP_PENDING);
      signal_wake_up(k, th, false);
    }
  }
  t.v.set('jobctl', t.v.get('jobctl') & ~JOBCTL_STOP_PENDING);
  recalc_sigpending(k, t);
  t.state = TASK_STOPPED;
  const others = thread_group(k, t).filter((th) => th !== t && !th.exitState && !(th.state & __TASK_STOPPED));
  if (others.length === 0) {
    sg.set('flags', (sg.get('flags') & ~SIGNAL_STOP_CONTINUED) | SIGNAL_STOP_STOPPED);
    yield* k.step('do_signal_stop', `pid ${t.pid} stops (${SIGNAL_NAMES[sig] ?? sig}): TASK_STOPPED, group stop complete, SIGCHLD to the parent`);
    do_notify_parent_cldstop(k, k.task(t.v.get('group_leader')), 'stopped');
  } else {
    yield* k.step('do_signal_stop', `pid ${t.pid} stops (${SIGNAL_NAMES[sig] ?? sig}): TASK_STOPPED, waiting for ${others.length} more thread(s)`);
  }
  // schedule() until SIGCONT (prepare_signal) or SIGKILL (signal_wake_up with resume) wakes us.
  while (t.state & __TASK_STOPPED) yield SCHEDULE;
  t.state = TASK_RUNNING;
}

/**
 * get_signal: dequeue and carry out default actions until one does not return
 * (terminate) or nothing is left. Returns 0: no handler runs in this model.
 * `do_group_exit` is passed in to keep kernel/exit.c's dependency one-way.
 */
export function* get_signal(k: Kernel, t: Task, do_group_exit: (k: Kernel, t: Task, code: number) => KGen<number>): KGen<number> {
  for (;;) {
    const sg = signalOf(k, t);
    if (t.v.get('jobctl') & JOBCTL_STOP_PENDING && !(sg.get('flags') & SIGNAL_GROUP_EXIT)) {
      yield* do_signal_stop(k, t, sg.get('group_exit_code'));
      continue;
    }
    const sig = dequeue_signal(k, t);
    if (!sig) return 0;
    k.event('signal_deliver', { sig, errno: 0, code: 0, sa_handler: 0, sa_flags: 0 });
    if (sig !== SIGKILL && sig_ignored(k, t, sig)) continue;
    if (sig_default_ignored(sig)) continue;
    if (sig_kernel_stop(sig)) {
      yield* do_signal_stop(k, t, sig);
      continue;
    }
    // Everything else terminates the group (core-dumping signals would add 0x80 with a core; there is none).
    yield* k.step('get_signal', `pid ${t.pid}: ${SIGNAL_NAMES[sig] ?? `signal ${sig}`}, default action: terminate the thread group`);
    const code = sg.get('flags') & SIGNAL_GROUP_EXIT ? sg.get('group_exit_code') : sig;
    return yield* k.call('do_group_exit', do_group_exit(k, t, code));
  }
}
