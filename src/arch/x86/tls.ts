// arch/x86/kernel/tls.c on guest memory: the three per-thread TLS descriptors in
// thread.tls_array, set and read through a `struct user_desc __user *`, and
// load_TLS into the GDT when the thread is the one running.
//
// Semantics as Linux >= 4.15 has them: tls_desc_okay refuses 16-bit, code and
// not-present segments; LDT_empty and LDT_zero both mean "no segment" (the slot
// is cleared); fill_ldt sets the Accessed bit so the CPU never writes the GDT.

import type { PhysMem } from '../../machine/struct.js';
import type { TaskRef, ThreadAreaOps, UserAccess } from '../types.js';
import {
  GDT_ENTRY_TLS_ENTRIES,
  GDT_ENTRY_TLS_MAX,
  GDT_ENTRY_TLS_MIN,
  LDT_empty,
  LDT_zero,
  decodeUserDesc,
  descBase,
  fillLdt,
  threadStructLayout,
  userDescLayout,
  writeTlsDesc,
  type UserDesc,
} from './layout.js';
import { cpuStateFor, loadTls } from './ops.js';

const EFAULT = 14, EINVAL = 22, ESRCH = 3;

/** sizeof(struct user_desc) */
export const USER_DESC_SIZE = userDescLayout.size;

function tlsSlot(threadPa: number, idx: number): number {
  return threadPa + threadStructLayout.offsetOf('tls_array') + 8 * (idx - GDT_ENTRY_TLS_MIN);
}

/** struct user_desc bytes → its fields (entry_number signed: -1 asks for a free slot). */
export function parseUserDesc(b: Uint8Array): UserDesc {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at = (f: string) => dv.getUint32(userDescLayout.offsetOf(f), true);
  return decodeUserDesc(at('entry_number'), at('base_addr'), at('limit'), at('flags'));
}

/** tls_desc_okay: what may go into a TLS slot. */
export function tls_desc_okay(info: UserDesc): boolean {
  if (LDT_empty(info) || LDT_zero(info)) return true;
  if (!info.seg_32bit) return false; // 16-bit segments need espfix, which only works for the LDT
  if (info.contents > 1) return false; // data segments only (contents 2/3 = code)
  if (info.seg_not_present) return false; // non-present DPL 3 segments: refused, delete the entry instead
  return true;
}

/** fill_user_desc: a TLS slot (two descriptor words) → struct user_desc bytes for get_thread_area. */
export function fill_user_desc(idx: number, lo: number, hi: number): Uint8Array {
  const type = (hi >>> 8) & 0xf;
  const flags =
    ((hi >>> 22) & 1) | // seg_32bit = desc->d
    ((type >>> 2) << 1) | // contents = desc->type >> 2
    ((type & 2 ? 0 : 1) << 3) | // read_exec_only = !(desc->type & 2)
    (((hi >>> 23) & 1) << 4) | // limit_in_pages = desc->g
    (((hi >>> 15) & 1 ? 0 : 1) << 5) | // seg_not_present = !desc->p
    (((hi >>> 20) & 1) << 6); // useable = desc->avl
  const out = new Uint8Array(USER_DESC_SIZE);
  const dv = new DataView(out.buffer);
  dv.setInt32(userDescLayout.offsetOf('entry_number'), idx, true);
  dv.setUint32(userDescLayout.offsetOf('base_addr'), descBase(lo, hi), true);
  dv.setUint32(userDescLayout.offsetOf('limit'), ((lo & 0xffff) | (hi & 0xf0000)) >>> 0, true);
  dv.setUint32(userDescLayout.offsetOf('flags'), flags, true);
  return out;
}

/** get_free_idx: the first empty TLS slot of the thread, or -ESRCH. */
function get_free_idx(mem: PhysMem, p: TaskRef): number {
  for (let idx = GDT_ENTRY_TLS_MIN; idx <= GDT_ENTRY_TLS_MAX; idx++) {
    const at = tlsSlot(p.threadPa, idx);
    if ((mem.dv.getUint32(at, true) | mem.dv.getUint32(at + 4, true)) === 0) return idx;
  }
  return -ESRCH;
}

/** load_TLS for `p` if it is the task on the CPU: its tls_array into GDT entries 6..8 now. */
export function reloadTlsIfCurrent(mem: PhysMem, p: TaskRef): void {
  const st = cpuStateFor(mem);
  if (st && st.current && st.current.taskPa === p.taskPa) loadTls(st, p.threadPa);
}

/**
 * set_tls_desc: fills slot `idx` of p's tls_array (an empty or zero user_desc clears
 * it) and, when p is running, reloads the GDT at once (x86_32 reloads the segment
 * registers themselves on the way back to user mode: restore_all pops them).
 */
export function set_tls_desc(mem: PhysMem, p: TaskRef, idx: number, info: UserDesc): void {
  writeTlsDesc(mem, p.threadPa, idx, LDT_empty(info) || LDT_zero(info) ? [0, 0] : fillLdt(info));
  reloadTlsIfCurrent(mem, p);
}

/**
 * do_set_thread_area(p, -1, u_info, can_allocate): entry_number -1 asks for the
 * first free slot, which is written back to u_info->entry_number (only when
 * can_allocate: CLONE_SETTLS passes 0, so -1 is EINVAL there).
 */
export function do_set_thread_area(mem: PhysMem, p: TaskRef, uInfo: number, canAllocate: boolean, user: UserAccess): number {
  const raw = user.read(uInfo, USER_DESC_SIZE);
  if (!raw) return -EFAULT;
  const info = parseUserDesc(raw);
  if (!tls_desc_okay(info)) return -EINVAL;
  let idx = info.entry_number;
  if (idx === -1 && canAllocate) {
    idx = get_free_idx(mem, p);
    if (idx < 0) return idx;
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, idx, true);
    if (!user.write(uInfo + userDescLayout.offsetOf('entry_number'), b)) return -EFAULT;
  }
  if (idx < GDT_ENTRY_TLS_MIN || idx > GDT_ENTRY_TLS_MAX) return -EINVAL;
  set_tls_desc(mem, p, idx, info);
  return 0;
}

/** do_get_thread_area(p, -1, u_info): the slot named by u_info->entry_number, as a user_desc. */
export function do_get_thread_area(mem: PhysMem, p: TaskRef, uInfo: number, user: UserAccess): number {
  const e = user.read(uInfo + userDescLayout.offsetOf('entry_number'), 4);
  if (!e) return -EFAULT;
  const idx = new DataView(e.buffer).getInt32(0, true);
  if (idx < GDT_ENTRY_TLS_MIN || idx > GDT_ENTRY_TLS_MAX) return -EINVAL;
  const at = tlsSlot(p.threadPa, idx);
  const out = fill_user_desc(idx, mem.dv.getUint32(at, true), mem.dv.getUint32(at + 4, true));
  return user.write(uInfo, out) ? 0 : -EFAULT;
}

/** flush_thread's TLS part (execve): memset(tsk->thread.tls_array, 0, …), then load_TLS if running. */
export function flush_thread_tls(mem: PhysMem, p: TaskRef): void {
  const at = tlsSlot(p.threadPa, GDT_ENTRY_TLS_MIN);
  mem.u8.fill(0, at, at + 8 * GDT_ENTRY_TLS_ENTRIES);
  reloadTlsIfCurrent(mem, p);
}

export const x86ThreadArea: ThreadAreaOps = {
  set: do_set_thread_area,
  get: (mem, p, uInfo, user) => do_get_thread_area(mem, p, uInfo, user),
};
