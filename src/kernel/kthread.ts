// kernel/kthread.c (Linux 3.x): kernel threads are created by kthreadd on
// request, so that they start from a clean context (kthreadd's: no mm, all
// signals ignored, PF_KTHREAD) whoever asks for them.
//
// kthread_create queues a struct kthread_create_info (on the caller's stack)
// on kthread_create_list, wakes kthreadd and sleeps on create->done. kthreadd
// runs kernel_thread(kthread, create); the new task starts in kthread(), which
// puts its struct kthread on its own stack (task->vfork_done = &self.exited,
// to_kthread goes back from there), completes create->done and sleeps
// TASK_UNINTERRUPTIBLE: a created thread does not run until someone
// wake_up_process()es it (kthread_run does). Then it calls threadfn(data),
// unless kthread_stop came first, and do_exit()s with the result. kthreadd
// ignores SIGCHLD, so its dead children are reaped at once (EXIT_DEAD).

import { defineStruct, StructView } from '../machine/struct.js';
import { completion, complete, init_completion, wait_for_completion } from './completion.js';
import { do_exit } from './exit.js';
import { CLONE_FILES, CLONE_FS, get_task_struct, kernel_thread, put_task_struct } from './fork.js';
import type { Kernel, KernelThreadFn } from './kernel.js';
import { SCHEDULE, type KGen } from './kfunc.js';
import { SIG_IGN, TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE, list_head, sighand_struct } from './layout.js';
import { __pa, __va, INIT_LIST_HEAD, list_add_tail, list_del, list_empty } from './list.js';
import { onStack } from './onstack.js';
import { wake_up_process } from './sched.js';
import { SIGCHLD } from './signal.js';
import type { Task } from './task.js';

export const kthread_create_info = defineStruct('kthread_create_info', [
  // Information passed to kthread() from kthreadd.
  ['threadfn', 'u32'],
  ['data', 'u32'],
  ['node', 'i32'],
  // Result passed back to kthread_create() from kthreadd.
  ['result', 'u32'],
  ['done', { struct: completion }],
  ['list', { struct: list_head }],
]);

export const kthread_struct = defineStruct('kthread', [
  ['flags', 'u32'],
  ['cpu', 'u32'],
  ['data', 'u32'],
  ['parked', { struct: completion }],
  ['exited', { struct: completion }],
]);

// struct kthread flags (bit numbers)
export const KTHREAD_IS_PER_CPU = 0;
export const KTHREAD_SHOULD_STOP = 1;
export const KTHREAD_SHOULD_PARK = 2;
export const KTHREAD_IS_PARKED = 3;

const EINTR = 4;
const MAX_ERRNO = 4095;
const IS_ERR = (p: number) => p >>> 0 >= (-MAX_ERRNO >>> 0);

const CREATE_DONE = kthread_create_info.offsetOf('done');
const CREATE_LIST = kthread_create_info.offsetOf('list');
const KTHREAD_EXITED = kthread_struct.offsetOf('exited');

/**
 * kthread.c's static data, in a page of its own: kthread_create_list (the
 * requests kthreadd serves) and kthreadd_task. Called by rest_init.
 */
export function kthread_init(k: Kernel): void {
  const va = __va(k.pages.allocPages(0));
  INIT_LIST_HEAD(k.mem, va);
  k.symbols.set('kthread_create_list', va);
  k.symbols.set('kthreadd_task', va + list_head.size);
}

/** The task kthreadd runs as (rest_init sets it). */
export function kthreadd_task(k: Kernel): Task {
  return k.task(k.mem.dv.getUint32(__pa(k.sym('kthreadd_task')), true));
}

export function set_kthreadd_task(k: Kernel, t: Task): void {
  k.mem.dv.setUint32(__pa(k.sym('kthreadd_task')), t.va, true);
}

/** to_kthread: struct kthread (on the thread's stack) from task->vfork_done, which points at its `exited`; 0 once it has gone (mm_release cleared vfork_done). */
export function to_kthread(t: Task): number {
  const vfork = t.v.get('vfork_done');
  return vfork ? vfork - KTHREAD_EXITED : 0;
}

function kthreadView(k: Kernel, t: Task): StructView {
  const self = to_kthread(t);
  if (!self) throw new Error(`pid ${t.pid} is not a live kthread`);
  return new StructView(k.mem, kthread_struct, __pa(self));
}

/** kthread_should_stop: has kthread_stop been called for t (normally current)? threadfn's loop checks this. */
export function kthread_should_stop(k: Kernel, t: Task): boolean {
  return (kthreadView(k, t).get('flags') & (1 << KTHREAD_SHOULD_STOP)) !== 0;
}

/** kthread_data: the data pointer threadfn was created with. */
export function kthread_data(k: Kernel, t: Task): number {
  return kthreadView(k, t).get('data');
}

/** ignore_signals (kernel/signal.c): every handler SIG_IGN, pending signals flushed. */
function ignore_signals(k: Kernel, t: Task): void {
  const sh = t.v.get('sighand');
  const at = __pa(sh) + sighand_struct.offsetOf('action');
  for (let i = 0; i < 64; i++) k.mem.dv.setUint32(at + 4 * i, SIG_IGN, true);
  t.v.set('pending', 0); // flush_signals
}

/**
 * kthread: where every kthread_create'd task starts (kernel_thread's fn, with
 * the create info as its argument). Never returns: do_exit(threadfn's result),
 * or -EINTR if it was stopped before it ever ran.
 */
export function* kthread(k: Kernel, t: Task, _create: number): KGen<number> {
  // Copy data: it's on the creator's stack, gone once create->done completes.
  const create = new StructView(k.mem, kthread_create_info, __pa(_create));
  const threadfnAddr = create.get('threadfn');
  const threadfn = k.kernelFunctionAt(threadfnAddr);
  const data = create.get('data');
  const selfVa = onStack(k, t, 'kthread', kthread_struct.size);
  const self = new StructView(k.mem, kthread_struct, __pa(selfVa));
  self.set('flags', 0);
  self.set('cpu', 0);
  self.set('data', data);
  init_completion(k, selfVa + kthread_struct.offsetOf('parked'));
  init_completion(k, selfVa + KTHREAD_EXITED);
  t.v.set('vfork_done', selfVa + KTHREAD_EXITED);
  yield* k.step('kthread', `struct kthread at 0x${selfVa.toString(16)} on its own stack; vfork_done = &self.exited (0x${(selfVa + KTHREAD_EXITED).toString(16)})`);

  // OK, tell user we're spawned, wait for stop or wakeup.
  t.state = TASK_UNINTERRUPTIBLE;
  create.set('result', t.va);
  complete(k, _create + CREATE_DONE);
  yield* k.step('kthread', `create->result = pid ${t.pid}; complete(&create->done); sleeps TASK_UNINTERRUPTIBLE until woken`);
  do yield SCHEDULE;
  while (t.state !== TASK_RUNNING); // resumed only by a wake_up_process

  let ret = -EINTR;
  if (!(self.get('flags') & (1 << KTHREAD_SHOULD_STOP))) {
    const name = k.symbolize(threadfnAddr) ?? 'threadfn';
    yield* k.step('kthread', `woken: ${name}(0x${(data >>> 0).toString(16)})`);
    ret = yield* k.call(name, threadfn(k, t, data));
  } else {
    yield* k.step('kthread', 'KTHREAD_SHOULD_STOP before the first run: threadfn is never called, -EINTR');
  }
  // We can't just return, we must preserve "self" on stack.
  return yield* k.call('do_exit', do_exit(k, t, ret));
}

/** create_kthread: kthreadd's half of a request. On failure the creator is told through create->result. */
function* create_kthread(k: Kernel, createVa: number): KGen<void> {
  // We want our own signal handler (we take no signals by default).
  const pid = yield* kernel_thread(k, kthread, createVa, CLONE_FS | CLONE_FILES | SIGCHLD);
  if (pid < 0) {
    new StructView(k.mem, kthread_create_info, __pa(createVa)).set('result', pid >>> 0); // ERR_PTR(pid)
    complete(k, createVa + CREATE_DONE);
  }
}

/** kthreadd: pid 2, the parent of every kthread; serves kthread_create_list forever. */
export function* kthreadd(k: Kernel, tsk: Task, _unused: number): KGen<number> {
  const list = k.sym('kthread_create_list');
  // Setup a clean context for our children to inherit.
  ignore_signals(k, tsk);
  yield* k.step('kthreadd', 'ignore_signals: every handler SIG_IGN (its children are reaped at once when they exit)');
  for (;;) {
    tsk.state = TASK_INTERRUPTIBLE;
    if (list_empty(k.mem, list)) yield SCHEDULE;
    tsk.state = TASK_RUNNING;
    while (!list_empty(k.mem, list)) {
      const entry = k.mem.dv.getUint32(__pa(list), true);
      list_del(k.mem, entry); // list_del_init
      const create = entry - CREATE_LIST;
      yield* k.step('kthreadd', `kthread_create_info at 0x${create.toString(16)} taken off kthread_create_list`);
      yield* k.call('create_kthread', create_kthread(k, create));
    }
  }
}

/**
 * kthread_create_on_node: asks kthreadd for a thread running threadfn(data),
 * and sleeps until it exists. Returns the new task — asleep, TASK_UNINTERRUPTIBLE,
 * named `name` — or a negative errno. Called from a task in kernel context.
 */
export function* kthread_create_on_node(k: Kernel, threadfn: KernelThreadFn, data: number, node: number, name: string): KGen<Task | number> {
  const cur = k.current;
  const createVa = onStack(k, cur, 'kthread_create_info', kthread_create_info.size);
  const create = new StructView(k.mem, kthread_create_info, __pa(createVa));
  create.set('threadfn', k.kernelFunction(threadfn));
  create.set('data', data);
  create.set('node', node);
  create.set('result', 0);
  init_completion(k, createVa + CREATE_DONE);
  list_add_tail(k.mem, createVa + CREATE_LIST, k.sym('kthread_create_list'));
  const kthreadd = kthreadd_task(k);
  yield* k.step('kthread_create_on_node', `kthread_create_info at 0x${createVa.toString(16)} (on pid ${cur.pid}'s stack) queued on kthread_create_list; wake_up_process(kthreadd)`);
  wake_up_process(k, kthreadd);
  yield* wait_for_completion(k, cur, createVa + CREATE_DONE);
  const result = create.get('result');
  if (IS_ERR(result)) {
    yield* k.step('kthread_create_on_node', `failed: ${result | 0}`);
    return result | 0;
  }
  const t = k.task(result);
  t.v.setString('comm', name.slice(0, 15));
  yield* k.step('kthread_create_on_node', `create->done completed: pid ${t.pid} "${t.comm}" exists, asleep until woken`);
  return t;
}

/** kthread_create: kthread_create_on_node on any node. */
export function kthread_create(k: Kernel, threadfn: KernelThreadFn, data: number, name: string): KGen<Task | number> {
  return k.call('kthread_create_on_node', kthread_create_on_node(k, threadfn, data, -1, name));
}

/** kthread_run: kthread_create, then wake_up_process the new thread. */
export function* kthread_run(k: Kernel, threadfn: KernelThreadFn, data: number, name: string): KGen<Task | number> {
  const t = yield* kthread_create(k, threadfn, data, name);
  if (typeof t !== 'number') wake_up_process(k, t);
  return t;
}

/**
 * kthread_stop: sets KTHREAD_SHOULD_STOP, wakes t and waits for it to exit
 * (self.exited, completed by mm_release). Returns threadfn's result (the exit
 * code), or -EINTR if t never ran. If threadfn may return on its own, the
 * caller must hold a reference (get_task_struct) so t cannot go away first.
 */
export function* kthread_stop(k: Kernel, t: Task): KGen<number> {
  k.event('sched_kthread_stop', { comm: t.comm, pid: t.pid });
  get_task_struct(t);
  const self = to_kthread(t); // to_live_kthread
  if (self) {
    const kt = new StructView(k.mem, kthread_struct, __pa(self));
    kt.set('flags', kt.get('flags') | (1 << KTHREAD_SHOULD_STOP));
    wake_up_process(k, t);
    yield* k.step('kthread_stop', `pid ${t.pid}: KTHREAD_SHOULD_STOP set, woken; waiting on its exited completion at 0x${(self + KTHREAD_EXITED).toString(16)}`);
    yield* wait_for_completion(k, k.current, self + KTHREAD_EXITED);
  } else {
    yield* k.step('kthread_stop', `pid ${t.pid} has already exited`);
  }
  const ret = t.v.get('exit_code');
  yield* k.step('kthread_stop', `pid ${t.pid} exited with ${ret}`);
  put_task_struct(k, t);
  k.event('sched_kthread_stop_ret', { ret });
  return ret;
}
