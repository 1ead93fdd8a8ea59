// kernel/exit.c: wait4/waitpid → do_wait. A zombie child is reaped: its status
// goes to user space and release_task frees it.

import { EXIT_ZOMBIE, TASK_INTERRUPTIBLE, TASK_RUNNING } from './layout.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { SCHEDULE } from './kfunc.js';
import { list_entries } from './list.js';
import { release_task } from './exit.js';
import { next_signal } from './signal.js';
import type { Task } from './task.js';

export const WNOHANG = 1;
export const WUNTRACED = 2;
const ECHILD = -10, EFAULT = -14, EINTR = -4, EINVAL = -22;

/**
 * pid > 0: that child; -1: any child. Process groups are not modelled yet
 * (no setpgid): every task is in init's session and group, so 0 and < -1 match
 * any child, as they would in a single process group.
 */
function eligible(child: Task, pid: number): boolean {
  return pid > 0 ? child.pid === pid : true;
}

export function* do_wait(k: Kernel, t: Task, pid: number, statusPtr: number, options: number, rusagePtr: number): KGen<number> {
  if (options & ~(WNOHANG | WUNTRACED | 0x40000000 | 0x80000000 | 0x20000000 | 8)) return EINVAL;
  const chOff = k.taskLayout.offsetOf('children');
  const sibOff = k.taskLayout.offsetOf('sibling');
  for (;;) {
    let any = false;
    for (const va of list_entries(k.mem, t.va + chOff, sibOff)) {
      const c = k.task(va);
      if (!eligible(c, pid)) continue;
      any = true;
      if (c.exitState !== EXIT_ZOMBIE) continue;
      // wait_task_zombie: the zombie is reaped even when copying its status out faults (-EFAULT), as in Linux.
      const status = c.v.get('exit_code');
      const cpid = c.pid;
      let ret = cpid;
      if (rusagePtr && !k.mm.copyToUser(t.mm, rusagePtr, new Uint8Array(72))) ret = EFAULT;
      else if (statusPtr && !k.mm.putUser32(t.mm, statusPtr, status)) ret = EFAULT;
      yield* k.step('wait_task_zombie', `reaping zombie pid ${cpid}: status 0x${status.toString(16).padStart(4, '0')}${ret === EFAULT ? ' (copying it out faulted: EFAULT)' : ''}`);
      release_task(k, c);
      yield* k.step('release_task', `pid ${cpid}: task_struct, kernel stack and pid freed`);
      return ret;
    }
    if (!any) return ECHILD;
    if (options & WNOHANG) return 0;
    const sig = next_signal(t);
    if (sig && sig !== 17) return EINTR; // a signal interrupts the wait (no restart: handlers are not modelled)
    t.state = TASK_INTERRUPTIBLE;
    yield* k.step('do_wait', `pid ${t.pid} sleeps (TASK_INTERRUPTIBLE) until a child exits`);
    yield SCHEDULE;
    t.state = TASK_RUNNING;
    t.v.set('pending', t.v.get('pending') & ~(1 << 16)); // SIGCHLD consumed (default action: ignore)
  }
}
