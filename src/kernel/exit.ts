// kernel/exit.c: do_exit and its steps, exit_notify with find_new_reaper, and
// release_task, which frees what a zombie still holds.

import {
  EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, SIGNAL_GROUP_EXIT, SIG_IGN, TASK_DEAD, files_struct, fs_struct, sighand_struct, signal_struct,
} from './layout.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { __pa, list_add_tail, list_del, list_entries } from './list.js';
import { StructView } from '../machine/struct.js';
import { SCHEDULE } from './kfunc.js';
import { wake_up_process } from './sched.js';
import { __wake_up } from './wait_queue.js';
import { SIGCHLD, send_signal, wait_chldexit, zap_other_threads } from './signal.js';
import type { Task } from './task.js';
import { futex_wake } from './futex.js';
import { complete } from './completion.js';
import { put_task_struct } from './fork.js';
import { ref_put } from './refcount.js';
import { account_exit_signal } from './time/cputime.js';

/** mm_release: CLONE_CHILD_CLEARTID's futex wake, and vfork_done's completion (a vfork parent, or kthread_stop, wakes). */
export function* mm_release(k: Kernel, t: Task): KGen<void> {
  const ctid = t.v.get('clear_child_tid');
  if (ctid && t.mm) {
    t.v.set('clear_child_tid', 0);
    if (k.mm.putUser32(t.mm, ctid, 0)) futex_wake(k, t.mm, ctid, 1);
    yield* k.step('mm_release', `clear_child_tid: *0x${ctid.toString(16)} = 0, futex wake`);
  }
  const done = t.v.get('vfork_done');
  if (done) {
    t.v.set('vfork_done', 0);
    complete(k, done);
    yield* k.step('mm_release', `complete_vfork_done: vfork_done at 0x${done.toString(16)} completed, its waiter woken`);
  }
}

/**
 * exit_mm: the task lets go of its address space (mmput tears it down with the
 * last user). It still runs on the mm until it is switched out, so active_mm
 * keeps an mm_count (mmgrab) that the switch away drops.
 */
function* exit_mm(k: Kernel, t: Task): KGen<void> {
  const mm = t.mm;
  yield* k.call('mm_release', mm_release(k, t));
  if (!mm) return;
  const users = k.mm.mm(mm).get('mm_users');
  k.mm.mmgrab(mm); // active_mm stays: the pgd is in use until the task switches away
  t.v.set('mm', 0);
  k.mm.mmput(mm);
  yield* k.step('exit_mm', `mm 0x${mm.toString(16)}: mm_users ${users} → ${users - 1}${users === 1 ? ' — address space freed' : ''}`);
}

function* exit_files(k: Kernel, t: Task): KGen<void> {
  const f = t.v.get('files');
  if (!f) return;
  t.v.set('files', 0);
  const c = ref_put(k.mem, files_struct, f, 'count', k.caches.files_struct);
  yield* k.step('exit_files', `files_struct 0x${f.toString(16)}: count → ${c}`);
}

function* exit_fs(k: Kernel, t: Task): KGen<void> {
  const f = t.v.get('fs');
  if (!f) return;
  t.v.set('fs', 0);
  const c = ref_put(k.mem, fs_struct, f, 'users', k.caches.fs_struct);
  yield* k.step('exit_fs', `fs_struct 0x${f.toString(16)}: users → ${c}`);
}

/**
 * find_new_reaper: a live thread of the same group first, else the child
 * reaper of the pid namespace (init). Killing init panics.
 */
export function find_new_reaper(k: Kernel, father: Task): Task {
  const tgOff = k.taskLayout.offsetOf('thread_group');
  for (const pva of list_entries(k.mem, father.va + tgOff, tgOff)) {
    const th = k.task(pva);
    if (th.flags & PF_EXITING) continue;
    return th;
  }
  const init = k.pidHash.get(1);
  if (!init || init === father) throw new Error('Attempted to kill init!');
  return init;
}

/** forget_original_parent: every child gets the reaper as its new parent. */
function* forget_original_parent(k: Kernel, father: Task): KGen<void> {
  const chOff = k.taskLayout.offsetOf('children');
  const sibOff = k.taskLayout.offsetOf('sibling');
  const kids = [...list_entries(k.mem, father.va + chOff, sibOff)].map((va) => k.task(va));
  if (kids.length === 0) return;
  const reaper = find_new_reaper(k, father);
  yield* k.step('find_new_reaper', `reaper for the children of pid ${father.pid}: pid ${reaper.pid} (${reaper.comm})`);
  for (const p of kids) {
    p.v.set('real_parent', reaper.va);
    if (p.v.get('parent') === father.va) p.v.set('parent', reaper.va);
    list_del(k.mem, p.va + sibOff);
    list_add_tail(k.mem, p.va + sibOff, reaper.va + chOff);
    yield* k.step('forget_original_parent', `pid ${p.pid} reparented to pid ${reaper.pid}`);
    // reparent_leader: a zombie child is announced to its new parent.
    if (p.exitState === EXIT_ZOMBIE) do_notify_parent(k, p, reaper);
  }
}

/**
 * do_notify_parent: exit_signal (SIGCHLD) to the parent, and a wake-up of its
 * wait4 sleepers (__wake_up_parent). Returns true if the child is to be
 * autoreaped: the parent set SIGCHLD to SIG_IGN (then no signal is sent), as
 * kthreadd does for its children.
 */
function do_notify_parent(k: Kernel, t: Task, parent: Task): boolean {
  const sig = t.v.get('exit_signal');
  const autoreap = sig === SIGCHLD && k.sighandAction(parent, SIGCHLD) === SIG_IGN;
  if (sig > 0 && !autoreap) send_signal(k, parent, sig);
  __wake_up(k, wait_chldexit(k, parent));
  return autoreap;
}

export function thread_group_leader(t: Task): boolean {
  return t.v.get('group_leader') === t.va;
}

/** thread_group_empty: no other thread is linked on p's thread_group list. */
export function thread_group_empty(k: Kernel, p: Task): boolean {
  const off = k.taskLayout.offsetOf('thread_group');
  return k.mem.dv.getUint32(p.taskPa + off, true) === p.va + off;
}

/** delay_group_leader: a leader whose threads still run stays an unreported zombie. */
export function delay_group_leader(k: Kernel, p: Task): boolean {
  return thread_group_leader(p) && !thread_group_empty(k, p);
}

/**
 * exit_notify: reparent the children, then tell the parent — unless this is a
 * non-leader thread (it reaps itself) or a leader whose threads are still alive
 * (the last of them reports the group in release_task).
 */
function* exit_notify(k: Kernel, t: Task): KGen<void> {
  yield* k.call('forget_original_parent', forget_original_parent(k, t));
  const parent = k.task(t.v.get('real_parent'));
  let autoreap: boolean;
  let what: string;
  if (!thread_group_leader(t)) {
    autoreap = true;
    what = `pid ${t.pid} is a thread (tgid ${t.tgid}): reaped at once (EXIT_DEAD)`;
  } else if (!thread_group_empty(k, t)) {
    autoreap = false;
    what = `pid ${t.pid} is EXIT_ZOMBIE; its parent hears of it when the last thread of the group exits`;
  } else {
    autoreap = do_notify_parent(k, t, parent);
    what = autoreap ? `pid ${t.pid}: the parent ignores SIGCHLD — reaped at once (EXIT_DEAD)` : `SIGCHLD → pid ${parent.pid} (${parent.comm}); pid ${t.pid} is now EXIT_ZOMBIE`;
  }
  t.v.set('exit_state', autoreap ? EXIT_DEAD : EXIT_ZOMBIE);
  yield* k.step('exit_notify', what);
  if (autoreap) release_task(k, t);
}

/**
 * do_group_exit: exit_group(2), and every fatal signal. The first thread in
 * sets SIGNAL_GROUP_EXIT with the group's exit code and SIGKILLs the others;
 * each thread then leaves through do_exit with that same code.
 */
export function* do_group_exit(k: Kernel, t: Task, code: number): KGen<number> {
  const sig = new StructView(k.mem, signal_struct, __pa(t.v.get('signal')));
  if (sig.get('flags') & SIGNAL_GROUP_EXIT) code = sig.get('group_exit_code');
  else if (!thread_group_empty(k, t)) {
    sig.set('flags', SIGNAL_GROUP_EXIT);
    sig.set('group_exit_code', code);
    zap_other_threads(k, t);
    yield* k.step('do_group_exit', `pid ${t.pid}: SIGNAL_GROUP_EXIT (code 0x${code.toString(16)}); SIGKILL to the other threads of tgid ${t.tgid}`);
  }
  return yield* k.call('do_exit', do_exit(k, t, code));
}

/**
 * do_exit: never returns. The task ends as a zombie holding only its
 * task_struct, thread_info and kernel stack until its parent reaps it.
 */
export function* do_exit(k: Kernel, t: Task, code: number): KGen<number> {
  if (t.pid === 1) throw new Error(`Attempted to kill init! exitcode=0x${code.toString(16).padStart(8, '0')}`);
  t.v.set('flags', t.v.get('flags') | PF_EXITING);
  yield* k.step('do_exit', `pid ${t.pid}: PF_EXITING set, exit code 0x${code.toString(16)}`);
  const sig = new StructView(k.mem, signal_struct, __pa(t.v.get('signal')));
  sig.set('live', sig.get('live') - 1);
  yield* k.call('exit_mm', exit_mm(k, t));
  yield* k.call('exit_files', exit_files(k, t));
  yield* k.call('exit_fs', exit_fs(k, t));
  t.v.set('exit_code', code);
  yield* k.step('do_exit', `tsk->exit_code = 0x${code.toString(16)}`);
  k.event('sched_process_exit', { comm: t.comm, pid: t.pid, prio: 120 });
  k.exits.push({ pid: t.pid, code });
  yield* k.call('exit_notify', exit_notify(k, t));
  t.state = TASK_DEAD; // finish_task_switch drops the task's own reference
  yield* k.step('do_exit', 'state = TASK_DEAD; schedule() — never returns');
  for (;;) yield SCHEDULE;
}

/** release_task: detach the pid, unlink from the lists, drop release_task's reference on the task_struct (the last one frees it with the kernel stack). */
export function release_task(k: Kernel, p: Task): void {
  const leader = k.task(p.v.get('group_leader'));
  k.pidHash.delete(p.pid);
  list_del(k.mem, p.va + k.taskLayout.offsetOf('tasks'));
  list_del(k.mem, p.va + k.taskLayout.offsetOf('sibling'));
  list_del(k.mem, p.va + k.taskLayout.offsetOf('thread_group'));
  const sigVa = p.v.get('signal');
  if (sigVa) {
    const sig = new StructView(k.mem, signal_struct, __pa(sigVa));
    sig.set('nr_threads', sig.get('nr_threads') - 1);
    account_exit_signal(k, p, sigVa);
    ref_put(k.mem, signal_struct, sigVa, 'sigcnt', k.caches.signal_struct);
  }
  const shVa = p.v.get('sighand');
  if (shVa) ref_put(k.mem, sighand_struct, shVa, 'count', k.caches.sighand_struct);
  p.v.set('exit_state', EXIT_DEAD);
  const i = k.runqueue.indexOf(p);
  if (i >= 0) k.runqueue.splice(i, 1);
  put_task_struct(k, p);
  // The last thread of a group whose leader is already a zombie reports the group.
  if (leader !== p && leader.exitState === EXIT_ZOMBIE && thread_group_empty(k, leader)) {
    if (do_notify_parent(k, leader, k.task(leader.v.get('real_parent')))) release_task(k, leader);
  }
}
