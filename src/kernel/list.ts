// include/linux/list.h over guest memory. Every pointer is a kernel virtual
// address (lowmem: pa + PAGE_OFFSET), exactly as the kernel stores it.

import { PAGE_OFFSET } from '../arch/types.js';
import type { PhysMem } from '../machine/struct.js';

export const __pa = (va: number): number => (va - PAGE_OFFSET) >>> 0;
export const __va = (pa: number): number => (pa + PAGE_OFFSET) >>> 0;

const rd = (m: PhysMem, va: number) => m.dv.getUint32(__pa(va), true);
const wr = (m: PhysMem, va: number, v: number) => m.dv.setUint32(__pa(va), v >>> 0, true);

export function INIT_LIST_HEAD(m: PhysMem, head: number): void {
  wr(m, head, head);
  wr(m, head + 4, head);
}

function __list_add(m: PhysMem, n: number, prev: number, next: number): void {
  wr(m, next + 4, n); // next->prev = new
  wr(m, n, next); // new->next = next
  wr(m, n + 4, prev); // new->prev = prev
  wr(m, prev, n); // prev->next = new
}

export function list_add(m: PhysMem, n: number, head: number): void {
  __list_add(m, n, head, rd(m, head));
}

export function list_add_tail(m: PhysMem, n: number, head: number): void {
  __list_add(m, n, rd(m, head + 4), head);
}

/** list_del_init: unlinks the entry and points it at itself. */
export function list_del(m: PhysMem, entry: number): void {
  const next = rd(m, entry);
  const prev = rd(m, entry + 4);
  wr(m, next + 4, prev);
  wr(m, prev, next);
  INIT_LIST_HEAD(m, entry);
}

export function list_empty(m: PhysMem, head: number): boolean {
  return rd(m, head) === head;
}

/** list_for_each_entry: yields the container address of each entry (member at `offset`). Safe against deleting the current entry. */
export function* list_entries(m: PhysMem, head: number, offset: number): Generator<number> {
  let pos = rd(m, head);
  let guard = 0;
  while (pos !== head) {
    const next = rd(m, pos);
    yield (pos - offset) >>> 0;
    pos = next;
    if (++guard > 1 << 20) throw new Error('list_entries: corrupted list (no end)');
  }
}
