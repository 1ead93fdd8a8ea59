// Objects Linux declares as locals of a kernel C function (a completion, a
// wait_queue_t, struct kthread …) live on the task's kernel stack, as there.
// The model's C frames are host generators, so each kind of object gets a fixed
// slot just above thread_info, far below the top of the 8 KiB stack where the
// entry asm keeps pt_regs and its frames. One slot per kind suffices: a task
// holds at most one object of each kind at a time (it sleeps in one place, it
// forks or creates one kernel thread at a time).

import type { Kernel } from './kernel.js';
import { __va } from './list.js';
import type { Task } from './task.js';

const KINDS = ['vfork', 'wait_queue', 'kthread_create_info', 'kthread'] as const;
export type OnStackKind = (typeof KINDS)[number];

const SLOT = 64;
/** Gap between thread_info and the first slot. */
const GUARD = 64;

/** Kernel virtual address of `kind`'s slot on t's kernel stack; `size` is checked against the slot. */
export function onStack(k: Kernel, t: Task, kind: OnStackKind, size = 0): number {
  if (size > SLOT) throw new Error(`on-stack ${kind}: ${size} bytes do not fit a ${SLOT}-byte slot`);
  const base = Math.ceil(k.arch.layouts.thread_info.size / 16) * 16 + GUARD;
  return __va(t.tiPa + base + SLOT * KINDS.indexOf(kind));
}
