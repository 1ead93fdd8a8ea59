// kernel/exit.c: wait4/waitpid → do_wait. A zombie child is reaped: its status
// goes to user space and release_task frees it. With WUNTRACED a stopped child
// is reported once ((sig << 8) | 0x7f); with WCONTINUED a continued one (0xffff).

import { StructView } from '../machine/struct.js';
import { EXIT_ZOMBIE, SIGNAL_STOP_CONTINUED, SIGNAL_STOP_STOPPED, TASK_INTERRUPTIBLE, TASK_RUNNING, signal_struct } from './layout.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { SCHEDULE } from './kfunc.js';
import { __pa, list_entries } from './list.js';
import { delay_group_leader, release_task } from './exit.js';
import { add_wait_queue, remove_wait_queue } from './wait_queue.js';
import { ERESTARTSYS, signal_pending, wait_chldexit } from './signal.js';
import type { Task } from './task.js';

export const WNOHANG = 1;
export const WUNTRACED = 2;
export const WCONTINUED = 8;
const __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = 0x80000000;
const ECHILD = -10, EFAULT = -14, EINVAL = -22;

/**
 * pid > 0: that child; -1: any child. Process groups are not modelled yet
 * (no setpgid): every task is in init's session and group, so 0 and < -1 match
 * any child, as they would in a single process group.
 */
function eligible(child: Task, pid: number): boolean {
  return pid > 0 ? child.pid === pid : true;
}

type Report = { pid: number; status: number; reap: boolean } | null;

/** wait_consider_task: what this child has to report, if anything. */
function wait_consider_task(k: Kernel, c: Task, options: number): Report {
  if (c.exitState === EXIT_ZOMBIE) return delay_group_leader(k, c) ? null : { pid: c.pid, status: c.v.get('exit_code'), reap: true };
  const sig = new StructView(k.mem, signal_struct, __pa(c.v.get('signal')));
  // wait_task_stopped: the group stop is reported once (the code is consumed).
  if (options & WUNTRACED && sig.get('flags') & SIGNAL_STOP_STOPPED && sig.get('group_exit_code')) {
    const code = sig.get('group_exit_code');
    sig.set('group_exit_code', 0);
    return { pid: c.pid, status: ((code & 0xff) << 8) | 0x7f, reap: false };
  }
  // wait_task_continued
  if (options & WCONTINUED && sig.get('flags') & SIGNAL_STOP_CONTINUED) {
    sig.set('flags', sig.get('flags') & ~SIGNAL_STOP_CONTINUED);
    return { pid: c.pid, status: 0xffff, reap: false };
  }
  return null;
}

export function* do_wait(k: Kernel, t: Task, pid: number, statusPtr: number, options: number, rusagePtr: number): KGen<number> {
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) return EINVAL;
  const chOff = k.taskLayout.offsetOf('children');
  const sibOff = k.taskLayout.offsetOf('sibling');
  const entry = add_wait_queue(k, wait_chldexit(k, t), t);
  try {
    for (;;) {
      let any = false;
      for (const va of list_entries(k.mem, t.va + chOff, sibOff)) {
        const c = k.task(va);
        if (!eligible(c, pid)) continue;
        any = true;
        const r = wait_consider_task(k, c, options);
        if (!r) continue;
        // A fault copying the status out is -EFAULT, but a zombie is reaped all the same (as in Linux).
        let ret = r.pid;
        if (rusagePtr && !k.mm.copyToUser(t.mm, rusagePtr, new Uint8Array(72))) ret = EFAULT;
        else if (statusPtr && !k.mm.putUser32(t.mm, statusPtr, r.status)) ret = EFAULT;
        if (!r.reap) {
          yield* k.step('do_wait', `pid ${r.pid} reported ${r.status === 0xffff ? 'continued' : `stopped by signal ${r.status >> 8}`}: status 0x${r.status.toString(16)}`);
          return ret;
        }
        yield* k.step('wait_task_zombie', `reaping zombie pid ${r.pid}: status 0x${r.status.toString(16).padStart(4, '0')}${ret === EFAULT ? ' (copying it out faulted: EFAULT)' : ''}`);
        release_task(k, c);
        yield* k.step('release_task', `pid ${r.pid}: task_struct, kernel stack and pid freed`);
        return ret;
      }
      if (!any) return ECHILD;
      if (options & WNOHANG) return 0;
      if (signal_pending(t)) return ERESTARTSYS;
      t.state = TASK_INTERRUPTIBLE;
      yield* k.step('do_wait', `pid ${t.pid} sleeps (TASK_INTERRUPTIBLE) on wait_chldexit until a child changes state`);
      yield SCHEDULE;
      t.state = TASK_RUNNING;
    }
  } finally {
    remove_wait_queue(k, entry);
  }
}
