// kernel/sched/completion.c over guest memory: struct completion { done;
// wait_queue_head_t wait }, the waiter's wait_queue_t on its own kernel stack
// (wait_queue.ts).

import { defineStruct, StructView } from '../machine/struct.js';
import type { Kernel } from './kernel.js';
import { SCHEDULE, type KGen } from './kfunc.js';
import { TASK_KILLABLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE, TASK_WAKEKILL, wait_queue_head } from './layout.js';
import { fatal_signal_pending } from './signal.js';
import { __pa } from './list.js';
import type { Task } from './task.js';
import { WQ_FLAG_EXCLUSIVE, __wake_up, add_wait_queue, init_waitqueue_head, remove_wait_queue } from './wait_queue.js';

export const completion = defineStruct('completion', [['done', 'u32'], ['wait', { struct: wait_queue_head }]]);

const view = (k: Kernel, va: number) => new StructView(k.mem, completion, __pa(va));
const waitHead = (va: number) => va + completion.offsetOf('wait');

/** init_completion: done = 0, an empty wait queue. */
export function init_completion(k: Kernel, va: number): void {
  view(k, va).set('done', 0);
  init_waitqueue_head(k, waitHead(va));
}

export function completion_done(k: Kernel, va: number): boolean {
  return view(k, va).get('done') !== 0;
}

/** complete: one more `done`, and the first waiter wakes. */
export function complete(k: Kernel, va: number): void {
  const c = view(k, va);
  c.set('done', c.get('done') + 1);
  __wake_up(k, waitHead(va), 1);
}

/** complete_all: done = UINT_MAX/2, every waiter wakes (and every later wait returns at once). */
export function complete_all(k: Kernel, va: number): void {
  view(k, va).set('done', 0x7fffffff);
  __wake_up(k, waitHead(va), 0);
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
    const entry = add_wait_queue(k, waitHead(va), t, WQ_FLAG_EXCLUSIVE); // __add_wait_queue_tail_exclusive
    do {
      if (state & TASK_WAKEKILL && fatal_signal_pending(t)) {
        remove_wait_queue(k, entry);
        t.state = TASK_RUNNING;
        return ERESTARTSYS;
      }
      t.state = state;
      yield SCHEDULE;
    } while (!c.get('done') || t.state !== TASK_RUNNING);
    remove_wait_queue(k, entry);
  }
  if (c.get('done') !== 0x7fffffff) c.set('done', c.get('done') - 1);
  t.state = TASK_RUNNING;
  return 0;
}
