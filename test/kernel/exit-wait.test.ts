// exit and wait4 in guest memory: a zombie keeps its task_struct, kernel stack
// and pid until its parent's wait4, which frees them; wait4 with a status
// pointer it cannot write returns -EFAULT (and, as in Linux, still reaps).
import { describe, expect, it } from 'vitest';
import { PAGE_OFFSET, THREAD_SIZE } from '../../src/arch/types.js';
import { __pa } from '../../src/kernel/list.js';
import { EXIT_ZOMBIE } from '../../src/kernel/layout.js';
import {
  ARCHES, childrenOf, ifZero, pool, programExit, programTask, runToBreakpoint, runToIdle, sym, syscall, sysExits,
  taskField, uread32, withBoot, word, type Arch,
} from './helpers.js';

const WNOHANG = 1, EFAULT = -14, ECHILD = -10;

function zombieProgram(arch: Arch): string {
  return `.text
_start:
${syscall(arch, 'clone', 17, 0, 0, 0, 0)}
${ifZero(arch, 'child')}
${syscall(arch, 'getpid')}
${syscall(arch, 'sched_yield')}
${syscall(arch, 'getppid')}
before_wait:
${syscall(arch, 'wait4', -1, 'status', 0, 0)}
after_wait:
${syscall(arch, 'exit_group', 0)}
child:
${syscall(arch, 'exit_group', 7)}
${pool(arch)}
        .data
${word(arch, 'status')}`;
}

function efaultProgram(arch: Arch, bad: number | string): string {
  return `.text
_start:
${syscall(arch, 'clone', 17, 0, 0, 0, 0)}
${ifZero(arch, 'child')}
${syscall(arch, 'wait4', -1, bad, 0, 0)}
${syscall(arch, 'wait4', -1, 0, WNOHANG, 0)}
${syscall(arch, 'exit_group', 0)}
child:
${syscall(arch, 'exit_group', 5)}
${pool(arch)}`;
}

describe.each(ARCHES)('%s exit and wait4', (arch) => {
  it('a zombie stays (EXIT_ZOMBIE, in the pid hash, on the children list) while its parent works, and is freed by wait4', () => {
    withBoot(arch, zombieProgram(arch), { keepTrace: true }, ({ k, img }) => {
      const { task: parent } = runToBreakpoint(k, sym(img, 'before_wait'));
      expect(parent.pid).toBe(programTask(k).pid);
      // the parent ran three syscalls of its own after the fork while the child had already exited
      const kids = childrenOf(k, parent);
      expect(kids).toHaveLength(1);
      const zva = kids[0]!;
      const zpid = taskField(k, zva, 'pid');
      expect(k.exits.find((e) => e.pid === zpid)?.code).toBe(7 << 8);
      expect(taskField(k, zva, 'exit_state')).toBe(EXIT_ZOMBIE);
      expect(taskField(k, zva, 'exit_code')).toBe(7 << 8);
      expect(taskField(k, zva, 'mm')).toBe(0); // exit_mm let go of the address space
      expect(k.pidHash.get(zpid)?.va).toBe(zva);
      const stack = taskField(k, zva, 'stack');
      const stackPa = __pa(stack);
      expect(k.pages.pageCount(stackPa)).toBeGreaterThan(0); // still holding its kernel stack
      const activeBefore = k.caches.task_struct.active;

      runToBreakpoint(k, sym(img, 'after_wait'));
      expect(sysExits(k, parent.pid, 'wait4')).toEqual([zpid]);
      expect(uread32(k, parent, sym(img, 'status'))).toBe(7 << 8);
      expect(k.pidHash.has(zpid)).toBe(false);
      expect(k.byPa.has(__pa(zva))).toBe(false);
      expect(childrenOf(k, parent)).toHaveLength(0);
      expect(k.caches.task_struct.active).toBe(activeBefore - 1); // kmem_cache_free(task_struct)
      expect(k.mem.u8[__pa(zva)]).toBe(0xa5); // the freed object is poisoned
      for (let p = 0; p < THREAD_SIZE; p += 4096) expect(k.pages.pageCount(stackPa + p)).toBe(0); // free_thread_info
      expect(stack >= PAGE_OFFSET).toBe(true);

      runToIdle(k);
      expect(programExit(k)).toBe(0);
    });
  });

  const bad: [string, number | string][] = [
    ['a kernel address (0xc0000000)', 0xc0000000],
    ['an unmapped user address (0x1000)', 0x1000],
    ['the read-only text', '_start'],
  ];
  it.each(bad)('wait4 with a status pointer into %s returns -EFAULT, and the zombie is reaped anyway', (_what, ptr) => {
    withBoot(arch, efaultProgram(arch, ptr), { keepTrace: true }, ({ k, img }) => {
      if (ptr === 0x1000) for (const s of img.sections) expect(s.addr).toBeGreaterThan(0x1000); // no VMA there
      runToIdle(k);
      const parent = k.execs.get('/bin/program')!;
      const child = k.exits.find((e) => e.pid !== parent && e.code === 5 << 8);
      expect(child).toBeDefined();
      // the first wait4 faulted writing the status; the second finds no child left: it was reaped (Linux's wait_task_zombie)
      expect(sysExits(k, parent, 'wait4')).toEqual([EFAULT, ECHILD]);
      expect(k.pidHash.has(child!.pid)).toBe(false);
      expect(programExit(k)).toBe(0);
    });
  });
});
