// kernel/sched/completion.c and the part of kernel/sched/wait.c it needs, over
// guest memory: struct completion { done; wait_queue_head_t wait }, and the
// waiter's wait_queue_t on its own kernel stack (DECLARE_WAITQUEUE there too).

import { defineStruct, StructView } from '../machine/struct.js';
import type { Kernel } from './kernel.js';
import { SCHEDULE, type KGen } from './kfunc.js';
import { TASK_KILLABLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE, TASK_WAKEKILL, list_head } from './layout.js';
import { fatal_signal_pending } from './signal.js';
import { __pa, INIT_LIST_HEAD, list_add_tail, list_del, list_entries } from './list.js';
import { onStack } from './onstack.js';
import { wake_up_process } from './sched.js';
import type { Task } from './task.js';

export const wait_queue_head = defineStruct('wait_queue_head', [['lock', 'u32'], ['task_list', { struct: list_head }]]);

/** wait_queue_t: flags, private (the sleeping task), func (the wake function), task_list. */
export const wait_queue = defineStruct('__wait_queue', [['flags', 'u32'], ['private', 'u32'], ['func', 'u32'], ['task_list', { struct: list_head }]]);

export const completion = defineStruct('completion', [['done', 'u32'], ['wait', { struct: wait_queue_head }]]);

export const WQ_FLAG_EXCLUSIVE = 0x01;

const view = (k: Kernel, va: number) => new StructView(k.mem, completion, __pa(va));
const waitList = (va: number) => va + completion.offsetOf('wait') + wait_queue_head.offsetOf('task_list');

/** init_completion: done = 0, an empty wait queue. */
export function init_completion(k: Kernel, va: number): void {
  k.mem.u8.fill(0, __pa(va), __pa(va) + completion.size);
  INIT_LIST_HEAD(k.mem, waitList(va));
}

export function completion_done(k: Kernel, va: number): boolean {
  return view(k, va).get('done') !== 0;
}

/**
 * __wake_up_common: every non-exclusive waiter and up to nr_exclusive exclusive
 * ones are woken (default_wake_function: try_to_wake_up). The waiters unlink
 * their own entries when they run again.
 */
function __wake_up_common(k: Kernel, head: number, nrExclusive: number): void {
  const off = wait_queue.offsetOf('task_list');
  for (const wva of list_entries(k.mem, head, off)) {
    const w = new StructView(k.mem, wait_queue, __pa(wva));
    wake_up_process(k, k.task(w.get('private')));
    if (w.get('flags') & WQ_FLAG_EXCLUSIVE && --nrExclusive === 0) break;
  }
}

/** complete: one more `done`, and the first waiter wakes. */
export function complete(k: Kernel, va: number): void {
  const c = view(k, va);
  c.set('done', c.get('done') + 1);
  __wake_up_common(k, waitList(va), 1);
}

/** complete_all: done = UINT_MAX/2, every waiter wakes (and every later wait returns at once). */
export function complete_all(k: Kernel, va: number): void {
  view(k, va).set('done', 0x7fffffff);
  __wake_up_common(k, waitList(va), 0);
}

/**
 * wait_for_completion: sleeps TASK_UNINTERRUPTIBLE on the completion's wait
 * queue until `done` is set, then consumes one. The wait_queue_t is on the
 * waiter's kernel stack. A resume while still not TASK_RUNNING is not a wake-up
 * (the dispatcher may resume the current task when nothing else can run).
 */
export function* wait_for_completion(k: Kernel, t: Task, va: number): KGen<void> {
  yield* do_wait_for_common(k, t, va, TASK_UNINTERRUPTIBLE);
}

/**
 * wait_for_completion_killable: the same in TASK_KILLABLE; a fatal signal
 * ends the wait early with -ERESTARTSYS (and consumes nothing).
 */
export function* wait_for_completion_killable(k: Kernel, t: Task, va: number): KGen<number> {
  return yield* do_wait_for_common(k, t, va, TASK_KILLABLE);
}

const ERESTARTSYS = -512;

function* do_wait_for_common(k: Kernel, t: Task, va: number, state: number): KGen<number> {
  const c = view(k, va);
  if (!c.get('done')) {
    const wva = onStack(k, t, 'wait_queue', wait_queue.size);
    const w = new StructView(k.mem, wait_queue, __pa(wva));
    w.set('flags', WQ_FLAG_EXCLUSIVE);
    w.set('private', t.va);
    w.set('func', 0);
    const entry = wva + wait_queue.offsetOf('task_list');
    list_add_tail(k.mem, entry, waitList(va)); // __add_wait_queue_tail_exclusive
    do {
      if (state & TASK_WAKEKILL && fatal_signal_pending(t)) {
        list_del(k.mem, entry);
        t.state = TASK_RUNNING;
        return ERESTARTSYS;
      }
      t.state = state;
      yield SCHEDULE;
    } while (!c.get('done') || t.state !== TASK_RUNNING);
    list_del(k.mem, entry);
  }
  if (c.get('done') !== 0x7fffffff) c.set('done', c.get('done') - 1);
  t.state = TASK_RUNNING;
  return 0;
}
