// kmem_cache: fixed-size kernel objects (task_struct, mm_struct, …) carved out
// of whole pages, like the slab allocator the seeds mention. Freed objects are
// reused last-in first-out, as SLUB does; objects come back zeroed.

import { PAGE_SIZE } from '../../arch/types.js';
import type { PageAllocator } from './page_alloc.js';

export class KmemCache {
  private readonly freeList: number[] = [];
  readonly objSize: number;
  active = 0;

  constructor(readonly name: string, size: number, private readonly pages: PageAllocator, align = 8) {
    this.objSize = Math.ceil(size / align) * align;
    if (this.objSize > PAGE_SIZE) throw new Error(`kmem_cache ${name}: object of ${size} bytes does not fit a page`);
  }

  /** kmem_cache_zalloc: physical address of a zeroed object. */
  alloc(): number {
    if (this.freeList.length === 0) {
      const page = this.pages.allocPages(0);
      const per = Math.floor(PAGE_SIZE / this.objSize);
      for (let i = per - 1; i >= 0; i--) this.freeList.push(page + i * this.objSize);
    }
    const pa = this.freeList.pop()!;
    this.pages.mem.u8.fill(0, pa, pa + this.objSize);
    this.active++;
    return pa;
  }

  /** kmem_cache_free */
  free(pa: number): void {
    this.active--;
    this.pages.mem.u8.fill(0xa5, pa, pa + this.objSize); // poison, like SLUB debug
    this.freeList.push(pa);
  }
}
