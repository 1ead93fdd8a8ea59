// kernel/fork.c: sys_clone/fork/vfork → _do_fork → copy_process.
// Every step the seeds list happens here, in guest memory, in this order.

import { THREAD_SIZE } from '../arch/types.js';
import { StructView } from '../machine/struct.js';
import { completion, init_completion, wait_for_completion_killable } from './completion.js';
import type { Kernel, KernelThreadFn } from './kernel.js';
import type { KGen } from './kfunc.js';
import {
  PF_FORKNOEXEC, PF_KTHREAD, PF_SUPERPRIV, TASK_UNINTERRUPTIBLE,
  files_struct, fs_struct, mm_struct, sighand_struct, signal_struct,
} from './layout.js';
import { ref_get, ref_put } from './refcount.js';
import { rseq_fork } from './rseq.js';
import { userAccess } from './uaccess.js';
import { __pa, __va, INIT_LIST_HEAD, list_add_tail } from './list.js';
import { SCHEDULE } from './kfunc.js';
import { onStack } from './onstack.js';
import { wake_up_new_task } from './sched.js';
import { init_waitqueue_head } from './wait_queue.js';
import { Task } from './task.js';

export const CSIGNAL = 0x000000ff;
export const CLONE_VM = 0x00000100;
export const CLONE_FS = 0x00000200;
export const CLONE_FILES = 0x00000400;
export const CLONE_SIGHAND = 0x00000800;
export const CLONE_PTRACE = 0x00002000;
export const CLONE_VFORK = 0x00004000;
export const CLONE_PARENT = 0x00008000;
export const CLONE_THREAD = 0x00010000;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_SYSVSEM = 0x00040000;
export const CLONE_SETTLS = 0x00080000;
export const CLONE_PARENT_SETTID = 0x00100000;
export const CLONE_CHILD_CLEARTID = 0x00200000;
export const CLONE_DETACHED = 0x00400000;
export const CLONE_UNTRACED = 0x00800000;
export const CLONE_CHILD_SETTID = 0x01000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;

export const CLONE_FLAG_NAMES: [number, string][] = [
  [CLONE_VM, 'CLONE_VM'], [CLONE_FS, 'CLONE_FS'], [CLONE_FILES, 'CLONE_FILES'], [CLONE_SIGHAND, 'CLONE_SIGHAND'],
  [CLONE_PTRACE, 'CLONE_PTRACE'], [CLONE_VFORK, 'CLONE_VFORK'], [CLONE_PARENT, 'CLONE_PARENT'], [CLONE_THREAD, 'CLONE_THREAD'],
  [CLONE_NEWNS, 'CLONE_NEWNS'], [CLONE_SYSVSEM, 'CLONE_SYSVSEM'], [CLONE_SETTLS, 'CLONE_SETTLS'],
  [CLONE_PARENT_SETTID, 'CLONE_PARENT_SETTID'], [CLONE_CHILD_CLEARTID, 'CLONE_CHILD_CLEARTID'], [CLONE_DETACHED, 'CLONE_DETACHED'],
  [CLONE_UNTRACED, 'CLONE_UNTRACED'], [CLONE_CHILD_SETTID, 'CLONE_CHILD_SETTID'], [CLONE_NEWUSER, 'CLONE_NEWUSER'], [CLONE_NEWPID, 'CLONE_NEWPID'],
];

const EINVAL = -22, EAGAIN = -11, ENOMEM = -12;

export interface CloneArgs {
  flags: number;
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
  /** kernel_thread: the thread function's address (a kernel function) and its argument. */
  kthread?: { fn: number; arg: number };
  comm?: string;
}

/** The checks at the top of copy_process, as Linux decides them. */
export function clone_flags_error(flags: number, current: Task): string | null {
  if ((flags & (CLONE_NEWNS | CLONE_FS)) === (CLONE_NEWNS | CLONE_FS)) return 'CLONE_NEWNS with CLONE_FS';
  if ((flags & (CLONE_NEWUSER | CLONE_FS)) === (CLONE_NEWUSER | CLONE_FS)) return 'CLONE_NEWUSER with CLONE_FS';
  if (flags & CLONE_THREAD && !(flags & CLONE_SIGHAND)) return 'CLONE_THREAD without CLONE_SIGHAND';
  if (flags & CLONE_SIGHAND && !(flags & CLONE_VM)) return 'CLONE_SIGHAND without CLONE_VM';
  if (flags & CLONE_PARENT && current.pid === 1) return 'CLONE_PARENT from init';
  // 3.18 (like the uname the model reports): a new pid or user namespace may share neither signal handlers nor a thread group.
  if (flags & CLONE_SIGHAND && flags & (CLONE_NEWUSER | CLONE_NEWPID)) return 'CLONE_SIGHAND with a new user/pid namespace';
  return null;
}

/** RESERVED_PIDS: after a wrap, pids restart above the range Linux keeps for boot-time daemons. */
export const RESERVED_PIDS = 300;

/**
 * alloc_pid: the next free pid after the last one, wrapping at pid_max to
 * RESERVED_PIDS as Linux does. Linux's pid_max is at least RESERVED_PIDS + 1;
 * the model allows a smaller one (tests), which wraps to 1.
 */
export function alloc_pid(k: Kernel): number {
  const max = k.opts.pidMax;
  const floor = max > RESERVED_PIDS ? RESERVED_PIDS : 1;
  let pid = k.lastPid;
  for (let i = 0; i < max; i++) {
    pid = pid + 1 >= max ? floor : pid + 1;
    if (!k.pidHash.has(pid)) {
      k.lastPid = pid;
      return pid;
    }
  }
  return -1;
}

/** dup_task_struct: new task_struct and kernel stack; thread_info copied from the parent with `task` repointed. */
function* dup_task_struct(k: Kernel, orig: Task): KGen<Task> {
  const pa = k.caches.task_struct.alloc();
  k.mem.u8.copyWithin(pa, orig.taskPa, orig.taskPa + k.taskLayout.size); // *tsk = *orig
  const t = new Task(k.mem, k.taskLayout, pa);
  k.byPa.set(pa, t);
  const stackPa = k.pages.allocPages(1); // THREAD_SIZE, 8 KiB aligned
  k.mem.u8.copyWithin(stackPa, orig.tiPa, orig.tiPa + k.arch.layouts.thread_info.size); // setup_thread_stack
  t.v.set('stack', __va(stackPa));
  new StructView(k.mem, k.arch.layouts.thread_info, stackPa).set('task', t.va);
  t.v.set('usage', 2);
  yield* k.step('dup_task_struct', `task_struct at 0x${t.va.toString(16)}, kernel stack 0x${__va(stackPa).toString(16)}-0x${__va(stackPa + THREAD_SIZE - 1).toString(16)} (8 KiB aligned); thread_info->task = 0x${t.va.toString(16)}`);
  return t;
}

function* copy_files(k: Kernel, flags: number, p: Task, cur: Task): KGen<void> {
  const old = cur.v.get('files');
  if (!old) return;
  if (flags & CLONE_FILES) {
    ref_get(k.mem, files_struct, old, 'count');
    yield* k.step('copy_files', `CLONE_FILES: share files_struct 0x${old.toString(16)}`);
    return;
  }
  const pa = k.caches.files_struct.alloc();
  k.mem.u8.copyWithin(pa, __pa(old), __pa(old) + files_struct.size); // dup_fd
  new StructView(k.mem, files_struct, pa).set('count', 1);
  p.v.set('files', __va(pa));
  yield* k.step('copy_files', `dup_fd: new files_struct 0x${__va(pa).toString(16)}`);
}

function* copy_fs(k: Kernel, flags: number, p: Task, cur: Task): KGen<void> {
  const old = cur.v.get('fs');
  if (!old) return;
  if (flags & CLONE_FS) {
    ref_get(k.mem, fs_struct, old, 'users');
    yield* k.step('copy_fs', `CLONE_FS: share fs_struct 0x${old.toString(16)}`);
    return;
  }
  const pa = k.caches.fs_struct.alloc();
  k.mem.u8.copyWithin(pa, __pa(old), __pa(old) + fs_struct.size);
  new StructView(k.mem, fs_struct, pa).set('users', 1);
  p.v.set('fs', __va(pa));
  yield* k.step('copy_fs', `copy_fs_struct: new fs_struct 0x${__va(pa).toString(16)}`);
}

function* copy_sighand(k: Kernel, flags: number, p: Task, cur: Task): KGen<void> {
  const old = cur.v.get('sighand');
  if (flags & CLONE_SIGHAND) {
    ref_get(k.mem, sighand_struct, old, 'count');
    yield* k.step('copy_sighand', `CLONE_SIGHAND: share sighand_struct 0x${old.toString(16)}`);
    return;
  }
  const pa = k.caches.sighand_struct.alloc();
  k.mem.u8.copyWithin(pa, __pa(old), __pa(old) + sighand_struct.size);
  new StructView(k.mem, sighand_struct, pa).set('count', 1);
  p.v.set('sighand', __va(pa));
  yield* k.step('copy_sighand', `new sighand_struct 0x${__va(pa).toString(16)} (handlers copied)`);
}

function* copy_signal(k: Kernel, flags: number, p: Task, cur: Task): KGen<void> {
  const old = cur.v.get('signal');
  if (flags & CLONE_THREAD) {
    ref_get(k.mem, signal_struct, old, 'sigcnt');
    const s = new StructView(k.mem, signal_struct, __pa(old));
    s.set('live', s.get('live') + 1);
    s.set('nr_threads', s.get('nr_threads') + 1);
    yield* k.step('copy_signal', `CLONE_THREAD: join signal_struct 0x${old.toString(16)}`);
    return;
  }
  const pa = k.caches.signal_struct.alloc();
  const s = new StructView(k.mem, signal_struct, pa);
  s.set('sigcnt', 1);
  s.set('live', 1);
  s.set('nr_threads', 1);
  s.set('rlim_nproc', new StructView(k.mem, signal_struct, __pa(old)).get('rlim_nproc'));
  init_waitqueue_head(k, __va(pa) + signal_struct.offsetOf('wait_chldexit'));
  p.v.set('signal', __va(pa));
  yield* k.step('copy_signal', `new signal_struct 0x${__va(pa).toString(16)}`);
}

function* copy_mm(k: Kernel, flags: number, p: Task, cur: Task): KGen<void> {
  const oldmm = cur.mm;
  p.v.set('mm', 0);
  p.v.set('active_mm', 0);
  if (!oldmm) {
    yield* k.step('copy_mm', 'current->mm is NULL: a kernel thread gets no mm (it runs on a borrowed active_mm)');
    return;
  }
  if (flags & CLONE_VM) {
    const users = ref_get(k.mem, mm_struct, oldmm, 'mm_users');
    p.v.set('mm', oldmm);
    p.v.set('active_mm', oldmm);
    yield* k.step('copy_mm', `CLONE_VM: share mm 0x${oldmm.toString(16)} (mm_users ${users})`);
    return;
  }
  const mm = k.mm.dupMmap(oldmm);
  p.v.set('mm', mm);
  p.v.set('active_mm', mm);
  let shared = 0;
  k.arch.pgtable.forEachUserPte(k.mem, k.mm.pgdPa(mm), () => shared++);
  yield* k.step('copy_mm', `dup_mm: new mm 0x${mm.toString(16)}, pgd 0x${k.mm.mm(mm).get('pgd').toString(16)}; ${shared} page(s) shared copy-on-write (read-only in both, page count +1)`);
}

/**
 * The bad_fork_cleanup_* labels of copy_process, in reverse order of the
 * copies: the half-made child gives back its mm, signal, sighand, fs and
 * files references, then its kernel stack and task_struct.
 */
function bad_fork_cleanup(k: Kernel, flags: number, p: Task): void {
  if (p.mm) k.mm.mmput(p.mm);
  const sigVa = p.v.get('signal');
  if (flags & CLONE_THREAD) {
    const s = new StructView(k.mem, signal_struct, __pa(sigVa));
    s.set('live', s.get('live') - 1);
    s.set('nr_threads', s.get('nr_threads') - 1);
  }
  ref_put(k.mem, signal_struct, sigVa, 'sigcnt', k.caches.signal_struct);
  ref_put(k.mem, sighand_struct, p.v.get('sighand'), 'count', k.caches.sighand_struct);
  const fs = p.v.get('fs');
  if (fs) ref_put(k.mem, fs_struct, fs, 'users', k.caches.fs_struct);
  const files = p.v.get('files');
  if (files) ref_put(k.mem, files_struct, files, 'count', k.caches.files_struct);
  free_task(k, p); // bad_fork_free
}

/** Counts the user's processes for RLIMIT_NPROC (kernel threads excluded). */
function nr_processes(k: Kernel): number {
  let n = 0;
  for (const t of k.byPa.values()) if (!(t.flags & PF_KTHREAD) && t.pid !== 0 && !t.exitState) n++;
  return n;
}

/** copy_process: returns the new task, or a negative errno. */
export function* copy_process(k: Kernel, a: CloneArgs): KGen<Task | number> {
  const cur = k.current;
  const bad = clone_flags_error(a.flags, cur);
  if (bad) {
    yield* k.step('copy_process', `EINVAL: ${bad}`);
    return EINVAL;
  }
  const sig = new StructView(k.mem, signal_struct, __pa(cur.v.get('signal')));
  if (!a.kthread && nr_processes(k) >= sig.get('rlim_nproc')) {
    yield* k.step('copy_process', `EAGAIN: RLIMIT_NPROC (${sig.get('rlim_nproc')}) reached`);
    return EAGAIN;
  }
  let p: Task;
  try {
    p = yield* k.call('dup_task_struct', dup_task_struct(k, cur));
  } catch {
    return ENOMEM;
  }
  // Differentiate the child: what is not inherited is cleared.
  for (const f of ['utime', 'stime', 'nvcsw', 'nivcsw', 'pending', 'on_rq', 'exit_state', 'exit_code', 'robust_list']) p.v.set(f, 0);
  p.v.set('vfork_done', 0);
  p.v.set('set_child_tid', a.flags & CLONE_CHILD_SETTID ? a.childTid : 0);
  p.v.set('clear_child_tid', a.flags & CLONE_CHILD_CLEARTID ? a.childTid : 0);
  p.v.set('start_time', k.now);
  p.v.set('flags', (p.flags & ~PF_SUPERPRIV) | PF_FORKNOEXEC | (a.kthread ? PF_KTHREAD : 0)); // copy_flags
  p.state = TASK_UNINTERRUPTIBLE; // not yet runnable
  yield* k.step('copy_process', `child differentiated: stats and pending signals cleared, PF_SUPERPRIV cleared, PF_FORKNOEXEC${a.kthread ? ' and PF_KTHREAD' : ''} set, state TASK_UNINTERRUPTIBLE`);
  p.v.set('prio', cur.v.get('static_prio'));
  yield* k.step('sched_fork', 'sched_fork: priority inherited, not on a runqueue yet');
  yield* k.call('copy_files', copy_files(k, a.flags, p, cur));
  yield* k.call('copy_fs', copy_fs(k, a.flags, p, cur));
  yield* k.call('copy_sighand', copy_sighand(k, a.flags, p, cur));
  yield* k.call('copy_signal', copy_signal(k, a.flags, p, cur));
  yield* k.call('copy_mm', copy_mm(k, a.flags, p, cur));
  // copy_thread: child's pt_regs = parent's, return register 0, new stack if given.
  const childRegs = p.tiPa + THREAD_SIZE - k.arch.layouts.pt_regs.size;
  if (a.kthread) {
    k.arch.copyKernelThread(k.mem, p, childRegs, a.kthread.fn, a.kthread.arg, (n) => k.sym(n));
    yield* k.step('copy_thread', `PF_KTHREAD: child pt_regs at 0x${__va(childRegs).toString(16)} zeroed; first run: ret_from_fork → schedule_tail, then ${k.symbolize(a.kthread.fn) ?? `0x${a.kthread.fn.toString(16)}`}(0x${(a.kthread.arg >>> 0).toString(16)})`);
  } else {
    k.mem.u8.copyWithin(childRegs, k.ptRegsPa(cur), k.ptRegsPa(cur) + k.arch.layouts.pt_regs.size);
    k.arch.copyThread(k.mem, p, childRegs, a.stack, (n) => k.sym(n));
    if (a.flags & CLONE_SETTLS) {
      // copy_thread_tls: the arch reads its TLS argument (i386: a struct user_desc in the parent's memory).
      const err = k.arch.copyThreadTls(k.mem, p, a.tls, userAccess(k, cur));
      if (err < 0) {
        yield* k.step('copy_thread', `CLONE_SETTLS: tls 0x${(a.tls >>> 0).toString(16)} refused (${err}); undo the copies`);
        bad_fork_cleanup(k, a.flags, p);
        return err;
      }
    }
    yield* k.step('copy_thread', `child pt_regs at 0x${__va(childRegs).toString(16)} copied from the parent, return value 0${a.stack ? `, sp = 0x${a.stack.toString(16)}` : ''}; first run: ret_from_fork`);
  }
  rseq_fork(p, a.flags);
  const pid = alloc_pid(k);
  if (pid < 0) {
    yield* k.step('alloc_pid', 'EAGAIN: no free pid');
    bad_fork_cleanup(k, a.flags, p);
    return EAGAIN;
  }
  p.v.set('pid', pid);
  k.pidHash.set(pid, p);
  yield* k.step('alloc_pid', `pid ${pid}`);
  const tl = k.taskLayout;
  for (const l of ['children', 'sibling', 'thread_group', 'tasks']) INIT_LIST_HEAD(k.mem, p.va + tl.offsetOf(l));
  if (a.flags & CLONE_THREAD) {
    p.v.set('exit_signal', -1);
    p.v.set('group_leader', cur.v.get('group_leader'));
    p.v.set('tgid', cur.tgid);
    list_add_tail(k.mem, p.va + tl.offsetOf('thread_group'), cur.v.get('group_leader') + tl.offsetOf('thread_group'));
  } else {
    p.v.set('exit_signal', a.flags & CSIGNAL);
    p.v.set('group_leader', p.va);
    p.v.set('tgid', pid);
  }
  if (a.flags & (CLONE_PARENT | CLONE_THREAD)) {
    p.v.set('real_parent', cur.v.get('real_parent'));
    if (a.flags & CLONE_PARENT) p.v.set('exit_signal', k.task(cur.v.get('group_leader')).v.get('exit_signal'));
  } else p.v.set('real_parent', cur.va);
  p.v.set('parent', p.v.get('real_parent'));
  list_add_tail(k.mem, p.va + tl.offsetOf('sibling'), p.v.get('real_parent') + tl.offsetOf('children'));
  list_add_tail(k.mem, p.va + tl.offsetOf('tasks'), k.initTask.va + tl.offsetOf('tasks'));
  if (a.comm) p.v.setString('comm', a.comm);
  yield* k.step('copy_process', `linked: parent pid ${k.task(p.v.get('real_parent')).pid}'s children list, the tasks list; tgid ${p.tgid}, exit_signal ${p.v.get('exit_signal')}`);
  if (a.flags & CLONE_PARENT_SETTID && cur.mm) k.mm.putUser32(cur.mm, a.parentTid, pid);
  return p;
}

/**
 * _do_fork: copy_process, then wake the child (it runs first), then for vfork
 * wait on vfork_done until the child execs or exits.
 */
export function* _do_fork(k: Kernel, a: CloneArgs): KGen<number> {
  const cur = k.current;
  const r = yield* k.call('copy_process', copy_process(k, a));
  if (typeof r === 'number') return r;
  const p = r;
  // nr = task_pid_vnr(p), taken now: a self-reaping child (CLONE_THREAD) may have
  // exited and been freed by the time this parent runs again.
  const nr = p.pid;
  k.event('sched_process_fork', { comm: cur.comm, pid: cur.pid, child_comm: p.comm, child_pid: p.pid });
  let vforkDone = 0;
  if (a.flags & CLONE_VFORK) {
    // struct completion vfork on the parent's kernel stack, as in Linux.
    vforkDone = onStack(k, cur, 'vfork', completion.size);
    init_completion(k, vforkDone);
    p.v.set('vfork_done', vforkDone);
    yield* k.step('_do_fork', `CLONE_VFORK: vfork_done → completion at 0x${vforkDone.toString(16)} on the parent's kernel stack`);
  }
  wake_up_new_task(k, p);
  yield* k.step('wake_up_new_task', `pid ${p.pid} is TASK_RUNNING on the runqueue${k.opts.childRunsFirst ? ' (child runs first)' : ''}`);
  if (k.opts.childRunsFirst && !a.kthread) yield SCHEDULE; // let the child run first
  if (vforkDone) {
    // wait_for_vfork_done: TASK_KILLABLE until mm_release completes it. A fatal
    // signal ends the wait early; the child must then not touch the completion,
    // which lives on this (dying) parent's stack.
    const killed = (yield* wait_for_completion_killable(k, cur, vforkDone)) < 0;
    if (killed) {
      if (k.byPa.has(p.taskPa) && p.v.get('vfork_done') === vforkDone) p.v.set('vfork_done', 0);
      yield* k.step('_do_fork', `parent pid ${cur.pid} killed while waiting for vfork_done`);
    } else yield* k.step('_do_fork', `vfork_done completed: parent pid ${cur.pid} resumes`);
  }
  return nr;
}

/**
 * kernel_thread: _do_fork(flags | CLONE_VM | CLONE_UNTRACED) of a task that
 * runs `fn(arg)` in the kernel. It inherits current's (absent) mm and is
 * PF_KTHREAD; ret_from_fork calls fn after schedule_tail. `comm` names it at
 * once (Linux: the thread names itself, or kthread_create does).
 */
export function* kernel_thread(k: Kernel, fn: KernelThreadFn, arg: number, flags: number, comm?: string): KGen<number> {
  const kthread = { fn: k.kernelFunction(fn), arg };
  return yield* _do_fork(k, { flags: flags | CLONE_VM | CLONE_UNTRACED, stack: 0, parentTid: 0, childTid: 0, tls: 0, kthread, comm });
}

/** get_task_struct: one more reference on the task_struct (usage). */
export function get_task_struct(t: Task): void {
  t.v.set('usage', t.v.get('usage') + 1);
}

/**
 * put_task_struct: the last reference frees the task (__put_task_struct →
 * free_task: kernel stack and task_struct). dup_task_struct starts at 2: one
 * for the task itself, dropped when it has scheduled away for the last time
 * (finish_task_switch), one for release_task.
 */
export function put_task_struct(k: Kernel, t: Task): void {
  const n = t.v.get('usage') - 1;
  t.v.set('usage', n);
  if (n > 0) return;
  free_task(k, t);
}

/** free_task: the kernel stack (free_thread_info) and the task_struct (free_task_struct). */
function free_task(k: Kernel, t: Task): void {
  k.pages.freePages(t.tiPa, 1);
  k.byPa.delete(t.taskPa);
  k.caches.task_struct.free(t.taskPa);
}
