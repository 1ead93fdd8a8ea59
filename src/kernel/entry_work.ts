// The C half of the return-to-user path. Before the entry asm restores the
// user's registers it tests thread_info->flags against _TIF_WORK_MASK; if
// work is flagged it calls in here:
//   ARM  (entry-common.S work_pending)  → do_work_pending(regs, flags, syscall)
//   i386 (entry_32.S work_pending)      → schedule() itself for NEED_RESCHED,
//                                         do_notify_resume(regs) for signals.
// Both loop until no work is left, so a task never returns to user mode with
// a reschedule or a deliverable signal pending.

import { do_group_exit } from './exit.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { clear_tsk_thread_flag, schedule, test_tsk_thread_flag } from './sched.js';
import { ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS, ERESTART_RESTARTBLOCK, get_signal } from './signal.js';
import type { Task } from './task.js';

/** schedule(): give up the CPU; the task resumes here when it is picked again. */
export function* schedule_gate(k: Kernel, t: Task): KGen<number> {
  yield* k.step('schedule', `pid ${t.pid}: TIF_NEED_RESCHED — schedule()`);
  yield* schedule(k);
  return 0;
}

/**
 * do_signal: the default actions (get_signal), then — as no handler ran — an
 * interrupted syscall is restarted: its -ERESTART* never reaches user space.
 * Returns the arch's restart request for the asm (ARM), else 0.
 */
function* do_signal(k: Kernel, t: Task): KGen<number> {
  let restart: 'none' | 'syscall' | 'block' = 'none';
  if (t.syscallReturn) {
    t.syscallReturn = false; // later rounds of the work loop are not the syscall's return
    const ret = k.regs(t).get(k.arch.syscallRegs.ret) | 0;
    if (ret === ERESTARTSYS || ret === ERESTARTNOINTR || ret === ERESTARTNOHAND) restart = 'syscall';
    else if (ret === ERESTART_RESTARTBLOCK) restart = 'block';
  }
  yield* k.call('get_signal', get_signal(k, t, do_group_exit));
  if (restart === 'none') return 0;
  yield* k.step('do_signal', restart === 'block' ? `pid ${t.pid}: no handler ran — restart_syscall resumes the interrupted sleep` : `pid ${t.pid}: no handler ran — the interrupted syscall is restarted`);
  return k.arch.restartSyscall(k.mem, k.ptRegsPa(t), restart === 'block');
}

/** do_notify_resume (arch/x86/kernel/signal.c): signals, then TIF_NOTIFY_RESUME. */
export function* do_notify_resume(k: Kernel, t: Task): KGen<number> {
  const tif = k.arch.tif;
  if (test_tsk_thread_flag(k, t, tif.SIGPENDING)) yield* k.call('do_signal', do_signal(k, t)); // i386 restarts from user mode: nothing to return
  if (test_tsk_thread_flag(k, t, tif.NOTIFY_RESUME)) clear_tsk_thread_flag(k, t, tif.NOTIFY_RESUME);
  return 0;
}

/**
 * do_work_pending (arch/arm/kernel/signal.c): reschedule first, then signals,
 * until thread_info->flags shows no work. Returns non-zero when the asm must
 * restart the interrupted syscall itself (ARM's restart path).
 */
export function* do_work_pending(k: Kernel, t: Task): KGen<number> {
  const tif = k.arch.tif;
  for (;;) {
    if (test_tsk_thread_flag(k, t, tif.NEED_RESCHED)) yield* k.call('schedule', schedule_gate(k, t));
    else if (test_tsk_thread_flag(k, t, tif.SIGPENDING)) {
      const restart = yield* k.call('do_signal', do_signal(k, t));
      if (restart) return restart;
    }
    else if (test_tsk_thread_flag(k, t, tif.NOTIFY_RESUME)) clear_tsk_thread_flag(k, t, tif.NOTIFY_RESUME);
    else return 0;
  }
}
