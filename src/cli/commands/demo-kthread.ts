// trapdoor demo kthread: a kernel thread's life under kernel/kthread.c, narrated:
// kthread_create → kthreadd → kernel_thread → copy_process (PF_KTHREAD, no mm)
// → kthread() asleep until woken → threadfn's loop → kthread_stop → do_exit,
// reaped at once by kthreadd.
//
// The kernel-side caller, kt_demo, is a kernel thread that init_task starts at
// boot with kernel_thread, as rest_init starts kernel_init and kthreadd.

import pc from 'picocolors';
import type { KernelArch } from '../../arch/types.js';
import { assembleProgram } from '../../machine/gas/index.js';
import { runAtBoot } from '../../kernel/boot.js';
import { runKernel } from '../../kernel/entry.js';
import { CLONE_FILES, CLONE_FS, kernel_thread } from '../../kernel/fork.js';
import type { Kernel } from '../../kernel/kernel.js';
import { SCHEDULE, type KGen } from '../../kernel/kfunc.js';
import { kthread_create, kthread_should_stop, kthread_stop } from '../../kernel/kthread.js';
import { TASK_INTERRUPTIBLE } from '../../kernel/layout.js';
import { __pa, __va } from '../../kernel/list.js';
import { bootProgram } from '../../kernel/program.js';
import { wake_up_process } from '../../kernel/sched.js';
import { SIGCHLD } from '../../kernel/signal.js';
import type { Task } from '../../kernel/task.js';
import { narrate } from '../../trace/narrate.js';

/** The user program: exit(0) at once, so the story is the kernel threads'. */
const EXIT0 = {
  arm: `.text\n_start: mov r0, #0\n mov r7, #1\n svc #0\n`,
  x86: `.text\n_start: movl $0, %ebx\n movl $1, %eax\n int $0x80\n`,
};

/** How many times kt_demo gives up the CPU before it stops the worker. */
const ROUNDS = 3;

interface Outcome {
  callerPid: number;
  workerPid: number;
  ret: number | null;
}

/** threadfn: counts rounds in its data word until kthread_should_stop(); returns the count. */
function* demo_threadfn(k: Kernel, t: Task, data: number): KGen<number> {
  let n = 0;
  while (!kthread_should_stop(k, t)) {
    n++;
    k.mem.dv.setUint32(__pa(data), n, true);
    yield* k.step('demo_threadfn', `round ${n}: kthread_should_stop() is false; *data = ${n}; schedule()`);
    yield SCHEDULE;
  }
  yield* k.step('demo_threadfn', `kthread_should_stop() is true: return ${n}`);
  return n;
}

export function runKthreadDemo(arch: KernelArch, out: (s: string) => void, all: boolean): number {
  const name = arch.cpu.name as 'arm' | 'x86';
  const k = bootProgram(arch, assembleProgram(EXIT0[name], { arch: name, fileName: 'exit0.S' }), { keepTrace: false });
  try {
    const data = __va(k.pages.allocPages(0));
    const o: Outcome = { callerPid: -1, workerPid: -1, ret: null };
    function* kt_demo(k: Kernel, t: Task): KGen<number> {
      const p = yield* kthread_create(k, demo_threadfn, data, 'demo_worker');
      if (typeof p === 'number') throw new Error(`kthread_create: ${p}`);
      o.workerPid = p.pid;
      yield* k.step('kt_demo', `pid ${p.pid} "${p.comm}" exists but sleeps (TASK_UNINTERRUPTIBLE): wake_up_process() it`);
      wake_up_process(k, p);
      for (let i = 0; i < ROUNDS; i++) yield SCHEDULE;
      o.ret = yield* k.call('kthread_stop', kthread_stop(k, p));
      yield* k.step('kt_demo', `kthread_stop() = ${o.ret}`);
      for (;;) {
        t.state = TASK_INTERRUPTIBLE; // done: a daemon thread sleeps for good
        yield SCHEDULE;
      }
    }
    o.callerPid = runAtBoot(kernel_thread(k, kt_demo, 0, CLONE_FS | CLONE_FILES | SIGCHLD, 'kt_demo'));

    out(pc.bold(`trapdoor demo kthread — ${name === 'arm' ? 'ARM (EABI)' : 'i386'}: a kernel thread from kthread_create to kthread_stop`));
    out(pc.dim(`pid ${o.callerPid} (kt_demo, started at boot) calls kthread_create(demo_threadfn, data, "demo_worker"), wakes it, lets it run, then kthread_stop()s it.`));
    out('');
    let on = all;
    let done = false;
    // The story's tasks: the caller, kthreadd and the threads kthreadd forks (init and /bin/program run in between).
    const story = new Set([o.callerPid, 2]);
    k.trace.on((e) => {
      if (done) return;
      if (!on && e.pid === o.callerPid && e.t === 'call' && e.fn === 'kthread_create_on_node') on = true;
      if (!on) return;
      if (e.t === 'event' && e.name === 'sched_process_fork' && e.pid === 2) story.add(Number(e.fields.child_pid));
      if (!all && !story.has(e.pid)) return;
      const line = narrate(e, k);
      if (line !== null) out(line);
      if (!all && e.t === 'note' && e.fn === 'kt_demo' && e.text.startsWith('kthread_stop()')) done = true;
    });
    const stop = runKernel(k, { budget: 20_000_000 });
    const rounds = k.mem.dv.getUint32(__pa(data), true);
    const released = o.workerPid > 0 && !k.pidHash.has(o.workerPid);
    out('');
    out(pc.bold(`run ended (${stop.kind}); demo_worker ran ${rounds} round(s); kthread_stop returned ${o.ret ?? '?'}; pid ${o.workerPid} ${released ? 'reaped by kthreadd and released' : 'NOT released'}`));
    return o.ret === rounds && released ? 0 : 1;
  } finally {
    k.close();
  }
}
