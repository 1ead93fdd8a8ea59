// init/main.c: rest_init creates pid 1 (kernel_init → execve("/sbin/init"))
// and pid 2 (kthreadd), as Linux does; init then starts the user's program.

import type { AsmProgram } from '../machine/gas/index.js';
import { _do_fork, CLONE_FILES, CLONE_FS, CLONE_UNTRACED, CLONE_VM } from './fork.js';
import { do_execve } from './exec.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { SCHEDULE } from './kfunc.js';
import { TASK_INTERRUPTIBLE } from './layout.js';
import { SIGCHLD } from './signal.js';
import type { Task } from './task.js';

export const INIT_PATH = '/sbin/init';
export const PROGRAM_PATH = '/bin/program';

/** kernel_thread: _do_fork(flags | CLONE_VM | CLONE_UNTRACED) with a kernel function to run. */
export function* kernel_thread(k: Kernel, fn: (k: Kernel, t: Task) => KGen<number>, comm: string, flags: number): KGen<number> {
  return yield* _do_fork(k, { flags: flags | CLONE_VM | CLONE_UNTRACED, stack: 0, parentTid: 0, childTid: 0, tls: 0, kthread: fn, comm });
}

function* kernel_init(k: Kernel, t: Task): KGen<number> {
  yield* k.step('kernel_init', `run_init_process("${INIT_PATH}")`);
  const r = yield* k.call('do_execve', do_execve(k, t, INIT_PATH, [INIT_PATH], []));
  if (r < 0) throw new Error(`No working init found (execve ${INIT_PATH}: ${r})`);
  return 0;
}

/** kthreadd: sleeps until asked to create kernel threads (kthread_create queues requests). */
function* kthreadd(k: Kernel, t: Task): KGen<number> {
  for (;;) {
    const req = k.kthreadRequests.shift();
    if (!req) {
      t.state = TASK_INTERRUPTIBLE;
      yield SCHEDULE;
      continue;
    }
    const pid = yield* kernel_thread(k, req.fn, req.comm, CLONE_FS | CLONE_FILES | SIGCHLD);
    req.done(pid);
  }
}

/**
 * rest_init, done synchronously at boot by init_task (pid 0): the two kernel
 * threads are created through the real copy_process path.
 */
export function rest_init(k: Kernel, init: AsmProgram, program: AsmProgram): void {
  k.initramfs.set(INIT_PATH, init);
  k.initramfs.set(PROGRAM_PATH, program);
  const drive = (g: KGen<number>) => {
    for (let r = g.next(); !r.done; r = g.next()) if (r.value.op === 'schedule') throw new Error('boot: unexpected schedule');
  };
  const saved = k.opts.childRunsFirst;
  (k.opts as { childRunsFirst: boolean }).childRunsFirst = false;
  drive(kernel_thread(k, kernel_init, 'swapper', CLONE_FS | CLONE_FILES | SIGCHLD));
  drive(kernel_thread(k, kthreadd, 'kthreadd', CLONE_FS | CLONE_FILES | SIGCHLD));
  (k.opts as { childRunsFirst: boolean }).childRunsFirst = saved;
  k.pidHash.get(1)!.v.setString('comm', 'init');
}
