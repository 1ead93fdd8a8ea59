// i386 two-level page tables on a plain ArrayBuffer: what setPte writes, walk reads back.
import { describe, expect, it } from 'vitest';
import { x86PageTable as pt, _PAGE_PRESENT, _PAGE_PSE, _PAGE_USER, _PAGE_RW } from '../../../src/arch/x86/pgtable.js';
import type { PhysMem } from '../../../src/machine/struct.js';

function ram(size: number): PhysMem {
  const buf = new ArrayBuffer(size);
  return { u8: new Uint8Array(buf), dv: new DataView(buf), size };
}

function allocator(start: number) {
  let next = start;
  const freed: number[] = [];
  return { alloc: () => { const p = next; next += 4096; return p; }, freed, get next() { return next; } };
}

const RAM = 16 << 20;

describe('x86 pgtable', () => {
  it('maps lowmem with 4 MiB PSE kernel pages (no US, RW, exec)', () => {
    const mem = ram(RAM);
    const a = allocator(0x100000);
    const pgd = 0x1000;
    pt.initKernel(mem, pgd, RAM, a.alloc, null);
    expect(a.next).toBe(0x100000); // 16 MiB = four whole 4 MiB pages: no page table needed
    const pde = mem.dv.getUint32(pgd + 4 * 768, true);
    expect(pde & (_PAGE_PRESENT | _PAGE_PSE | _PAGE_RW)).toBe(_PAGE_PRESENT | _PAGE_PSE | _PAGE_RW);
    expect(pde & _PAGE_USER).toBe(0);
    for (const va of [0xc0000000, 0xc0123456, 0xc0ffffff]) {
      const w = pt.walk(mem, pgd, va)!;
      expect(w.pa).toBe(va - 0xc0000000);
      expect(w.level).toBe('section');
      expect(w.prot).toEqual({ user: false, write: true, exec: true });
      expect(w.entryPa).toBe(pgd + 4 * (va >>> 22));
    }
    expect(pt.walk(mem, pgd, 0xc1000000)).toBeNull(); // past RAM
    expect(pt.walk(mem, pgd, 0x08048000)).toBeNull(); // no user mappings
  });

  it('maps a RAM tail that is not a whole 4 MiB with 4 KiB kernel pages', () => {
    const size = (4 << 20) + 3 * 4096;
    const mem = ram(size + 0x200000);
    const a = allocator(0x500000);
    pt.initKernel(mem, 0, size, a.alloc, null);
    expect(pt.walk(mem, 0, 0xc0400000 + 2 * 4096 + 5)).toMatchObject({ pa: 0x402005, level: 'page', prot: { user: false, write: true, exec: true } });
    expect(pt.walk(mem, 0, 0xc0400000 + 3 * 4096)).toBeNull();
  });

  it('round-trips user PTEs of every protection; exec always reads back true (no NX)', () => {
    const mem = ram(RAM);
    const a = allocator(0x200000);
    const pgd = 0x1000;
    pt.initKernel(mem, pgd, RAM, a.alloc, null);
    const cases = [
      { va: 0x08048000, pa: 0x300000, prot: { user: true, write: false, exec: true } },
      { va: 0x08049000, pa: 0x301000, prot: { user: true, write: true, exec: false } },
      { va: 0xbffff000, pa: 0x302000, prot: { user: true, write: true, exec: true } },
      { va: 0x00001000, pa: 0x303000, prot: { user: false, write: false, exec: false } },
    ];
    for (const c of cases) pt.setPte(mem, pgd, c.va, c.pa, c.prot, a.alloc);
    expect(a.next).toBe(0x200000 + 3 * 4096); // tables for 0x08000000, 0xbfc00000, 0x00000000
    for (const c of cases) {
      const w = pt.walk(mem, pgd, c.va + 0x123)!;
      expect(w.pa).toBe(c.pa + 0x123);
      expect(w.level).toBe('page');
      expect(w.prot).toEqual({ ...c.prot, exec: true });
      // entryPa is the PTE itself
      expect(mem.dv.getUint32(w.entryPa, true) & ~0xfff).toBe(c.pa);
    }
    const seen: number[] = [];
    pt.forEachUserPte(mem, pgd, (va, p) => { seen.push(va); expect(p.level).toBe('page'); });
    expect(seen).toEqual([0x00001000, 0x08048000, 0x08049000, 0xbffff000]);
    // overwrite: COW makes a page read-only
    pt.setPte(mem, pgd, 0x08049000, 0x301000, { user: true, write: false, exec: true }, a.alloc);
    expect(pt.walk(mem, pgd, 0x08049000)!.prot.write).toBe(false);
    pt.clearPte(mem, pgd, 0x08049000);
    expect(pt.walk(mem, pgd, 0x08049000)).toBeNull();
    pt.clearPte(mem, pgd, 0x50000000); // absent: no-op
    // the kernel half is untouched by user tables
    expect(pt.walk(mem, pgd, 0xc0300000)!.prot.user).toBe(false);
  });

  it('cloneKernel shares the kernel half; freeUserTables frees each user table once', () => {
    const mem = ram(RAM);
    const a = allocator(0x200000);
    pt.initKernel(mem, 0x1000, RAM, a.alloc, null);
    pt.setPte(mem, 0x1000, 0x08048000, 0x300000, { user: true, write: true, exec: true }, a.alloc);
    pt.cloneKernel(mem, 0x1000, 0x2000);
    expect(pt.walk(mem, 0x2000, 0xc0abc000)!.pa).toBe(0xabc000);
    expect(pt.walk(mem, 0x2000, 0x08048000)).toBeNull(); // user half not copied
    pt.setPte(mem, 0x1000, 0x08448000, 0x301000, { user: true, write: true, exec: true }, a.alloc);
    const freed: number[] = [];
    pt.freeUserTables(mem, 0x1000, (p) => freed.push(p));
    expect(freed).toEqual([0x200000, 0x201000]);
    expect(pt.walk(mem, 0x1000, 0x08048000)).toBeNull();
    expect(pt.walk(mem, 0x1000, 0xc0000000)!.pa).toBe(0);
  });

  it('user access needs US in both levels', () => {
    const mem = ram(RAM);
    const a = allocator(0x200000);
    pt.setPte(mem, 0x1000, 0x08048000, 0x300000, { user: true, write: true, exec: true }, a.alloc);
    const pdePa = 0x1000 + 4 * (0x08048000 >>> 22);
    mem.dv.setUint32(pdePa, mem.dv.getUint32(pdePa, true) & ~(_PAGE_USER | _PAGE_RW), true);
    expect(pt.walk(mem, 0x1000, 0x08048000)!.prot).toEqual({ user: false, write: false, exec: true });
  });
});
