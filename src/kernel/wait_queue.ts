// kernel/sched/wait.c over guest memory: a wait_queue_head_t holds a list of
// wait_queue_t entries, each on its sleeper's kernel stack (DECLARE_WAITQUEUE),
// naming the task to wake. Completions and wait4 both sleep on these.

import { StructView } from '../machine/struct.js';
import type { Kernel } from './kernel.js';
import { wait_queue, wait_queue_head } from './layout.js';
import { __pa, INIT_LIST_HEAD, list_add_tail, list_del, list_entries } from './list.js';
import { onStack } from './onstack.js';
import { wake_up_process } from './sched.js';
import type { Task } from './task.js';

export const WQ_FLAG_EXCLUSIVE = 0x01;

const taskList = (head: number): number => head + wait_queue_head.offsetOf('task_list');

/** init_waitqueue_head: an empty list. */
export function init_waitqueue_head(k: Kernel, head: number): void {
  k.mem.u8.fill(0, __pa(head), __pa(head) + wait_queue_head.size);
  INIT_LIST_HEAD(k.mem, taskList(head));
}

/**
 * add_wait_queue (or __add_wait_queue_tail_exclusive): t's wait_queue_t, in
 * its kernel-stack slot, joins the queue's tail. Returns the entry, for
 * remove_wait_queue.
 */
export function add_wait_queue(k: Kernel, head: number, t: Task, flags = 0): number {
  const wva = onStack(k, t, 'wait_queue', wait_queue.size);
  const w = new StructView(k.mem, wait_queue, __pa(wva));
  w.set('flags', flags);
  w.set('private', t.va);
  w.set('func', 0); // default_wake_function
  list_add_tail(k.mem, wva + wait_queue.offsetOf('task_list'), taskList(head));
  return wva;
}

export function remove_wait_queue(k: Kernel, entry: number): void {
  list_del(k.mem, entry + wait_queue.offsetOf('task_list'));
}

/**
 * __wake_up_common: every non-exclusive waiter and up to nrExclusive exclusive
 * ones (0: all) are woken (default_wake_function: try_to_wake_up). Waiters
 * unlink their own entries when they run again.
 */
export function __wake_up(k: Kernel, head: number, nrExclusive = 0): void {
  const off = wait_queue.offsetOf('task_list');
  for (const wva of [...list_entries(k.mem, taskList(head), off)]) {
    const w = new StructView(k.mem, wait_queue, __pa(wva));
    wake_up_process(k, k.task(w.get('private')));
    if (w.get('flags') & WQ_FLAG_EXCLUSIVE && --nrExclusive === 0) break;
  }
}
