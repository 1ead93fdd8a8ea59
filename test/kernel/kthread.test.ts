// kernel/kthread.c under the model, both architectures: kthread_create asks
// kthreadd, the new thread sleeps until woken, kthread_stop stops it and returns
// threadfn's result, and the dead thread is reaped at once by kthreadd (which
// ignores SIGCHLD). Plus the one-schedule_tail-per-task rule of ret_from_fork.
//
// The kernel-side caller is itself a kernel thread, started at boot by
// init_task with kernel_thread exactly as rest_init starts kernel_init and
// kthreadd; everything else happens through runKernel.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { THREAD_SIZE } from '../../src/arch/types.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import { runAtBoot } from '../../src/kernel/boot.js';
import { runKernel } from '../../src/kernel/entry.js';
import { CLONE_FILES, CLONE_FS, get_task_struct, kernel_thread, put_task_struct } from '../../src/kernel/fork.js';
import type { Kernel, KernelThreadFn } from '../../src/kernel/kernel.js';
import { SCHEDULE, type KGen } from '../../src/kernel/kfunc.js';
import { kthread_create, kthread_run, kthread_should_stop, kthread_stop, kthread_struct, to_kthread } from '../../src/kernel/kthread.js';
import { EXIT_DEAD, PF_KTHREAD, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, sighand_struct } from '../../src/kernel/layout.js';
import { __pa, __va, list_entries } from '../../src/kernel/list.js';
import { bootProgram } from '../../src/kernel/program.js';
import { SIGCHLD } from '../../src/kernel/signal.js';
import type { Task } from '../../src/kernel/task.js';
import type { TraceEvent } from '../../src/trace/events.js';

type A = 'arm' | 'x86';
const EXIT0: Record<A, string> = {
  arm: `.text\n_start: mov r0, #0\n mov r7, #1\n svc #0\n`,
  x86: `.text\n_start: movl $0, %ebx\n movl $1, %eax\n int $0x80\n`,
};
const EINTR = 4;

function boot(arch: A): Kernel {
  return bootProgram(kernelArch(arch), assembleProgram(EXIT0[arch], { arch }), { keepTrace: true });
}

/** Starts `fn` as a kernel thread of init_task, before the scheduler runs (as rest_init does). */
function startCaller(k: Kernel, fn: KernelThreadFn): number {
  return runAtBoot(kernel_thread(k, fn, 0, CLONE_FS | CLONE_FILES | SIGCHLD, 'kt_test'));
}

/**
 * The end of a test caller. A kernel thread started with kernel_thread must not
 * return (it has not exec'd), and its parent is init_task, which never reaps:
 * it sleeps for good, as a daemon thread would.
 */
function* done(t: Task): KGen<number> {
  for (;;) {
    t.state = TASK_INTERRUPTIBLE;
    yield SCHEDULE;
  }
}

/** schedule() while TASK_RUNNING: the CPU goes round the runqueue once. */
function* yieldCpu(n: number): KGen<void> {
  for (let i = 0; i < n; i++) yield SCHEDULE;
}

const rd32 = (k: Kernel, va: number) => k.mem.dv.getUint32(__pa(va), true);
const wr32 = (k: Kernel, va: number, v: number) => k.mem.dv.setUint32(__pa(va), v >>> 0, true);
/** A zeroed page of kernel memory for a thread's data. */
const kpage = (k: Kernel) => __va(k.pages.allocPages(0));

function children(k: Kernel, parent: Task): number[] {
  const off = k.taskLayout.offsetOf('children');
  return [...list_entries(k.mem, parent.va + off, k.taskLayout.offsetOf('sibling'))].map((va) => k.task(va).pid);
}

const calls = (k: Kernel, fn: string, pid?: number) =>
  k.trace.events.filter((e) => e.t === 'call' && e.fn === fn && (pid === undefined || e.pid === pid));

/** Every task that was ever forked calls schedule_tail exactly once, as its first kernel function. */
function expectOneScheduleTailEach(k: Kernel): number[] {
  const forked = k.trace.events.flatMap((e) => (e.t === 'event' && e.name === 'sched_process_fork' ? [Number(e.fields.child_pid)] : []));
  for (const pid of forked) {
    const own = k.trace.events.filter((e): e is Extract<TraceEvent, { t: 'call' }> => e.t === 'call' && e.pid === pid);
    expect(own.filter((e) => e.fn === 'schedule_tail').length, `pid ${pid}`).toBe(1);
    expect(own[0]?.fn, `pid ${pid}'s first kernel call`).toBe('schedule_tail');
  }
  return forked;
}

describe.each(['arm', 'x86'] as const)('%s kthreads', (arch) => {
  it('kthread_run: the thread loops until kthread_should_stop; kthread_stop returns its result; it is released', () => {
    const k = boot(arch);
    try {
      const counter = kpage(k);
      const seen: { pid?: number; pa?: number; ret?: number; activeBefore?: number; activeAfter?: number } = {};
      function* looper(k: Kernel, t: Task, data: number): KGen<number> {
        while (!kthread_should_stop(k, t)) {
          wr32(k, data, rd32(k, data) + 1);
          yield SCHEDULE;
        }
        return 1000 + rd32(k, data);
      }
      function* caller(k: Kernel, t: Task): KGen<number> {
        seen.activeBefore = k.caches.task_struct.active;
        const p = yield* kthread_run(k, looper, counter, 'looper');
        if (typeof p === 'number') throw new Error(`kthread_run: ${p}`);
        seen.pid = p.pid;
        seen.pa = p.taskPa;
        yield* yieldCpu(5);
        seen.ret = yield* k.call('kthread_stop', kthread_stop(k, p));
        seen.activeAfter = k.caches.task_struct.active;
        return yield* done(t);
      }
      const callerPid = startCaller(k, caller);
      expect(runKernel(k, { budget: 20_000_000 }).kind).toBe('idle');

      const loops = rd32(k, counter);
      expect(loops).toBeGreaterThan(0);
      expect(seen.ret).toBe(1000 + loops); // threadfn's return value, through do_exit's exit_code
      expect(k.exits.find((e) => e.pid === seen.pid)?.code).toBe(1000 + loops);
      // kthread_stop's tracepoints bracket the stop
      const names = k.trace.events.flatMap((e) => (e.t === 'event' && e.name.startsWith('sched_kthread_stop') ? [`${e.name}:${e.pid}`] : []));
      expect(names).toEqual([`sched_kthread_stop:${callerPid}`, `sched_kthread_stop_ret:${callerPid}`]);
      // the looper ran only after kthread_run woke it, and its threadfn ran once
      const pid = seen.pid!;
      const wake = k.trace.events.findIndex((e) => e.t === 'event' && e.name === 'sched_wakeup' && e.fields.pid === pid && e.pid === callerPid);
      const first = k.trace.events.findIndex((e) => e.t === 'call' && e.fn === 'looper');
      expect(wake).toBeGreaterThan(0);
      expect(first).toBeGreaterThan(wake);
      expect(calls(k, 'looper').map((e) => e.pid)).toEqual([pid]);
      // released: reaped at once by kthreadd (EXIT_DEAD, no zombie), pid and task_struct freed
      const kthreadd = k.pidHash.get(2)!;
      expect(k.pidHash.has(pid)).toBe(false);
      expect(k.byPa.has(seen.pa!)).toBe(false);
      expect(rd32(k, __va(seen.pa!) + k.taskLayout.offsetOf('pid'))).toBe(0xa5a5a5a5); // slab poison: the object is free
      expect(seen.activeAfter).toBe(seen.activeBefore);
      expect(children(k, kthreadd)).not.toContain(pid);
      expect(k.trace.events.some((e) => e.t === 'note' && e.fn === 'exit_notify' && e.pid === pid && e.text.includes('EXIT_DEAD'))).toBe(true);
      expect(kthreadd.v.get('pending') & (1 << (SIGCHLD - 1))).toBe(0); // SIG_IGN: no SIGCHLD was sent
      expectOneScheduleTailEach(k);
    } finally {
      k.close();
    }
  });

  it('a created kthread is a PF_KTHREAD child of kthreadd without mm, and does not run until woken; kthread_stop then gives -EINTR', () => {
    const k = boot(arch);
    try {
      const marker = kpage(k);
      let created: Task | null = null;
      let ret: number | undefined;
      function* never(k: Kernel, _t: Task, data: number): KGen<number> {
        wr32(k, data, 0xc0ffee);
        return 0;
      }
      function* caller(k: Kernel, t: Task): KGen<number> {
        const p = yield* kthread_create(k, never, marker, 'sleeper');
        if (typeof p === 'number') throw new Error(`kthread_create: ${p}`);
        created = p;
        yield* yieldCpu(5);
        yield* k.step('kt_test', 'inspect');
        ret = yield* k.call('kthread_stop', kthread_stop(k, p));
        return yield* done(t);
      }
      startCaller(k, caller);
      const stop = runKernel(k, { budget: 20_000_000, stopAtPoint: (p) => p.fn === 'kt_test' });
      expect(stop.kind).toBe('point');
      const p = created! as Task;
      const pid = p.pid;
      // task_struct in guest memory: kernel_thread's PF_KTHREAD and no mm, kthreadd's child, named by kthread_create
      expect(p.v.get('state')).toBe(TASK_UNINTERRUPTIBLE);
      expect(p.v.get('mm')).toBe(0);
      expect(p.v.get('flags') & PF_KTHREAD).toBe(PF_KTHREAD);
      const parentVa = p.v.get('real_parent');
      expect(rd32(k, parentVa + k.taskLayout.offsetOf('pid'))).toBe(2);
      expect(p.v.getString('comm')).toBe('sleeper');
      expect(children(k, k.pidHash.get(2)!)).toContain(p.pid);
      // it inherited kthreadd's ignored signals
      const sh = p.v.get('sighand');
      expect(rd32(k, sh + sighand_struct.offsetOf('action') + 4 * (SIGCHLD - 1))).toBe(1);
      // struct kthread lives on its own kernel stack; vfork_done points at its `exited`
      const self = to_kthread(p);
      const stack = p.v.get('stack');
      expect(self).toBeGreaterThanOrEqual(stack);
      expect(self + kthread_struct.size).toBeLessThanOrEqual(stack + THREAD_SIZE);
      expect(p.v.get('vfork_done')).toBe(self + kthread_struct.offsetOf('exited'));
      expect(rd32(k, self + kthread_struct.offsetOf('data'))).toBe(marker);
      // threadfn never ran
      expect(rd32(k, marker)).toBe(0);
      expect(calls(k, 'never')).toEqual([]);

      expect(runKernel(k, { budget: 20_000_000 }).kind).toBe('idle');
      expect(ret).toBe(-EINTR);
      expect(rd32(k, marker)).toBe(0);
      expect(calls(k, 'never')).toEqual([]);
      expect(k.exits.find((e) => e.pid === pid)?.code).toBe(-EINTR);
      expect(k.pidHash.has(pid)).toBe(false);
      expect(k.byPa.has(p.taskPa)).toBe(false);
    } finally {
      k.close();
    }
  });

  it('kthread_stop of a thread that already returned: the held reference keeps its task_struct, exit_code is returned', () => {
    const k = boot(arch);
    try {
      let quickTask: Task | null = null;
      let ret: number | undefined;
      function* quick(): KGen<number> {
        return 7;
      }
      function* caller(k: Kernel, t: Task): KGen<number> {
        const p = yield* kthread_run(k, quick, 0, 'quick');
        if (typeof p === 'number') throw new Error(`kthread_run: ${p}`);
        quickTask = p;
        get_task_struct(p); // threadfn may return on its own: hold the task_struct (kthread_stop's contract)
        while (!p.exitState) yield SCHEDULE;
        yield* k.step('kt_test', 'returned');
        ret = yield* k.call('kthread_stop', kthread_stop(k, p));
        put_task_struct(k, p);
        yield* k.step('kt_test', 'put');
        return yield* done(t);
      }
      startCaller(k, caller);
      const at = (text: string) => runKernel(k, { budget: 20_000_000, stopAtPoint: (p) => p.fn === 'kt_test' && p.text === text });
      expect(at('returned').kind).toBe('point');
      const p = quickTask! as Task;
      const pid = p.pid;
      // reaped at once and its pid is free, but our reference keeps the task_struct
      expect(k.pidHash.has(pid)).toBe(false);
      expect(k.byPa.has(p.taskPa)).toBe(true);
      expect(p.v.get('exit_state')).toBe(EXIT_DEAD);
      expect(p.v.get('usage')).toBe(1);
      expect(p.v.get('vfork_done')).toBe(0); // mm_release completed and cleared it: to_kthread finds nothing live
      expect(p.v.get('exit_code')).toBe(7);

      expect(at('put').kind).toBe('point');
      expect(ret).toBe(7);
      expect(k.byPa.has(p.taskPa)).toBe(false); // the last reference freed it
      expect(k.trace.events.some((e) => e.t === 'note' && e.fn === 'kthread_stop' && e.text.includes('already exited'))).toBe(true);
      expect(runKernel(k, { budget: 20_000_000 }).kind).toBe('idle');
    } finally {
      k.close();
    }
  });

  it('lazy TLB: kernel threads borrow active_mm under mm_count; every mm_struct alive is referenced, none leaks', () => {
    const src = readFileSync(`asm/${arch}/demo-fork.S`, 'utf8');
    const k = bootProgram(kernelArch(arch), assembleProgram(src, { arch }), { keepTrace: true });
    try {
      function* spin(k: Kernel, t: Task): KGen<number> {
        while (!kthread_should_stop(k, t)) yield SCHEDULE;
        return 0;
      }
      function* caller(k: Kernel, t: Task): KGen<number> {
        for (let i = 0; i < 3; i++) {
          const p = yield* kthread_run(k, spin, 0, `spin${i}`);
          if (typeof p === 'number') throw new Error(`kthread_run: ${p}`);
          yield* yieldCpu(4);
          yield* k.call('kthread_stop', kthread_stop(k, p));
        }
        return yield* done(t);
      }
      startCaller(k, caller);
      expect(runKernel(k, { budget: 20_000_000 }).kind).toBe('idle');
      // mm_count of each mm = one for all its users (mm_users > 0; init_mm's never drop to 0) + one per task
      // running on it lazily (mm == NULL, active_mm == it: kernel threads, a task that exited but has not switched away).
      const tasks = [...k.byPa.values()];
      const mms = new Set<number>([k.initMmVa]);
      for (const t of tasks) for (const f of ['mm', 'active_mm']) if (t.v.get(f)) mms.add(t.v.get(f));
      for (const mm of mms) {
        const v = k.mm.mm(mm);
        const lazy = tasks.filter((t) => !t.mm && t.v.get('active_mm') === mm).length;
        const expected = (v.get('mm_users') > 0 ? 1 : 0) + lazy;
        expect(v.get('mm_count'), `mm 0x${mm.toString(16)}`).toBe(expected);
      }
      expect(k.caches.mm_struct.active).toBe(mms.size); // nothing else is allocated: the exited program's mms were freed
    } finally {
      k.close();
    }
  });

  it('schedule_tail runs once per new task, first: pid 1 before kernel_init execs, kthreadd, forked user tasks', () => {
    const src = readFileSync(`asm/${arch}/demo-fork.S`, 'utf8');
    const k = bootProgram(kernelArch(arch), assembleProgram(src, { arch }), { keepTrace: true });
    try {
      expect(runKernel(k, { budget: 20_000_000 }).kind).toBe('idle');
      const forked = expectOneScheduleTailEach(k);
      expect(forked).toEqual(expect.arrayContaining([1, 2, 3, 4])); // init, kthreadd, the program, its fork child
      const ev = k.trace.events;
      const tail1 = ev.findIndex((e) => e.t === 'call' && e.fn === 'schedule_tail' && e.pid === 1);
      const init1 = ev.findIndex((e) => e.t === 'call' && e.fn === 'kernel_init' && e.pid === 1);
      const exec1 = ev.findIndex((e) => e.t === 'call' && e.fn === 'do_execve' && e.pid === 1);
      expect(tail1).toBeGreaterThanOrEqual(0);
      expect(init1).toBeGreaterThan(tail1);
      expect(exec1).toBeGreaterThan(init1);
      // kernel_init returned into ret_from_fork and went on to /sbin/init in user mode: it forked the program
      expect(ev.some((e) => e.t === 'sys_enter' && e.name === 'clone' && e.pid === 1)).toBe(true);
    } finally {
      k.close();
    }
  });
});
