// ARMv7 short-descriptor tables built by armPgtable, read back by its own walk
// and checked bit by bit against the ARM ARM encodings.
import { describe, expect, it } from 'vitest';
import { armPgtable as pt } from '../../../src/arch/arm/pgtable.js';
import type { PhysMem } from '../../../src/machine/struct.js';

const MiB = 1 << 20;

function setup(ramSize = 8 * MiB) {
  const buf = new ArrayBuffer(ramSize);
  const mem: PhysMem = { u8: new Uint8Array(buf), dv: new DataView(buf), size: ramSize };
  let next = 0x100000; // tables from 1 MiB up
  const allocated: number[] = [];
  const alloc = () => {
    const pa = next;
    next += 4096;
    mem.u8.fill(0, pa, pa + 4096);
    allocated.push(pa);
    return pa;
  };
  const pgd = 0x4000;
  return { mem, alloc, allocated, pgd };
}

const rd = (mem: PhysMem, pa: number) => mem.dv.getUint32(pa, true);

describe('arm short-descriptor page tables', () => {
  it('maps lowmem as kernel-only RW executable sections', () => {
    const { mem, alloc, pgd } = setup();
    pt.initKernel(mem, pgd, mem.size, alloc, 0x7000);
    const w = pt.walk(mem, pgd, 0xc0123456)!;
    expect(w).toEqual({ pa: 0x123456, prot: { user: false, write: true, exec: true }, entryPa: pgd + 0xc01 * 4, level: 'section' });
    const d = rd(mem, pgd + 0xc01 * 4);
    expect(d & 3).toBe(2); // section
    expect((d >>> 10) & 3).toBe(1); // AP = 01: privileged RW, user none
    expect(d & (1 << 15)).toBe(0); // APX clear
    expect(d & (1 << 4)).toBe(0); // XN clear
    expect(d >>> 20).toBe(1);
    expect(pt.walk(mem, pgd, 0xc0000000 + mem.size)).toBeNull(); // nothing past RAM
    expect(pt.walk(mem, pgd, 0x00001000)).toBeNull();
  });

  it('maps a partial last MiB of RAM with small pages only up to the end of RAM', () => {
    const { mem, alloc, pgd } = setup(3 * MiB + 0x3000);
    pt.initKernel(mem, pgd, mem.size, alloc, null);
    expect(pt.walk(mem, pgd, 0xc0302abc)).toMatchObject({ pa: 0x302abc, level: 'page', prot: { user: false, write: true, exec: true } });
    expect(pt.walk(mem, pgd, 0xc0303000)).toBeNull();
  });

  it('maps the vectors page user read + exec, not writable, through an L2 table', () => {
    const { mem, alloc, pgd } = setup();
    pt.initKernel(mem, pgd, mem.size, alloc, 0x7000);
    const w = pt.walk(mem, pgd, 0xffff0fe0)!;
    expect(w.pa).toBe(0x7fe0);
    expect(w.prot).toEqual({ user: true, write: false, exec: true });
    expect(w.level).toBe('page');
    const l1 = rd(mem, pgd + 0xfff * 4);
    expect(l1 & 3).toBe(1); // coarse table
    expect((l1 >>> 5) & 0xf).toBe(1); // DOMAIN_USER
    const pte = rd(mem, w.entryPa);
    expect(pte & 2).toBe(2); // small page
    expect(pte & 1).toBe(0); // XN clear
    expect((pte >>> 4) & 3).toBe(3); // AP[1:0] = 11
    expect(pte & (1 << 9)).not.toBe(0); // APX: read-only
    expect(pt.walk(mem, pgd, 0xffff1000)).toBeNull();
  });

  it('setPte / walk round-trips every protection, with the ARM AP/APX/XN bits', () => {
    const { mem, alloc, allocated, pgd } = setup();
    pt.initKernel(mem, pgd, mem.size, alloc, 0x7000);
    const kernelTables = allocated.length;
    const cases = [
      { va: 0x00010000, pa: 0x200000, prot: { user: true, write: false, exec: true }, ap: 3, apx: 1, xn: 0 },
      { va: 0x00011000, pa: 0x201000, prot: { user: true, write: true, exec: false }, ap: 3, apx: 0, xn: 1 },
      { va: 0xbefff000, pa: 0x202000, prot: { user: true, write: true, exec: true }, ap: 3, apx: 0, xn: 0 },
      { va: 0x40000000, pa: 0x203000, prot: { user: false, write: true, exec: false }, ap: 1, apx: 0, xn: 1 },
      { va: 0x40001000, pa: 0x204000, prot: { user: false, write: false, exec: true }, ap: 1, apx: 1, xn: 0 },
    ];
    for (const c of cases) pt.setPte(mem, pgd, c.va, c.pa, c.prot, alloc);
    expect(allocated.length - kernelTables).toBe(3); // MiBs 0x000, 0xbef, 0x400
    for (const c of cases) {
      const w = pt.walk(mem, pgd, c.va + 0x123)!;
      expect(w).toMatchObject({ pa: c.pa + 0x123, prot: c.prot, level: 'page' });
      const d = rd(mem, w.entryPa);
      expect([(d >>> 4) & 3, (d >>> 9) & 1, d & 1, d & 2, d >>> 12]).toEqual([c.ap, c.apx, c.xn, 2, c.pa >>> 12]);
      expect(((d >>> 11) & 1) === 1).toBe(c.prot.user); // user pages are non-global
    }
    // forEachUserPte: ascending va, exactly these pages.
    const seen: [number, number][] = [];
    pt.forEachUserPte(mem, pgd, (va, p) => seen.push([va, p.pa]));
    expect(seen).toEqual([...cases].sort((a, b) => a.va - b.va).map((c) => [c.va, c.pa]));
    // Replacing a mapping reuses the table.
    pt.setPte(mem, pgd, 0x00010000, 0x205000, { user: true, write: true, exec: true }, alloc);
    expect(allocated.length - kernelTables).toBe(3);
    expect(pt.walk(mem, pgd, 0x00010000)!.pa).toBe(0x205000);
    // clearPte
    pt.clearPte(mem, pgd, 0x00011000);
    pt.clearPte(mem, pgd, 0x30000000); // absent: no-op
    expect(pt.walk(mem, pgd, 0x00011000)).toBeNull();
    expect(pt.walk(mem, pgd, 0x00010000)).not.toBeNull();
  });

  it('refuses user mappings over kernel space and unaligned ones', () => {
    const { mem, alloc, pgd } = setup();
    pt.initKernel(mem, pgd, mem.size, alloc, 0x7000);
    const p = { user: true, write: true, exec: true };
    expect(() => pt.setPte(mem, pgd, 0xc0000000, 0x200000, p, alloc)).toThrow();
    expect(() => pt.setPte(mem, pgd, 0x1001, 0x200000, p, alloc)).toThrow();
  });

  it('cloneKernel shares the kernel half; freeUserTables frees only user tables', () => {
    const { mem, alloc, allocated, pgd } = setup();
    pt.initKernel(mem, pgd, mem.size, alloc, 0x7000);
    const vecTable = allocated[0]!;
    const child = 0x8000;
    pt.cloneKernel(mem, pgd, child);
    expect(mem.u8.subarray(child + 0x3000, child + 0x4000)).toEqual(mem.u8.subarray(pgd + 0x3000, pgd + 0x4000));
    expect(pt.walk(mem, child, 0xffff0000)).toEqual(pt.walk(mem, pgd, 0xffff0000)); // same L2 table
    expect(pt.walk(mem, child, 0xc0001000)!.pa).toBe(0x1000);
    pt.setPte(mem, child, 0x10000, 0x200000, { user: true, write: true, exec: true }, alloc);
    pt.setPte(mem, child, 0x500000, 0x201000, { user: true, write: true, exec: true }, alloc);
    expect(pt.walk(mem, pgd, 0x10000)).toBeNull(); // the parent is untouched
    const freed: number[] = [];
    pt.freeUserTables(mem, child, (pa) => freed.push(pa));
    expect(freed).toEqual(allocated.slice(-2));
    expect(freed).not.toContain(vecTable);
    expect(pt.walk(mem, child, 0x10000)).toBeNull();
    let n = 0;
    pt.forEachUserPte(mem, child, () => n++);
    expect(n).toBe(0);
    expect(pt.walk(mem, child, 0xffff0fe0)!.pa).toBe(0x7fe0);
  });
});
