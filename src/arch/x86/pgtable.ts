// i386 page tables in the classic two-level, non-PAE format (arch/x86/include/asm/pgtable_32.h,
// pgtable-2level.h): a 4 KiB page directory of 1024 PDEs, each mapping 4 MiB either
// directly (PSE: PDE bit 7) or through a 4 KiB page table of 1024 PTEs.
//
//   PDE/PTE bits: P 0, RW 1, US 2, PWT 3, PCD 4, A 5, D 6, PS 7 (PDE) / PAT 7 (PTE), G 8,
//   frame in bits 31..12 (31..22 for a 4 MiB page).
//
// Kernel lowmem: 4 MiB PSE pages at PAGE_OFFSET (P, RW, A, D, PS, G; US = 0) as
// kernel_physical_mapping_init does with PSE; a RAM tail that is not a whole 4 MiB
// gets 4 KiB kernel PTEs. User pages: PTEs with P, US, A, plus RW and D when writable,
// under PDEs with P, RW, US, A (_PAGE_TABLE).
//
// The i386 without PAE has no NX bit: every present page is executable, so walk()
// reports prot.exec = true for everything it finds, and setPte() ignores prot.exec.
//
// Effective permissions of a 4 KiB page combine both levels, as the MMU does: user
// access needs US in the PDE and in the PTE, write needs RW in both.

import type { AllocTable, PageProt, PageTableOps, PteInfo } from '../types.js';
import { PAGE_OFFSET, PAGE_SIZE } from '../types.js';
import type { PhysMem } from '../../machine/struct.js';

export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_PWT = 0x008;
export const _PAGE_PCD = 0x010;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
export const _PAGE_PSE = 0x080;
export const _PAGE_GLOBAL = 0x100;

/** _PAGE_TABLE: a PDE pointing at a user page table. */
export const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
/** _KERNPG_TABLE: a PDE pointing at a kernel page table. */
export const _KERNPG_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
/** __PAGE_KERNEL_LARGE_EXEC: a 4 MiB kernel page. */
export const PAGE_KERNEL_LARGE_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_PSE | _PAGE_GLOBAL;
/** __PAGE_KERNEL_EXEC: a 4 KiB kernel page. */
export const PAGE_KERNEL_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL;

export const PGDIR_SHIFT = 22;
export const PGDIR_SIZE = 1 << PGDIR_SHIFT; // 4 MiB
export const PTRS_PER_PGD = 1024;
export const PTRS_PER_PTE = 1024;
/** First PDE of the kernel half: 0xC0000000 >> 22 = 768 (KERNEL_PGD_BOUNDARY). */
export const KERNEL_PGD_BOUNDARY = PAGE_OFFSET >>> PGDIR_SHIFT;

const FRAME_4K = 0xfffff000;
const FRAME_4M = 0xffc00000;

function rd(mem: PhysMem, pa: number): number {
  return mem.dv.getUint32(pa, true);
}

function wr(mem: PhysMem, pa: number, v: number): void {
  mem.dv.setUint32(pa, v >>> 0, true);
}

function checkPage(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff || v % PAGE_SIZE) throw new Error(`x86 pgtable: ${what} 0x${v.toString(16)} is not a page-aligned 32-bit address`);
}

/** PTE bits for a user page of the given protection (exec is implied: no NX on i386). */
export function pteBits(prot: PageProt): number {
  let bits = _PAGE_PRESENT | _PAGE_ACCESSED;
  if (prot.user) bits |= _PAGE_USER;
  if (prot.write) bits |= _PAGE_RW | _PAGE_DIRTY;
  return bits;
}

function decode(pa: number, entry: number, entryPa: number, level: 'section' | 'page', pde: number): PteInfo {
  // A 4 KiB page's rights are the intersection of its PDE's and its PTE's.
  const both = level === 'page' ? entry & pde : entry;
  return {
    pa: pa >>> 0,
    prot: { user: (both & _PAGE_USER) !== 0, write: (both & _PAGE_RW) !== 0, exec: true },
    entryPa,
    level,
  };
}

export const x86PageTable: PageTableOps = {
  pgdSize: PAGE_SIZE,
  pgdAlign: PAGE_SIZE,

  initKernel(mem: PhysMem, pgd: number, ramSize: number, allocTable: AllocTable, _vectorsPa: number | null): void {
    checkPage('pgd', pgd);
    const big = Math.floor(ramSize / PGDIR_SIZE) * PGDIR_SIZE;
    for (let pa = 0; pa < big; pa += PGDIR_SIZE) {
      const idx = (PAGE_OFFSET + pa) >>> PGDIR_SHIFT;
      if (idx >= PTRS_PER_PGD) throw new Error(`x86 pgtable: ${ramSize} bytes of RAM do not fit in lowmem above PAGE_OFFSET`);
      wr(mem, pgd + 4 * idx, pa | PAGE_KERNEL_LARGE_EXEC);
    }
    // The tail of RAM that is not a whole 4 MiB: 4 KiB kernel pages in one page table.
    if (big < ramSize) {
      const idx = (PAGE_OFFSET + big) >>> PGDIR_SHIFT;
      if (idx >= PTRS_PER_PGD) throw new Error(`x86 pgtable: ${ramSize} bytes of RAM do not fit in lowmem above PAGE_OFFSET`);
      const pt = allocTable();
      checkPage('page table', pt);
      for (let pa = big; pa < ramSize; pa += PAGE_SIZE) wr(mem, pt + 4 * ((pa >>> 12) & 0x3ff), pa | PAGE_KERNEL_EXEC);
      wr(mem, pgd + 4 * idx, pt | _KERNPG_TABLE);
    }
  },

  cloneKernel(mem: PhysMem, from: number, to: number): void {
    // clone_pgd_range(pgd + KERNEL_PGD_BOUNDARY, swapper_pg_dir + KERNEL_PGD_BOUNDARY, KERNEL_PGD_PTRS)
    const start = 4 * KERNEL_PGD_BOUNDARY;
    mem.u8.copyWithin(to + start, from + start, from + PAGE_SIZE);
  },

  walk(mem: PhysMem, pgd: number, va: number): PteInfo | null {
    va >>>= 0;
    const pdePa = pgd + 4 * (va >>> PGDIR_SHIFT);
    const pde = rd(mem, pdePa);
    if (!(pde & _PAGE_PRESENT)) return null;
    if (pde & _PAGE_PSE) return decode(((pde & FRAME_4M) | (va & (PGDIR_SIZE - 1))) >>> 0, pde, pdePa, 'section', pde);
    const ptePa = (pde & FRAME_4K) + 4 * ((va >>> 12) & 0x3ff);
    if (ptePa + 4 > mem.size) return null;
    const pte = rd(mem, ptePa);
    if (!(pte & _PAGE_PRESENT)) return null;
    return decode(((pte & FRAME_4K) | (va & 0xfff)) >>> 0, pte, ptePa, 'page', pde);
  },

  setPte(mem: PhysMem, pgd: number, va: number, pa: number, prot: PageProt, allocTable: AllocTable): void {
    va >>>= 0;
    checkPage('va', va);
    checkPage('pa', pa);
    const pdePa = pgd + 4 * (va >>> PGDIR_SHIFT);
    let pde = rd(mem, pdePa);
    if (pde & _PAGE_PRESENT && pde & _PAGE_PSE) throw new Error(`x86 pgtable: 0x${va.toString(16)} lies in a 4 MiB page; cannot install a 4 KiB mapping there`);
    if (!(pde & _PAGE_PRESENT)) {
      const pt = allocTable();
      checkPage('page table', pt);
      // pmd_populate: user page tables get _PAGE_TABLE (US set) so the PTE decides.
      pde = pt | (va < PAGE_OFFSET ? _PAGE_TABLE : _KERNPG_TABLE);
      wr(mem, pdePa, pde);
    }
    wr(mem, (pde & FRAME_4K) + 4 * ((va >>> 12) & 0x3ff), pa | pteBits(prot));
  },

  clearPte(mem: PhysMem, pgd: number, va: number): void {
    va >>>= 0;
    const pde = rd(mem, pgd + 4 * (va >>> PGDIR_SHIFT));
    if (!(pde & _PAGE_PRESENT) || pde & _PAGE_PSE) return;
    wr(mem, (pde & FRAME_4K) + 4 * ((va >>> 12) & 0x3ff), 0);
  },

  forEachUserPte(mem: PhysMem, pgd: number, fn: (va: number, pte: PteInfo) => void): void {
    for (let i = 0; i < KERNEL_PGD_BOUNDARY; i++) {
      const pdePa = pgd + 4 * i;
      const pde = rd(mem, pdePa);
      if (!(pde & _PAGE_PRESENT)) continue;
      const base = i << PGDIR_SHIFT;
      if (pde & _PAGE_PSE) {
        // Not created by setPte, but a 4 MiB user page is still 1024 4 KiB mappings.
        for (let off = 0; off < PGDIR_SIZE; off += PAGE_SIZE) fn((base + off) >>> 0, decode(((pde & FRAME_4M) + off) >>> 0, pde, pdePa, 'section', pde));
        continue;
      }
      const pt = pde & FRAME_4K;
      for (let j = 0; j < PTRS_PER_PTE; j++) {
        const pte = rd(mem, pt + 4 * j);
        if (pte & _PAGE_PRESENT) fn((base + (j << 12)) >>> 0, decode((pte & FRAME_4K) >>> 0, pte, pt + 4 * j, 'page', pde));
      }
    }
  },

  freeUserTables(mem: PhysMem, pgd: number, freeTable: (pa: number) => void): void {
    for (let i = 0; i < KERNEL_PGD_BOUNDARY; i++) {
      const pdePa = pgd + 4 * i;
      const pde = rd(mem, pdePa);
      if (!(pde & _PAGE_PRESENT)) continue;
      if (!(pde & _PAGE_PSE)) freeTable((pde & FRAME_4K) >>> 0);
      wr(mem, pdePa, 0);
    }
  },
};
