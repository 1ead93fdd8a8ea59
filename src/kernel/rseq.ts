// kernel/rseq.c: restartable sequences, registration only. A thread registers a
// 32-byte `struct rseq` in its memory; the kernel keeps cpu_id_start and cpu_id
// current in it. One CPU here and no migration, so the cpu is always 0, and with
// no preemption or signal delivery inside a critical section there is never an
// abort to perform: rseq_cs is not read (rseq_ip_fixup has nothing to do).

import type { Kernel } from './kernel.js';
import type { KGen } from './kfunc.js';
import { do_exit } from './exit.js';
import { CLONE_VM } from './fork.js';
import { SIGSEGV } from './signal.js';
import type { Task } from './task.js';

/** sizeof(struct rseq) and its alignment (__attribute__((aligned(4 * sizeof(__u64))))). */
export const RSEQ_SIZE = 32;
export const RSEQ_FLAG_UNREGISTER = 1;
/** cpu_id before registration and after unregistration. */
export const RSEQ_CPU_ID_UNINITIALIZED = -1;
/** struct rseq: u32 cpu_id_start, u32 cpu_id, u64 rseq_cs, u32 flags (+ padding to 32). */
const CPU_ID_START = 0, CPU_ID = 4;

const EINVAL = -22, EPERM = -1, EBUSY = -16, EFAULT = -14;
const TASK_SIZE = 0xc0000000;

function put_u32(k: Kernel, t: Task, va: number, v: number): boolean {
  return k.mm.putUser32(t.mm, va >>> 0, v >>> 0);
}

/** rseq_update_cpu_id: cpu_id_start = cpu_id = the task's cpu (0). */
function rseq_update_cpu_id(k: Kernel, t: Task): boolean {
  const u = t.v.get('rseq');
  return put_u32(k, t, u + CPU_ID_START, 0) && put_u32(k, t, u + CPU_ID, 0);
}

/** rseq_reset_rseq_cpu_id: cpu_id_start = 0, cpu_id = RSEQ_CPU_ID_UNINITIALIZED. */
function rseq_reset_rseq_cpu_id(k: Kernel, t: Task): boolean {
  const u = t.v.get('rseq');
  return put_u32(k, t, u + CPU_ID_START, 0) && put_u32(k, t, u + CPU_ID, RSEQ_CPU_ID_UNINITIALIZED);
}

/** sys_rseq(rseq, rseq_len, flags, sig). */
export function* sys_rseq(k: Kernel, t: Task, rseq: number, rseqLen: number, flags: number, sig: number): KGen<number> {
  rseq >>>= 0;
  sig >>>= 0;
  const cur = t.v.get('rseq');
  if (flags & RSEQ_FLAG_UNREGISTER) {
    if (flags & ~RSEQ_FLAG_UNREGISTER) return EINVAL;
    if (cur !== rseq || !cur) return EINVAL;
    if (rseqLen !== RSEQ_SIZE) return EINVAL;
    if (t.v.get('rseq_sig') !== sig) return EPERM;
    if (!rseq_reset_rseq_cpu_id(k, t)) return EFAULT;
    t.v.set('rseq', 0);
    t.v.set('rseq_sig', 0);
    yield* k.step('sys_rseq', `pid ${t.pid}: rseq 0x${rseq.toString(16)} unregistered, cpu_id = -1`);
    return 0;
  }
  if (flags) return EINVAL;
  if (cur) {
    // Already registered: the same area again is EBUSY, anything else EINVAL (EPERM for another signature).
    if (cur !== rseq || rseqLen !== RSEQ_SIZE) return EINVAL;
    if (t.v.get('rseq_sig') !== sig) return EPERM;
    return EBUSY;
  }
  if (rseq % RSEQ_SIZE || rseqLen !== RSEQ_SIZE) return EINVAL;
  if (rseq + rseqLen > TASK_SIZE) return EFAULT; // access_ok
  t.v.set('rseq', rseq);
  t.v.set('rseq_sig', sig);
  yield* k.step('sys_rseq', `pid ${t.pid}: rseq registered at 0x${rseq.toString(16)}, sig 0x${sig.toString(16)}`);
  // rseq_set_notify_resume → rseq_handle_notify_resume on the way back to user mode
  // (done here, the last thing before that return): the cpu fields are written, and
  // a fault there is fatal (force_sigsegv), not an error return.
  if (!rseq_update_cpu_id(k, t)) {
    k.event('signal_generate', { sig: SIGSEGV, errno: 0, code: 0x80, comm: t.comm, pid: t.pid, grp: 1, res: 0 });
    k.faults.push({ pid: t.pid, sig: SIGSEGV, why: `rseq: cpu_id update at 0x${rseq.toString(16)} faulted`, addr: rseq });
    return yield* k.call('do_exit', do_exit(k, t, SIGSEGV));
  }
  yield* k.step('rseq_handle_notify_resume', `cpu_id_start = cpu_id = 0 in the user's struct rseq`);
  return 0;
}

/** rseq_fork: a CLONE_VM child starts unregistered (its stack differs); a fork child keeps the parent's registration (dup_task_struct copied it). */
export function rseq_fork(p: Task, cloneFlags: number): void {
  if (cloneFlags & CLONE_VM) {
    p.v.set('rseq', 0);
    p.v.set('rseq_sig', 0);
  }
}

/** rseq_execve: the new image starts unregistered. */
export function rseq_execve(t: Task): void {
  t.v.set('rseq', 0);
  t.v.set('rseq_sig', 0);
}
