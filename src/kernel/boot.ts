// init/main.c: rest_init creates pid 1 (kernel_init → execve("/sbin/init"))
// and pid 2 (kthreadd), as Linux does; init then starts the user's program.

import type { AsmProgram } from '../machine/gas/index.js';
import { CLONE_FILES, CLONE_FS, kernel_thread } from './fork.js';
import { do_execve } from './exec.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { kthread_init, kthreadd, set_kthreadd_task } from './kthread.js';
import { SIGCHLD } from './signal.js';
import type { Task } from './task.js';

export const INIT_PATH = '/sbin/init';
export const PROGRAM_PATH = '/bin/program';

/**
 * kernel_init: pid 1's kernel half. After a successful exec it returns 0, and
 * ret_from_fork carries on to user mode through the pt_regs start_thread set.
 */
function* kernel_init(k: Kernel, t: Task, _unused: number): KGen<number> {
  yield* k.step('kernel_init', `run_init_process("${INIT_PATH}")`);
  const r = yield* k.call('do_execve', do_execve(k, t, INIT_PATH, [INIT_PATH], []));
  if (r < 0) throw new Error(`No working init found (execve ${INIT_PATH}: ${r})`);
  return 0;
}

/**
 * Runs kernel code on behalf of init_task (pid 0) at boot, before the
 * scheduler starts: it must not sleep. Returns the function's result.
 */
export function runAtBoot<T>(g: KGen<T>): T {
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return r.value;
    if (r.value.op === 'schedule') throw new Error('boot: unexpected schedule');
  }
}

/**
 * rest_init, done synchronously at boot by init_task (pid 0): the two kernel
 * threads are created through the real copy_process path.
 */
export function rest_init(k: Kernel, init: AsmProgram, program: AsmProgram): void {
  k.initramfs.set(INIT_PATH, init);
  k.initramfs.set(PROGRAM_PATH, program);
  kthread_init(k);
  const saved = k.opts.childRunsFirst;
  (k.opts as { childRunsFirst: boolean }).childRunsFirst = false;
  runAtBoot(kernel_thread(k, kernel_init, 0, CLONE_FS | CLONE_FILES | SIGCHLD, 'swapper'));
  const pid = runAtBoot(kernel_thread(k, kthreadd, 0, CLONE_FS | CLONE_FILES | SIGCHLD, 'kthreadd'));
  set_kthreadd_task(k, k.pidHash.get(pid)!);
  (k.opts as { childRunsFirst: boolean }).childRunsFirst = saved;
  k.pidHash.get(1)!.v.setString('comm', 'init');
}
