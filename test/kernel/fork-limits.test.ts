// A fork loop ends in -EAGAIN without harming the host or leaking guest memory:
// at RLIMIT_NPROC, and when every pid below pid_max is taken. Freed pids are
// reused after alloc_pid wraps at pid_max.
import { describe, expect, it } from 'vitest';
import { PF_KTHREAD } from '../../src/kernel/layout.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import {
  ARCHES, allTasks, nr, pool, programExit, programTask, run, runToBreakpoint, runToIdle, sym, syscall, withBoot, type Arch,
} from './helpers.js';

const EAGAIN = -11;

/** Forks until clone fails; the children sleep in pause(); the parent exits with -errno. */
function forkLoop(arch: Arch): string {
  const fail = arch === 'arm' ? '        cmp r0, #0\n        blt failed\n        beq child\n        b loop' : '        testl %eax, %eax\n        js failed\n        je child\n        jmp loop';
  const neg = arch === 'arm' ? '        rsb r0, r0, #0' : '        negl %eax\n        movl %eax, %ebx';
  return `.text
_start:
loop:
${syscall(arch, 'clone', 17, 0, 0, 0, 0)}
${fail}
failed:
${neg}
        ${arch === 'arm' ? `mov r7, #${nr(arch, 'exit_group')}\n        svc #0` : `movl $${nr(arch, 'exit_group')}, %eax\n        int $0x80`}
child:
${syscall(arch, 'pause')}
        ${arch === 'arm' ? 'b' : 'jmp'} child
${pool(arch)}`;
}

/** What a failed fork must give back: allocated pages and every slab cache's live objects. */
function snapshot(k: Kernel) {
  return { pages: k.pages.allocated, ...Object.fromEntries(Object.entries(k.caches).map(([n, c]) => [n, c.active])) };
}

describe.each(ARCHES)('%s fork limits', (arch) => {
  it('RLIMIT_NPROC: the fork loop gets -EAGAIN when the user\'s live processes reach the limit', () => {
    const rlimitNproc = 8;
    withBoot(arch, forkLoop(arch), { rlimitNproc }, ({ k }) => {
      const stop = run(k, { stopAtPoint: (p) => p.fn === 'copy_process' && p.text.startsWith('EAGAIN') });
      expect(stop.kind).toBe('point');
      // counted in guest memory over the tasks list: live, non-kernel-thread tasks
      const live = allTasks(k).filter((t) => t.pid !== 0 && !(t.flags & PF_KTHREAD) && !t.exitState);
      expect(live).toHaveLength(rlimitNproc);
      runToIdle(k);
      expect(programExit(k)).toBe(-EAGAIN << 8);
      // the children are still there, asleep, now init's
      const parent = k.execs.get('/bin/program')!;
      const sleepers = [...k.pidHash.values()].filter((t) => t.pid > 2 && t.pid !== parent);
      expect(sleepers).toHaveLength(rlimitNproc - 2); // all but init and the program itself
    });
  });

  it('pid_max: -EAGAIN once every pid is taken, and the half-made child is given back completely', () => {
    const pidMax = 12;
    withBoot(arch, forkLoop(arch), { pidMax }, ({ k, img }) => {
      let before = snapshot(k);
      for (;;) {
        const s = run(k, { stopAtPoint: (p, t) => p.fn === 'copy_process' && p.text === 'copy_process()' && t.comm === 'program' || (p.fn === 'alloc_pid' && p.text.startsWith('EAGAIN')) });
        expect(s.kind).toBe('point');
        if (s.kind === 'point' && s.fn === 'alloc_pid') break;
        before = snapshot(k);
      }
      // no free pid: every pid below pid_max belongs to a task on the tasks list
      const pids = allTasks(k).map((t) => t.pid).sort((a, b) => a - b);
      expect(pids).toEqual(Array.from({ length: pidMax }, (_, i) => i));
      // back in user space with -EAGAIN: the failed copy_process leaked nothing
      runToBreakpoint(k, sym(img, 'failed'));
      expect(snapshot(k)).toEqual(before);
      expect(programTask(k).pid).toBe(3);
      runToIdle(k);
      expect(programExit(k)).toBe(-EAGAIN << 8);
    });
  });

  it('pid wrap-around: past pid_max - 1, alloc_pid reuses freed pids', () => {
    const pidMax = 12, forks = 14;
    const src = `.text
_start:
${arch === 'arm' ? `        mov r6, #${forks}` : `        movl $${forks}, %ebp`}
again:
${syscall(arch, 'clone', 17, 0, 0, 0, 0)}
${arch === 'arm' ? '        cmp r0, #0\n        beq child' : '        testl %eax, %eax\n        je child'}
${arch === 'arm' ? `        mvn r0, #0\n        mov r1, #0\n        mov r2, #0\n        mov r3, #0\n        mov r7, #${nr(arch, 'wait4')}\n        svc #0` : `        movl $-1, %ebx\n        xorl %ecx, %ecx\n        xorl %edx, %edx\n        xorl %esi, %esi\n        movl $${nr(arch, 'wait4')}, %eax\n        int $0x80`}
${arch === 'arm' ? '        subs r6, r6, #1\n        bne again' : '        decl %ebp\n        jne again'}
${syscall(arch, 'exit_group', 0)}
child:
${syscall(arch, 'exit_group', 0)}
${pool(arch)}`;
    withBoot(arch, src, { pidMax }, ({ k }) => {
      runToIdle(k);
      expect(programExit(k)).toBe(0);
      const parent = k.execs.get('/bin/program')!;
      const pids = k.exits.filter((e) => e.pid !== parent).map((e) => e.pid);
      expect(pids).toHaveLength(forks);
      const live = [0, 1, 2, parent]; // never handed out again while alive
      expect(pids[0]).toBe(parent + 1);
      let wraps = 0;
      for (let i = 0; i < pids.length; i++) {
        const pid = pids[i]!;
        expect(pid).toBeGreaterThan(0);
        expect(pid).toBeLessThan(pidMax);
        expect(live).not.toContain(pid);
        if (i === 0) continue;
        if (pids[i - 1]! + 1 < pidMax) expect(pid).toBe(pids[i - 1]! + 1);
        else {
          // wrapped: the lowest pid not in use (the earlier children were all reaped)
          wraps++;
          const lowestFree = Array.from({ length: pidMax }, (_, p) => p).find((p) => p > 0 && !live.includes(p));
          expect(pid).toBe(lowestFree);
          expect(pids.slice(0, i)).toContain(pid); // a reused pid
        }
      }
      expect(wraps).toBeGreaterThan(0);
    });
  });
});
