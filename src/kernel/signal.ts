// Signals, minimal but real: default actions only. A pending signal is a bit in
// task_struct->pending; fatal default actions end in do_exit.

import { __TASK_STOPPED, TASK_INTERRUPTIBLE, TASK_RUNNING } from './layout.js';
import type { Kernel } from './kernel.js';
import { wake_up_process } from './sched.js';
import type { Task } from './task.js';

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
  SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15,
  SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20;

export const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP',
};

/** Signals whose default action is to ignore (SIGCHLD, SIGCONT, SIGWINCH, SIGURG). */
export function sig_default_ignored(sig: number): boolean {
  return sig === SIGCHLD || sig === SIGCONT || sig === 28 || sig === 23;
}

/** send_signal: marks the signal pending and wakes the task (SIGKILL/SIGCONT also wake stopped tasks). */
export function send_signal(k: Kernel, t: Task, sig: number): void {
  if (t.exitState) return;
  k.event('signal_generate', { sig, errno: 0, code: 0, comm: t.comm, pid: t.pid, grp: 1, res: 0 });
  if (sig === SIGCONT) {
    t.v.set('pending', t.v.get('pending') & ~(1 << (SIGSTOP - 1)));
    if (t.state & __TASK_STOPPED) {
      t.state = TASK_RUNNING;
      wake_up_process(k, t);
    }
    return;
  }
  if (sig_default_ignored(sig) && k.sighandAction(t, sig) === 0) return;
  t.v.set('pending', t.v.get('pending') | (1 << (sig - 1)));
  if (t.state & TASK_INTERRUPTIBLE || sig === SIGKILL) wake_up_process(k, t);
}

/** The lowest pending signal, or 0. */
export function next_signal(t: Task): number {
  const p = t.v.get('pending');
  for (let s = 1; s <= 32; s++) if (p & (1 << (s - 1))) return s;
  return 0;
}

export function signal_pending(t: Task): boolean {
  return t.v.get('pending') !== 0;
}
