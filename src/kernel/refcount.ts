// Reference counts kept in a field of a kernel object in guest memory
// (files_struct.count, fs_struct.users, sighand_struct.count, signal_struct.sigcnt,
// mm_struct.mm_users): the kernel's atomic_inc and atomic_dec_and_test + free.

import type { PhysMem, StructLayout } from '../machine/struct.js';
import { StructView } from '../machine/struct.js';
import { __pa } from './list.js';
import type { KmemCache } from './mm/slab.js';

/** Takes a reference on the object at `va`; returns the new count. */
export function ref_get(mem: PhysMem, layout: StructLayout, va: number, field: string): number {
  const v = new StructView(mem, layout, __pa(va));
  const n = v.get(field) + 1;
  v.set(field, n);
  return n;
}

/** Drops a reference; the last one frees the object to its cache. Returns the new count. */
export function ref_put(mem: PhysMem, layout: StructLayout, va: number, field: string, cache: KmemCache): number {
  const v = new StructView(mem, layout, __pa(va));
  const n = v.get(field) - 1;
  v.set(field, n);
  if (n === 0) cache.free(__pa(va));
  return n;
}
