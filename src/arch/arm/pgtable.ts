// ARMv7 short-descriptor page tables (ARM ARM B3.5), as Linux's 2-level ARM
// mm builds them, in guest RAM.
//
//   L1 (the pgd): 4096 word entries, 16 KiB, 16 KiB-aligned; entry i maps the
//   MiB at i << 20.
//     bits[1:0] = 00  fault
//               = 01  coarse page table: [31:10] L2 base, [8:5] domain
//               = 1x  section (bit 18 = 0): [31:20] base, AP[2] bit 15,
//                     AP[1:0] bits 11:10, domain [8:5], XN bit 4, C bit 3, B bit 2
//                     supersection (bit 18 = 1): [31:24] base, 16 MiB
//   L2 (coarse): 256 word entries, 1 KiB; entry j maps the 4 KiB page j.
//     bits[1:0] = 00  fault
//               = 01  large page (64 KiB): [31:16] base, XN bit 15
//               = 1x  small page: [31:12] base, nG bit 11, S bit 10, AP[2] bit 9,
//                     TEX [8:6], AP[1:0] bits 5:4, C bit 3, B bit 2, XN bit 0
//
// Access permissions follow Linux's v7 set_pte_ext (proc-v7-2level.S): AP[0] is
// always set, AP[1] = user accessible, AP[2] (APX) = read-only. So
//   kernel RW = APX 0, AP 01   kernel RO = APX 1, AP 01
//   user RW   = APX 0, AP 11   user RO   = APX 1, AP 11 (read-only for the kernel too)
// Execute-never is the XN bit. Domains as Linux 3.x without CPU_USE_DOMAINS:
// kernel 0, user 1 (the DACR makes both "client", so AP is checked).
//
// Simplification: Linux packs two 1 KiB hardware L2 tables (plus its own
// shadow "Linux PTE" tables) into one 4 KiB page. Here every L2 table gets its
// own 4 KiB page from allocTable and uses its first 1 KiB; the rest stays zero.

import type { AllocTable, PageProt, PageTableOps, PteInfo } from '../types.js';
import { PAGE_OFFSET, PAGE_SIZE } from '../types.js';
import type { PhysMem } from '../../machine/struct.js';
import { VECTORS_BASE } from './layout.js';

export const L1_ENTRIES = 4096;
export const L1_SIZE = L1_ENTRIES * 4; // 16 KiB
export const L2_ENTRIES = 256;
export const SECTION_SIZE = 1 << 20;

export const DOMAIN_KERNEL = 0;
export const DOMAIN_USER = 1;

// L1 descriptor bits.
export const PMD_TYPE_MASK = 3;
export const PMD_TYPE_FAULT = 0;
export const PMD_TYPE_TABLE = 1;
export const PMD_TYPE_SECT = 2;
export const PMD_SECT_BUFFERABLE = 1 << 2;
export const PMD_SECT_CACHEABLE = 1 << 3;
export const PMD_SECT_XN = 1 << 4;
export const PMD_SECT_AP_SHIFT = 10; // AP[1:0]
export const PMD_SECT_APX = 1 << 15;
export const PMD_SECT_S = 1 << 16;
export const PMD_SECT_SUPER = 1 << 18;
const pmdDomain = (d: number) => (d & 0xf) << 5;

// L2 small-page descriptor bits (PTE_EXT_* in Linux).
export const PTE_TYPE_MASK = 3;
export const PTE_TYPE_FAULT = 0;
export const PTE_TYPE_LARGE = 1;
export const PTE_TYPE_SMALL = 2;
export const PTE_EXT_XN = 1 << 0;
export const PTE_BUFFERABLE = 1 << 2;
export const PTE_CACHEABLE = 1 << 3;
export const PTE_EXT_AP0 = 1 << 4;
export const PTE_EXT_AP1 = 1 << 5;
export const PTE_EXT_TEX_SHIFT = 6;
export const PTE_EXT_APX = 1 << 9;
export const PTE_EXT_SHARED = 1 << 10;
export const PTE_EXT_NG = 1 << 11;
const LARGE_XN = 1 << 15;

/** AP[2:0] as one 3-bit number (APX << 2 | AP[1:0]) → what it allows. */
function decodeAp(ap: number): { user: boolean; write: boolean } {
  // ARM ARM table B3-8 (AFE = 0): 001 priv RW; 010 priv RW user RO; 011 full;
  // 101 priv RO; 110/111 priv RO user RO; 000/100 no access.
  switch (ap & 7) {
    case 0b001: return { user: false, write: true };
    case 0b011: return { user: true, write: true };
    case 0b010: return { user: true, write: false }; // kernel may write, user may only read
    case 0b101: return { user: false, write: false };
    case 0b110:
    case 0b111: return { user: true, write: false };
    default: return { user: false, write: false }; // no access at all (walk reports it as kernel RO)
  }
}

/** The small-page descriptor for pa with prot (write-back cacheable normal memory). */
export function mkSmallPte(pa: number, prot: PageProt): number {
  let d = (pa & 0xfffff000) | PTE_TYPE_SMALL | PTE_EXT_AP0 | PTE_CACHEABLE | PTE_BUFFERABLE;
  if (prot.user) d |= PTE_EXT_AP1 | PTE_EXT_NG; // user mappings are per-ASID (non-global), as in Linux
  if (!prot.write) d |= PTE_EXT_APX;
  if (!prot.exec) d |= PTE_EXT_XN;
  return d >>> 0;
}

/** A 1 MiB kernel section: kernel-only RW (APX 0, AP 01), executable, global, write-back. */
export function mkKernelSection(pa: number): number {
  return ((pa & 0xfff00000) | (0b01 << PMD_SECT_AP_SHIFT) | pmdDomain(DOMAIN_KERNEL) | PMD_SECT_CACHEABLE | PMD_SECT_BUFFERABLE | PMD_TYPE_SECT) >>> 0;
}

/** An L1 entry pointing at a coarse L2 table. */
export function mkTableEntry(l2pa: number, domain: number): number {
  return ((l2pa & 0xfffffc00) | pmdDomain(domain) | PMD_TYPE_TABLE) >>> 0;
}

const rd = (mem: PhysMem, pa: number) => mem.dv.getUint32(pa, true);
const wr = (mem: PhysMem, pa: number, v: number) => mem.dv.setUint32(pa, v >>> 0, true);

function checkPgd(mem: PhysMem, pgd: number): void {
  if (pgd % L1_SIZE !== 0 || pgd < 0 || pgd + L1_SIZE > mem.size) {
    throw new Error(`arm pgtable: pgd 0x${pgd.toString(16)} is not a 16 KiB-aligned table inside RAM`);
  }
}

/** Decodes one small/large L2 descriptor for va; null if it is a fault entry. */
function decodeL2(desc: number, va: number, entryPa: number): PteInfo | null {
  const type = desc & PTE_TYPE_MASK;
  if (type === PTE_TYPE_FAULT) return null;
  const ap = ((desc & PTE_EXT_APX) ? 4 : 0) | ((desc >>> 4) & 3);
  const { user, write } = decodeAp(ap);
  if (type === PTE_TYPE_LARGE) {
    return { pa: ((desc & 0xffff0000) | (va & 0xffff)) >>> 0, prot: { user, write, exec: !(desc & LARGE_XN) }, entryPa, level: 'page' };
  }
  return { pa: ((desc & 0xfffff000) | (va & 0xfff)) >>> 0, prot: { user, write, exec: !(desc & PTE_EXT_XN) }, entryPa, level: 'page' };
}

/** Decodes a section / supersection L1 descriptor for va. */
function decodeSection(desc: number, va: number, entryPa: number): PteInfo {
  const ap = ((desc & PMD_SECT_APX) ? 4 : 0) | ((desc >>> PMD_SECT_AP_SHIFT) & 3);
  const { user, write } = decodeAp(ap);
  const pa = desc & PMD_SECT_SUPER ? (desc & 0xff000000) | (va & 0x00ffffff) : (desc & 0xfff00000) | (va & 0x000fffff);
  return { pa: pa >>> 0, prot: { user, write, exec: !(desc & PMD_SECT_XN) }, entryPa, level: 'section' };
}

/** The L2 table (4 KiB page, first 1 KiB used) behind L1 entry `idx`, allocating it if absent. */
function l2TableFor(mem: PhysMem, pgd: number, idx: number, domain: number, allocTable: AllocTable): number {
  const l1pa = pgd + idx * 4;
  const desc = rd(mem, l1pa);
  const type = desc & PMD_TYPE_MASK;
  if (type === PMD_TYPE_TABLE) return desc & 0xfffffc00;
  if (type !== PMD_TYPE_FAULT) {
    throw new Error(`arm pgtable: va 0x${(idx << 20 >>> 0).toString(16)} is mapped by a section; cannot install a page there`);
  }
  const l2 = allocTable();
  if (l2 % PAGE_SIZE !== 0) throw new Error(`arm pgtable: allocTable returned unaligned 0x${l2.toString(16)}`);
  wr(mem, l1pa, mkTableEntry(l2, domain));
  return l2;
}

export const armPgtable: PageTableOps = {
  pgdSize: L1_SIZE,
  pgdAlign: L1_SIZE,

  initKernel(mem, pgd, ramSize, allocTable, vectorsPa) {
    checkPgd(mem, pgd);
    const first = PAGE_OFFSET >>> 20;
    const vecIdx = VECTORS_BASE >>> 20;
    const fullSections = Math.floor(ramSize / SECTION_SIZE);
    const tail = ramSize % SECTION_SIZE;
    if (first + fullSections + (tail ? 1 : 0) > vecIdx) {
      throw new Error(`arm pgtable: ${ramSize} bytes of RAM do not fit as lowmem below the vectors page`);
    }
    // Lowmem: va = pa + PAGE_OFFSET, one kernel-only section per MiB.
    for (let i = 0; i < fullSections; i++) wr(mem, pgd + (first + i) * 4, mkKernelSection(i * SECTION_SIZE));
    // A trailing partial MiB: small pages through an L2 table, so nothing past RAM is mapped.
    if (tail) {
      const base = fullSections * SECTION_SIZE;
      const l2 = l2TableFor(mem, pgd, first + fullSections, DOMAIN_KERNEL, allocTable);
      for (let off = 0; off < tail; off += PAGE_SIZE) {
        wr(mem, l2 + (off >>> 12) * 4, mkSmallPte(base + off, { user: false, write: true, exec: true }));
      }
    }
    // The vectors page at 0xffff0000: user read + exec, no writes (Linux's MT_HIGH_VECTORS),
    // through an L2 table in the user domain, shared by every mm (cloneKernel copies the L1 entry).
    if (vectorsPa !== null) {
      const l2 = l2TableFor(mem, pgd, vecIdx, DOMAIN_USER, allocTable);
      wr(mem, l2 + ((VECTORS_BASE >>> 12) & 0xff) * 4, mkSmallPte(vectorsPa, { user: true, write: false, exec: true }));
    }
  },

  cloneKernel(mem, from, to) {
    checkPgd(mem, from);
    checkPgd(mem, to);
    const first = PAGE_OFFSET >>> 20;
    mem.u8.copyWithin(to + first * 4, from + first * 4, from + L1_SIZE);
  },

  walk(mem, pgd, va) {
    va >>>= 0;
    const idx = va >>> 20;
    const l1pa = pgd + idx * 4;
    const desc = rd(mem, l1pa);
    const type = desc & PMD_TYPE_MASK;
    if (type === PMD_TYPE_FAULT) return null;
    if (type === PMD_TYPE_TABLE) {
      const l2pa = (desc & 0xfffffc00) + ((va >>> 12) & 0xff) * 4;
      if (l2pa + 4 > mem.size) return null;
      return decodeL2(rd(mem, l2pa), va, l2pa);
    }
    return decodeSection(desc, va, l1pa);
  },

  setPte(mem, pgd, va, pa, prot, allocTable) {
    va >>>= 0;
    if (va % PAGE_SIZE || pa % PAGE_SIZE) throw new Error(`arm pgtable: setPte 0x${va.toString(16)} → 0x${pa.toString(16)} is not page-aligned`);
    if (va >= PAGE_OFFSET) throw new Error(`arm pgtable: setPte 0x${va.toString(16)} is not a user address`);
    const l2 = l2TableFor(mem, pgd, va >>> 20, DOMAIN_USER, allocTable);
    wr(mem, l2 + ((va >>> 12) & 0xff) * 4, mkSmallPte(pa, prot));
  },

  clearPte(mem, pgd, va) {
    va >>>= 0;
    const desc = rd(mem, pgd + (va >>> 20) * 4);
    if ((desc & PMD_TYPE_MASK) !== PMD_TYPE_TABLE) return;
    wr(mem, (desc & 0xfffffc00) + ((va >>> 12) & 0xff) * 4, 0);
  },

  forEachUserPte(mem, pgd, fn) {
    const last = PAGE_OFFSET >>> 20;
    for (let idx = 0; idx < last; idx++) {
      const l1pa = pgd + idx * 4;
      const desc = rd(mem, l1pa);
      const type = desc & PMD_TYPE_MASK;
      if (type === PMD_TYPE_FAULT) continue;
      if (type === PMD_TYPE_TABLE) {
        const l2 = desc & 0xfffffc00;
        for (let j = 0; j < L2_ENTRIES; j++) {
          const va = ((idx << 20) | (j << 12)) >>> 0;
          const info = decodeL2(rd(mem, l2 + j * 4), va, l2 + j * 4);
          if (info) fn(va, info);
        }
      } else {
        // A user section (never created here): report each 4 KiB page of it.
        for (let j = 0; j < L2_ENTRIES; j++) {
          const va = ((idx << 20) | (j << 12)) >>> 0;
          fn(va, decodeSection(desc, va, l1pa));
        }
      }
    }
  },

  freeUserTables(mem, pgd, freeTable) {
    const last = PAGE_OFFSET >>> 20;
    for (let idx = 0; idx < last; idx++) {
      const l1pa = pgd + idx * 4;
      const desc = rd(mem, l1pa);
      if ((desc & PMD_TYPE_MASK) !== PMD_TYPE_TABLE) continue;
      wr(mem, l1pa, 0);
      freeTable(desc & 0xfffff000); // one table per 4 KiB page (see the header comment)
    }
  },
};
