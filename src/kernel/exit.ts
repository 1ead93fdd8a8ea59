// kernel/exit.c: do_exit and its steps, exit_notify with find_new_reaper, and
// release_task, which frees what a zombie still holds.

import {
  EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, TASK_DEAD, files_struct, fs_struct, sighand_struct, signal_struct,
} from './layout.js';
import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { __pa, list_add_tail, list_del, list_entries } from './list.js';
import { StructView } from '../machine/struct.js';
import { SCHEDULE } from './kfunc.js';
import { wake_up_process } from './sched.js';
import { SIGCHLD, send_signal } from './signal.js';
import type { Task } from './task.js';
import { futex_wake } from './futex.js';
import { ref_put } from './refcount.js';

/** mm_release: CLONE_CHILD_CLEARTID's futex wake, and vfork_done's completion (the parent of vfork wakes). */
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
    k.mem.dv.setUint32(__pa(done), 1, true); // complete(vfork_done)
    const parent = k.task(t.v.get('real_parent'));
    wake_up_process(k, parent);
    yield* k.step('mm_release', `complete_vfork_done: vfork_done at 0x${done.toString(16)} completed, parent pid ${parent.pid} woken`);
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
  k.mm.mmgrab(mm);
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

/** do_notify_parent: SIGCHLD (or exit_signal) to the parent, and wake it in wait4. Returns true if the child should be autoreaped. */
function do_notify_parent(k: Kernel, t: Task, parent: Task): boolean {
  const sig = t.v.get('exit_signal');
  if (sig > 0) send_signal(k, parent, sig);
  wake_up_process(k, parent); // __wake_up_parent: wait4 sleepers re-check
  return sig === SIGCHLD && k.sighandAction(parent, SIGCHLD) === 1; // SIGCHLD set to SIG_IGN → autoreap
}

/** exit_notify: reparent the children, tell the parent, become a zombie (or be reaped at once). */
function* exit_notify(k: Kernel, t: Task): KGen<void> {
  yield* k.call('forget_original_parent', forget_original_parent(k, t));
  const parent = k.task(t.v.get('real_parent'));
  const threadGroupEmpty = t.v.get('group_leader') === t.va;
  let autoreap = t.v.get('exit_signal') === -1; // threads (CLONE_THREAD) reap themselves
  if (!autoreap && threadGroupEmpty) autoreap = do_notify_parent(k, t, parent);
  t.v.set('exit_state', autoreap ? EXIT_DEAD : EXIT_ZOMBIE);
  yield* k.step('exit_notify', autoreap ? `pid ${t.pid} is reaped at once (EXIT_DEAD)` : `SIGCHLD → pid ${parent.pid} (${parent.comm}); pid ${t.pid} is now EXIT_ZOMBIE`);
  if (autoreap) release_task(k, t);
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
  if (k.byPa.has(t.taskPa)) t.state = TASK_DEAD;
  yield* k.step('do_exit', 'state = TASK_DEAD; schedule() — never returns');
  for (;;) yield SCHEDULE;
}

/** release_task: detach the pid, unlink from the lists, free the kernel stack and the task_struct. */
export function release_task(k: Kernel, p: Task): void {
  // A task reaped while still current (an autoreaped thread) has not been switched out: drop its lazy active_mm here.
  const lazyMm = p.mm ? 0 : p.v.get('active_mm');
  if (lazyMm) {
    p.v.set('active_mm', 0);
    k.mm.mmdrop(lazyMm);
  }
  k.pidHash.delete(p.pid);
  list_del(k.mem, p.va + k.taskLayout.offsetOf('tasks'));
  list_del(k.mem, p.va + k.taskLayout.offsetOf('sibling'));
  list_del(k.mem, p.va + k.taskLayout.offsetOf('thread_group'));
  const sigVa = p.v.get('signal');
  if (sigVa) {
    const sig = new StructView(k.mem, signal_struct, __pa(sigVa));
    sig.set('nr_threads', sig.get('nr_threads') - 1);
    ref_put(k.mem, signal_struct, sigVa, 'sigcnt', k.caches.signal_struct);
  }
  const shVa = p.v.get('sighand');
  if (shVa) ref_put(k.mem, sighand_struct, shVa, 'count', k.caches.sighand_struct);
  p.v.set('exit_state', EXIT_DEAD);
  const stackPa = p.tiPa;
  k.pages.freePages(stackPa, 1); // put_task_struct → free_thread_info
  k.byPa.delete(p.taskPa);
  const i = k.runqueue.indexOf(p);
  if (i >= 0) k.runqueue.splice(i, 1);
  k.caches.task_struct.free(p.taskPa);
}
