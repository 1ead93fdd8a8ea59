// The physical page allocator: 4 KiB frames, power-of-two blocks aligned to
// their size (order 1 = an 8 KiB kernel stack, order 2 = an ARM 16 KiB L1 table).
// Each frame has a struct page in mem_map, in guest memory, whose _count is the
// reference count COW relies on. Allocation always takes the lowest free block,
// so runs are deterministic.

import { PAGE_SHIFT, PAGE_SIZE } from '../../arch/types.js';
import { StructView, type PhysMem } from '../../machine/struct.js';
import { page_struct } from '../layout.js';

export class OutOfMemory extends Error {}

export class PageAllocator {
  readonly nrPages: number;
  /** 1 = free. The free map is allocator bookkeeping; reference counts live in guest memory. */
  private readonly free: Uint8Array;
  /** Physical address of mem_map[0]. */
  readonly memMapPa: number;
  allocated = 0;

  /** Frames below `reservedEnd` (kernel image, mem_map itself) are never handed out. */
  constructor(readonly mem: PhysMem, reservedEnd: number) {
    this.nrPages = mem.size >>> PAGE_SHIFT;
    this.free = new Uint8Array(this.nrPages);
    this.memMapPa = alignUp(reservedEnd, PAGE_SIZE);
    const memMapEnd = alignUp(this.memMapPa + this.nrPages * page_struct.size, PAGE_SIZE);
    if (memMapEnd >= mem.size) throw new OutOfMemory('RAM too small for mem_map');
    mem.u8.fill(0, this.memMapPa, memMapEnd);
    for (let pfn = memMapEnd >>> PAGE_SHIFT; pfn < this.nrPages; pfn++) this.free[pfn] = 1;
    for (let pfn = 0; pfn < memMapEnd >>> PAGE_SHIFT; pfn++) this.page(pfn << PAGE_SHIFT).set('_count', 1); // reserved
  }

  /** struct page of the frame holding `pa`. */
  page(pa: number): StructView {
    return new StructView(this.mem, page_struct, this.memMapPa + (pa >>> PAGE_SHIFT) * page_struct.size);
  }

  /** alloc_pages: 2^order zeroed frames, aligned to their size; throws OutOfMemory. */
  allocPages(order = 0): number {
    const n = 1 << order;
    for (let pfn = 0; pfn + n <= this.nrPages; pfn += n) {
      let ok = true;
      for (let i = 0; i < n; i++) if (!this.free[pfn + i]) { ok = false; break; }
      if (!ok) continue;
      for (let i = 0; i < n; i++) {
        this.free[pfn + i] = 0;
        this.page((pfn + i) << PAGE_SHIFT).set('_count', 1);
        this.page((pfn + i) << PAGE_SHIFT).set('_mapcount', -1);
      }
      this.page(pfn << PAGE_SHIFT).set('private', order);
      const pa = pfn << PAGE_SHIFT;
      this.mem.u8.fill(0, pa, pa + n * PAGE_SIZE);
      this.allocated += n;
      return pa;
    }
    throw new OutOfMemory(`out of memory: no free block of ${n} page(s)`);
  }

  /** free_pages: returns a block to the allocator regardless of its count. */
  freePages(pa: number, order = 0): void {
    const pfn = pa >>> PAGE_SHIFT;
    for (let i = 0; i < 1 << order; i++) {
      if (this.free[pfn + i]) throw new Error(`double free of page 0x${((pfn + i) << PAGE_SHIFT).toString(16)}`);
      this.free[pfn + i] = 1;
      this.page((pfn + i) << PAGE_SHIFT).set('_count', 0);
    }
    this.allocated -= 1 << order;
  }

  pageCount(pa: number): number {
    return this.page(pa).get('_count');
  }

  /** get_page */
  getPage(pa: number): void {
    const p = this.page(pa);
    p.set('_count', p.get('_count') + 1);
  }

  /** put_page: drops a reference and frees the frame at zero. */
  putPage(pa: number): void {
    const p = this.page(pa);
    const c = p.get('_count') - 1;
    if (c < 0) throw new Error(`page 0x${pa.toString(16)} count underflow`);
    p.set('_count', c);
    if (c === 0) {
      p.set('_count', 1); // freePages expects an allocated frame
      this.freePages(pa & ~(PAGE_SIZE - 1), 0);
    }
  }

  get freeCount(): number {
    let n = 0;
    for (let i = 0; i < this.nrPages; i++) n += this.free[i]!;
    return n;
  }
}

export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
