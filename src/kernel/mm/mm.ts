// Address spaces: mm_struct and its VMAs in guest memory, the page-fault path
// (demand-zero pages and copy-on-write), fork's dup_mmap and exit's exit_mmap.
// Page tables are the architecture's real format (KernelArch.pgtable).

import { PAGE_OFFSET, PAGE_SIZE, type PageProt, type PageTableOps } from '../../arch/types.js';
import { StructView, type PhysMem } from '../../machine/struct.js';
import { mm_struct, vm_area_struct } from '../layout.js';
import { __pa, __va } from '../list.js';
import type { PageAllocator } from './page_alloc.js';
import type { KmemCache } from './slab.js';


const hex = (v: number): string => (v >>> 0).toString(16);
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_GROWSDOWN = 0x100;

export type Access = 'read' | 'write' | 'fetch';

/** Counters the tests and the demo read (COW copies are the interesting one). */
export interface MmStats {
  cowCopies: number;
  cowReuses: number;
  demandZero: number;
}

export class MemoryManager {
  readonly stats: MmStats = { cowCopies: 0, cowReuses: 0, demandZero: 0 };
  /** Narrates what a fault did (the kernel points it at its trace stream): (kernel function, text). */
  note: (fn: string, text: string) => void = () => {};

  constructor(
    readonly mem: PhysMem,
    readonly pages: PageAllocator,
    readonly pgtable: PageTableOps,
    private readonly mmCache: KmemCache,
    private readonly vmaCache: KmemCache,
    /** pgd (physical) of init_mm: its kernel half is copied into every new pgd. */
    private readonly swapperPgd: number,
  ) {}

  readonly allocTable = (): number => this.pages.allocPages(0);

  mm(mmVa: number): StructView {
    return new StructView(this.mem, mm_struct, __pa(mmVa));
  }
  vma(vmaVa: number): StructView {
    return new StructView(this.mem, vm_area_struct, __pa(vmaVa));
  }

  /** Physical address of an mm's top-level page table. */
  pgdPa(mmVa: number): number {
    return __pa(this.mm(mmVa).get('pgd'));
  }

  /** mm_alloc + pgd_alloc: a new address space with only the kernel half mapped. */
  mmAlloc(): number {
    const mmPa = this.mmCache.alloc();
    const mm = new StructView(this.mem, mm_struct, mmPa);
    const order = Math.log2(this.pgtable.pgdSize / PAGE_SIZE);
    const pgd = this.pages.allocPages(order);
    this.pgtable.cloneKernel(this.mem, this.swapperPgd, pgd);
    mm.set('pgd', __va(pgd));
    mm.set('mm_users', 1);
    mm.set('mm_count', 1);
    mm.set('mmap_base', 0x40000000);
    return __va(mmPa);
  }

  /** Every VMA of an mm, in address order. */
  vmas(mmVa: number): StructView[] {
    const out: StructView[] = [];
    for (let v = this.mm(mmVa).get('mmap'); v; v = this.vma(v).get('vm_next')) out.push(this.vma(v));
    return out;
  }

  findVma(mmVa: number, addr: number): StructView | null {
    for (const v of this.vmas(mmVa)) if (addr >= v.get('vm_start') && addr < v.get('vm_end')) return v;
    return null;
  }

  /** Inserts [start, end) with vm_flags, keeping the list sorted; throws on overlap. */
  insertVma(mmVa: number, start: number, end: number, flags: number): StructView {
    const mm = this.mm(mmVa);
    for (const v of this.vmas(mmVa)) {
      if (start < v.get('vm_end') && end > v.get('vm_start')) throw new Error(`VMA 0x${start.toString(16)}-0x${end.toString(16)} overlaps`);
    }
    const vPa = this.vmaCache.alloc();
    const vma = new StructView(this.mem, vm_area_struct, vPa);
    vma.set('vm_start', start);
    vma.set('vm_end', end);
    vma.set('vm_flags', flags);
    vma.set('vm_mm', mmVa);
    let prev = 0;
    let next = mm.get('mmap');
    while (next && this.vma(next).get('vm_start') < start) {
      prev = next;
      next = this.vma(next).get('vm_next');
    }
    vma.set('vm_next', next);
    vma.set('vm_prev', prev);
    if (prev) this.vma(prev).set('vm_next', __va(vPa));
    else mm.set('mmap', __va(vPa));
    if (next) this.vma(next).set('vm_prev', __va(vPa));
    mm.set('map_count', mm.get('map_count') + 1);
    mm.set('total_vm', mm.get('total_vm') + (end - start) / PAGE_SIZE);
    return vma;
  }

  private protOf(flags: number, allowWrite: boolean): PageProt {
    return { user: true, write: allowWrite && (flags & VM_WRITE) !== 0, exec: (flags & VM_EXEC) !== 0 };
  }

  /** Maps a fresh zeroed page at va inside its VMA and returns its physical address. */
  private mapNewPage(mmVa: number, va: number, vmaFlags: number): number {
    const pa = this.pages.allocPages(0);
    this.pgtable.setPte(this.mem, this.pgdPa(mmVa), ((va & ~(PAGE_SIZE - 1)) >>> 0), pa, this.protOf(vmaFlags, true), this.allocTable);
    return pa;
  }

  /** Copies bytes into user memory at load time (exec), populating pages as needed. */
  populate(mmVa: number, va: number, bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const addr = va + off;
      const vma = this.findVma(mmVa, addr);
      if (!vma) throw new Error(`populate: 0x${addr.toString(16)} is outside every VMA`);
      const pte = this.pgtable.walk(this.mem, this.pgdPa(mmVa), addr);
      const pagePa = pte ? ((pte.pa & ~(PAGE_SIZE - 1)) >>> 0) : this.mapNewPage(mmVa, addr, vma.get('vm_flags'));
      const inPage = addr & (PAGE_SIZE - 1);
      const n = Math.min(PAGE_SIZE - inPage, bytes.length - off);
      this.mem.u8.set(bytes.subarray(off, off + n), pagePa + inPage);
      off += n;
    }
  }

  /**
   * handle_mm_fault for a user address: demand-zero for a missing page inside a
   * VMA, do_wp_page (copy-on-write) for a write to a read-only page of a
   * writable VMA. Returns false when the access is not allowed (→ SIGSEGV).
   */
  handleMmFault(mmVa: number, va: number, access: Access): boolean {
    if (va >= PAGE_OFFSET) return false;
    const vma = this.findVma(mmVa, va);
    if (!vma) return false;
    const flags = vma.get('vm_flags');
    if (access === 'write' && !(flags & VM_WRITE)) return false;
    if (access === 'fetch' && !(flags & VM_EXEC)) return false;
    if (access === 'read' && !(flags & (VM_READ | VM_EXEC))) return false;
    const pgd = this.pgdPa(mmVa);
    const pte = this.pgtable.walk(this.mem, pgd, va);
    if (!pte) {
      this.mapNewPage(mmVa, va, flags); // do_anonymous_page
      this.stats.demandZero++;
      this.note('do_anonymous_page', `${access} fault at 0x${hex(va)}: a zeroed page mapped there`);
      return true;
    }
    if (access === 'write' && !pte.prot.write) return this.doWpPage(pgd, va, ((pte.pa & ~(PAGE_SIZE - 1)) >>> 0), flags);
    return true; // already fine (a stale TLB entry)
  }

  /** do_wp_page: the last user of a COW page takes it over; otherwise copy it. */
  private doWpPage(pgd: number, va: number, oldPa: number, flags: number): boolean {
    const page = ((va & ~(PAGE_SIZE - 1)) >>> 0);
    if (this.pages.pageCount(oldPa) === 1) {
      this.pgtable.setPte(this.mem, pgd, page, oldPa, this.protOf(flags, true), this.allocTable);
      this.stats.cowReuses++;
      this.note('do_wp_page', `write fault at 0x${hex(va)}: copy-on-write page, but this mm is its last user — frame 0x${hex(oldPa)} reused, made writable`);
      return true;
    }
    const newPa = this.pages.allocPages(0);
    this.mem.u8.copyWithin(newPa, oldPa, oldPa + PAGE_SIZE);
    this.pgtable.setPte(this.mem, pgd, page, newPa, this.protOf(flags, true), this.allocTable);
    this.pages.putPage(oldPa);
    this.stats.cowCopies++;
    this.note('do_wp_page', `write fault at 0x${hex(va)}: copy-on-write page shared — copied from frame 0x${hex(oldPa)} to a new frame 0x${hex(newPa)}, mapped writable`);
    return true;
  }

  /**
   * dup_mmap: the child gets copies of the VMAs and of the page tables, not of
   * the pages: every private writable page becomes read-only in both and its
   * page count goes up (copy_one_pte).
   */
  dupMmap(oldMm: number): number {
    const newMm = this.mmAlloc();
    const o = this.mm(oldMm);
    const n = this.mm(newMm);
    for (const f of ['start_code', 'end_code', 'start_data', 'end_data', 'start_brk', 'brk', 'start_stack', 'mmap_base']) n.set(f, o.get(f));
    for (const v of this.vmas(oldMm)) this.insertVma(newMm, v.get('vm_start'), v.get('vm_end'), v.get('vm_flags'));
    const oldPgd = this.pgdPa(oldMm);
    const newPgd = this.pgdPa(newMm);
    this.pgtable.forEachUserPte(this.mem, oldPgd, (va, pte) => {
      const pa = ((pte.pa & ~(PAGE_SIZE - 1)) >>> 0);
      const vma = this.findVma(oldMm, va);
      const shared = vma ? (vma.get('vm_flags') & VM_SHARED) !== 0 : false;
      let prot = pte.prot;
      if (!shared && prot.write) {
        prot = { ...prot, write: false };
        this.pgtable.setPte(this.mem, oldPgd, va, pa, prot, this.allocTable); // ptep_set_wrprotect
      }
      this.pgtable.setPte(this.mem, newPgd, va, pa, prot, this.allocTable);
      this.pages.getPage(pa);
    });
    return newMm;
  }

  /**
   * mmput: drops a user; at zero, exit_mmap frees the user pages, tables and
   * VMAs, and the users' shared mm_count reference goes (mmdrop).
   */
  mmput(mmVa: number): void {
    const mm = this.mm(mmVa);
    const users = mm.get('mm_users') - 1;
    mm.set('mm_users', users);
    if (users > 0) return;
    const pgd = this.pgdPa(mmVa);
    this.pgtable.forEachUserPte(this.mem, pgd, (_va, pte) => this.pages.putPage(((pte.pa & ~(PAGE_SIZE - 1)) >>> 0)));
    this.pgtable.freeUserTables(this.mem, pgd, (pa) => this.pages.freePages(pa, 0));
    for (const v of this.vmas(mmVa)) this.vmaCache.free(v.pa);
    mm.set('mmap', 0);
    this.mmdrop(mmVa);
  }

  /**
   * mmgrab (atomic_inc(&mm->mm_count)): keeps the mm_struct and its pgd, not
   * the address space: held by a task lazily running on a borrowed mm (a kernel
   * thread's active_mm) and by an exiting task until it switches away.
   */
  mmgrab(mmVa: number): void {
    const mm = this.mm(mmVa);
    mm.set('mm_count', mm.get('mm_count') + 1);
  }

  /** mmdrop: the last mm_count reference frees the pgd and the mm_struct (__mmdrop). */
  mmdrop(mmVa: number): void {
    const mm = this.mm(mmVa);
    const count = mm.get('mm_count') - 1;
    if (count < 0) throw new Error(`mm 0x${mmVa.toString(16)}: mm_count underflow`);
    mm.set('mm_count', count);
    if (count > 0) return;
    this.pages.freePages(this.pgdPa(mmVa), Math.log2(this.pgtable.pgdSize / PAGE_SIZE));
    this.mmCache.free(__pa(mmVa));
  }

  /**
   * Translates a user address for the kernel (copy_from_user's view): faults
   * pages in as a user access would, and returns null for EFAULT.
   */
  userPa(mmVa: number, va: number, access: 'read' | 'write'): number | null {
    if (!mmVa || va >= PAGE_OFFSET) return null;
    const pgd = this.pgdPa(mmVa);
    let pte = this.pgtable.walk(this.mem, pgd, va);
    if (!pte || !pte.prot.user || (access === 'write' && !pte.prot.write)) {
      if (!this.handleMmFault(mmVa, va, access)) return null;
      pte = this.pgtable.walk(this.mem, pgd, va);
      if (!pte) return null;
    }
    return pte.pa;
  }

  copyFromUser(mmVa: number, va: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let off = 0; off < len; ) {
      const pa = this.userPa(mmVa, va + off, 'read');
      if (pa === null) return null;
      const n = Math.min(len - off, PAGE_SIZE - ((va + off) & (PAGE_SIZE - 1)));
      out.set(this.mem.u8.subarray(pa, pa + n), off);
      off += n;
    }
    return out;
  }

  copyToUser(mmVa: number, va: number, bytes: Uint8Array): boolean {
    for (let off = 0; off < bytes.length; ) {
      const pa = this.userPa(mmVa, va + off, 'write');
      if (pa === null) return false;
      const n = Math.min(bytes.length - off, PAGE_SIZE - ((va + off) & (PAGE_SIZE - 1)));
      this.mem.u8.set(bytes.subarray(off, off + n), pa);
      off += n;
    }
    return true;
  }

  putUser32(mmVa: number, va: number, value: number): boolean {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return this.copyToUser(mmVa, va, b);
  }

  getUser32(mmVa: number, va: number): number | null {
    const b = this.copyFromUser(mmVa, va, 4);
    return b ? new DataView(b.buffer).getUint32(0, true) : null;
  }

  /** strncpy_from_user: a NUL-terminated string of at most `max` bytes; null on EFAULT or no NUL. */
  strncpyFromUser(mmVa: number, va: number, max = 4096): string | null {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const pa = this.userPa(mmVa, va + i, 'read');
      if (pa === null) return null;
      const c = this.mem.u8[pa]!;
      if (c === 0) return new TextDecoder().decode(new Uint8Array(bytes));
      bytes.push(c);
    }
    return null;
  }
}
