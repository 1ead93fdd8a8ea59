// The arch-neutral kernel structures, laid out in guest memory as a 32-bit
// Linux would lay them out (a subset of the fields, in the kernel's order).
// The arch-specific parts (thread_info, pt_regs, thread_struct) come from
// src/arch/<arch>/layout.ts through KernelArch.layouts.

import { defineStruct, type StructLayout } from '../machine/struct.js';

export const list_head = defineStruct('list_head', [['next', 'u32'], ['prev', 'u32']]);

/** wait_queue_head_t (include/linux/wait.h): a lock and the list of waiters. */
export const wait_queue_head = defineStruct('wait_queue_head', [['lock', 'u32'], ['task_list', { struct: list_head }]]);

/** wait_queue_t: flags, private (the sleeping task), func (the wake function), task_list. */
export const wait_queue = defineStruct('__wait_queue', [['flags', 'u32'], ['private', 'u32'], ['func', 'u32'], ['task_list', { struct: list_head }]]);

/** include/linux/sched.h, task_struct: the fields the process path uses. */
export function taskStructLayout(thread: StructLayout): StructLayout {
  return defineStruct('task_struct', [
    ['state', 'i32'], // -1 unrunnable, 0 runnable, >0 stopped
    ['stack', 'u32'], // thread_info / kernel stack (virtual address)
    ['usage', 'u32'],
    ['flags', 'u32'], // PF_*
    ['ptrace', 'u32'],
    ['on_rq', 'u32'],
    ['prio', 'i32'],
    ['static_prio', 'i32'],
    ['policy', 'u32'],
    ['tasks', { struct: list_head }],
    ['mm', 'u32'],
    ['active_mm', 'u32'],
    ['exit_state', 'i32'],
    ['exit_code', 'i32'],
    ['exit_signal', 'i32'],
    ['pdeath_signal', 'i32'],
    ['pid', 'i32'],
    ['tgid', 'i32'],
    ['real_parent', 'u32'],
    ['parent', 'u32'],
    ['children', { struct: list_head }],
    ['sibling', { struct: list_head }],
    ['group_leader', 'u32'],
    ['thread_group', { struct: list_head }],
    ['vfork_done', 'u32'],
    ['set_child_tid', 'u32'],
    ['clear_child_tid', 'u32'],
    ['utime', 'u64'], // ns of virtual time spent in user mode (src/kernel/time/cputime.ts)
    ['stime', 'u64'], // ns in kernel mode (the entry/return asm; the C model costs no time)
    ['nvcsw', 'u32'],
    ['nivcsw', 'u32'],
    ['start_time', 'u32'],
    ['comm', { bytes: 16 }],
    ['fs', 'u32'],
    ['files', 'u32'],
    ['signal', 'u32'],
    ['sighand', 'u32'],
    ['blocked', 'u32'],
    ['pending', 'u32'], // pending signal bitmask (sigpending.signal)
    ['jobctl', 'u32'], // JOBCTL_*: group-stop participation
    ['robust_list', 'u32'],
    ['rseq', 'u32'], // struct rseq __user * registered by sys_rseq (0: none)
    ['rseq_sig', 'u32'], // its abort signature
    ['thread', { struct: thread }],
  ]);
}

export const mm_struct = defineStruct('mm_struct', [
  ['mmap', 'u32'], // first vm_area_struct (sorted list)
  ['pgd', 'u32'], // virtual address of the top-level page table
  ['mm_users', 'i32'],
  ['mm_count', 'i32'],
  ['map_count', 'i32'],
  ['total_vm', 'u32'],
  ['start_code', 'u32'],
  ['end_code', 'u32'],
  ['start_data', 'u32'],
  ['end_data', 'u32'],
  ['start_brk', 'u32'],
  ['brk', 'u32'],
  ['start_stack', 'u32'],
  ['mmap_base', 'u32'],
]);

export const vm_area_struct = defineStruct('vm_area_struct', [
  ['vm_start', 'u32'],
  ['vm_end', 'u32'],
  ['vm_next', 'u32'],
  ['vm_prev', 'u32'],
  ['vm_mm', 'u32'],
  ['vm_flags', 'u32'],
  ['vm_pgoff', 'u32'],
]);

export const files_struct = defineStruct('files_struct', [
  ['count', 'i32'],
  ['max_fds', 'u32'],
  ['fd', { array: 'u32', length: 16 }], // fd → host file number + 1 (0 = closed)
]);

export const fs_struct = defineStruct('fs_struct', [['users', 'i32'], ['umask', 'u32']]);

export const sighand_struct = defineStruct('sighand_struct', [
  ['count', 'i32'],
  ['action', { array: 'u32', length: 64 }], // sa_handler per signal (SIG_DFL = 0)
]);

/** sa_handler values with a meaning of their own. */
export const SIG_DFL = 0;
export const SIG_IGN = 1;

export const signal_struct = defineStruct('signal_struct', [
  ['sigcnt', 'i32'],
  ['live', 'i32'],
  ['nr_threads', 'i32'],
  ['wait_chldexit', { struct: wait_queue_head }], // wait4 sleepers (do_wait), woken by __wake_up_parent
  ['group_exit_code', 'i32'],
  ['flags', 'u32'],
  ['rlim_nproc', 'u32'],
  ['utime', 'u64'], // cputime of the group's threads already released (__exit_signal)
  ['stime', 'u64'],
]);

/** struct page: one per physical page frame, in the mem_map array. */
export const page_struct = defineStruct('page', [
  ['flags', 'u32'],
  ['_count', 'i32'], // references (page_count)
  ['_mapcount', 'i32'], // page-table mappings - 1
  ['private', 'u32'], // buddy order while free
]);

// task_struct->state
export const TASK_RUNNING = 0;
export const TASK_INTERRUPTIBLE = 1;
export const TASK_UNINTERRUPTIBLE = 2;
export const __TASK_STOPPED = 4;
export const __TASK_TRACED = 8;
export const TASK_DEAD = 64;
export const TASK_WAKEKILL = 128;
/** A job-control stopped task: SIGKILL (TASK_WAKEKILL) and SIGCONT (__TASK_STOPPED) wake it. */
export const TASK_STOPPED = TASK_WAKEKILL | __TASK_STOPPED;
/** An uninterruptible sleep that a fatal signal may still end. */
export const TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;
// signal_struct->flags
export const SIGNAL_STOP_STOPPED = 0x00000001; // job control stop in effect
export const SIGNAL_STOP_CONTINUED = 0x00000002; // SIGCONT since WCONTINUED reap
export const SIGNAL_GROUP_EXIT = 0x00000004; // group exit in progress
// task_struct->jobctl
export const JOBCTL_STOP_PENDING = 1 << 17; // this thread must take part in a group stop
// task_struct->exit_state
export const EXIT_DEAD = 16;
export const EXIT_ZOMBIE = 32;
// task_struct->flags
export const PF_EXITING = 0x00000004;
export const PF_FORKNOEXEC = 0x00000040;
export const PF_SUPERPRIV = 0x00000100;
export const PF_KTHREAD = 0x00200000;

export function taskStateName(state: number, exitState: number): string {
  if (exitState & EXIT_ZOMBIE) return 'EXIT_ZOMBIE';
  if (exitState & EXIT_DEAD) return 'EXIT_DEAD';
  if (state === TASK_RUNNING) return 'TASK_RUNNING';
  if (state & TASK_DEAD) return 'TASK_DEAD';
  if (state & __TASK_TRACED) return '__TASK_TRACED';
  if (state & __TASK_STOPPED) return '__TASK_STOPPED';
  if (state & TASK_UNINTERRUPTIBLE) return 'TASK_UNINTERRUPTIBLE';
  if (state & TASK_INTERRUPTIBLE) return 'TASK_INTERRUPTIBLE';
  return `state ${state}`;
}
