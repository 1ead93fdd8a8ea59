// Copy-on-write after fork, read from the page tables and mem_map in guest
// memory: every user page is shared (same frame, read-only, page count 2), and
// the child's first store to a word copies exactly that one page.
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../src/arch/types.js';
import { VM_SHARED, VM_WRITE } from '../../src/kernel/mm/mm.js';
import { ARCHES, nr, programExit, programTask, runToBreakpoint, runToIdle, sym, withBoot, type Arch } from './helpers.js';

const OLD = 0x1111, NEW = 0x2222;

function program(arch: Arch): string {
  if (arch === 'arm') return `.text
_start: mov r0, #17                 @ fork: clone(SIGCHLD, 0, 0, 0, 0)
        mov r1, #0
        mov r2, #0
        mov r3, #0
        mov r4, #0
        mov r7, #${nr(arch, 'clone')}
        svc #0
        cmp r0, #0
        beq before_store
        mvn r0, #0                  @ parent: wait4(-1, NULL, 0, NULL)
        mov r1, #0
        mov r2, #0
        mov r3, #0
        mov r7, #${nr(arch, 'wait4')}
        svc #0
        ldr r1, =value              @ exit_group(value == OLD ? 0 : 1)
        ldr r0, [r1]
        ldr r2, =${OLD}
        cmp r0, r2
        moveq r0, #0
        movne r0, #1
        mov r7, #${nr(arch, 'exit_group')}
        svc #0
before_store:                       @ child: one store to a shared page
        ldr r1, =value
        ldr r2, =${NEW}
        str r2, [r1]
after_store:
        mov r0, #0
        mov r7, #${nr(arch, 'exit_group')}
        svc #0
        .ltorg
        .data
        .align 2
value:  .word ${OLD}`;
  return `.text
_start: movl $17, %ebx              # fork: clone(SIGCHLD, 0, 0, 0, 0)
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        xorl %edi, %edi
        movl $${nr(arch, 'clone')}, %eax
        int $0x80
        testl %eax, %eax
        je before_store
        movl $-1, %ebx              # parent: wait4(-1, NULL, 0, NULL)
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        movl $${nr(arch, 'wait4')}, %eax
        int $0x80
        xorl %ebx, %ebx             # exit_group(value == OLD ? 0 : 1)
        cmpl $${OLD}, value
        setne %bl
        movl $${nr(arch, 'exit_group')}, %eax
        int $0x80
before_store:                       # child: one store to a shared page
        movl $${NEW}, value
after_store:
        xorl %ebx, %ebx
        movl $${nr(arch, 'exit_group')}, %eax
        int $0x80
        .data
        .align 4
value:  .long ${OLD}`;
}

describe.each(ARCHES)('%s copy-on-write', (arch) => {
  it('after fork every user page is shared read-only with page count 2; the child\'s store copies exactly one page', () => {
    withBoot(arch, program(arch), {}, ({ k, img }) => {
      const pt = k.arch.pgtable;
      const value = sym(img, 'value');
      const frame = (pa: number) => (pa & ~(PAGE_SIZE - 1)) >>> 0;

      const { task: child } = runToBreakpoint(k, sym(img, 'before_store'));
      const parent = programTask(k);
      expect(child.pid).not.toBe(parent.pid);
      expect(child.mm).not.toBe(parent.mm); // fork: a new mm_struct ...
      const ppgd = k.mm.pgdPa(parent.mm);
      const cpgd = k.mm.pgdPa(child.mm);
      expect(cpgd).not.toBe(ppgd); // ... with its own page tables

      // ... that map the very same frames: every present user page of the parent, read-only where the VMA is private and writable
      let pages = 0;
      pt.forEachUserPte(k.mem, ppgd, (va, p) => {
        pages++;
        const c = pt.walk(k.mem, cpgd, va);
        expect(c).not.toBeNull();
        expect(frame(c!.pa)).toBe(frame(p.pa));
        expect(k.pages.pageCount(frame(p.pa))).toBe(2);
        const vmFlags = k.mm.findVma(parent.mm, va)!.get('vm_flags');
        if (vmFlags & VM_WRITE && !(vmFlags & VM_SHARED)) {
          expect(p.prot.write).toBe(false);
          expect(c!.prot.write).toBe(false);
        }
      });
      let childPages = 0;
      pt.forEachUserPte(k.mem, cpgd, () => childPages++);
      expect(childPages).toBe(pages);
      expect(pages).toBeGreaterThanOrEqual(2); // at least text and data
      const shared = frame(pt.walk(k.mem, ppgd, value)!.pa);
      expect(k.mem.dv.getUint32(shared + (value & (PAGE_SIZE - 1)), true)).toBe(OLD);

      const copiesBefore = k.mm.stats.cowCopies;
      runToBreakpoint(k, sym(img, 'after_store'));
      expect(k.mm.stats.cowCopies - copiesBefore).toBe(1);
      const p = pt.walk(k.mem, ppgd, value)!;
      const c = pt.walk(k.mem, cpgd, value)!;
      expect(frame(p.pa)).toBe(shared); // the parent keeps the original frame ...
      expect(frame(c.pa)).not.toBe(shared); // ... the child got a copy
      expect(c.prot.write).toBe(true);
      expect(k.pages.pageCount(shared)).toBe(1);
      expect(k.pages.pageCount(frame(c.pa))).toBe(1);
      expect(k.mem.dv.getUint32(p.pa, true)).toBe(OLD); // the parent still sees its old value
      expect(k.mem.dv.getUint32(c.pa, true)).toBe(NEW);
      // every other page is still shared
      pt.forEachUserPte(k.mem, ppgd, (va, pp) => {
        if (frame(va) === frame(value)) return;
        expect(frame(pt.walk(k.mem, cpgd, va)!.pa)).toBe(frame(pp.pa));
      });

      runToIdle(k);
      expect(programExit(k)).toBe(0); // the parent read OLD after the child's store
    });
  });
});
