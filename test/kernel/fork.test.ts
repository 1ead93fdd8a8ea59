// fork as Linux does it, checked in guest memory on both architectures: the
// no-libc fork/wait4 example, the child's new task_struct and kernel stack,
// thread_info->task, the parent/children/sibling lists, pid allocation,
// reparenting of orphans to init, and kernel threads without an mm.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { THREAD_SIZE } from '../../src/arch/types.js';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { register as registerRun } from '../../src/cli/commands/run.js';
import { PROGRAM_PATH } from '../../src/kernel/boot.js';
import { PF_KTHREAD } from '../../src/kernel/layout.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import { runProgram } from '../../src/kernel/program.js';
import {
  ARCHES, allTasks, childrenOf, expectLinked, kread32, nr, programExit, programTask, runToBreakpoint, runToIdle, runToPoint, sym,
  taskField, withBoot, type Arch,
} from './helpers.js';

const example = (arch: Arch) => `examples/fork-wait-${arch}.S`;

/** `trapdoor run FILE --arch ARCH` in-process: the exit code it sets, and what it wrote to stdout. */
function trapdoorRun(file: string, arch: Arch): { code: number | undefined; out: string } {
  const program = new Command().exitOverride();
  registerRun(program);
  const saved = process.exitCode;
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((s: string | Uint8Array) => ((out += typeof s === 'string' ? s : new TextDecoder().decode(s)), true)) as typeof write;
  try {
    program.parse(['node', 'trapdoor', 'run', file, '--arch', arch]);
    return { code: process.exitCode === undefined ? undefined : Number(process.exitCode), out };
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.exitCode, out };
    throw e;
  } finally {
    process.stdout.write = write;
    process.exitCode = saved;
  }
}

describe.each(ARCHES)('%s fork', (arch) => {
  it(`examples/fork-wait-${arch}.S: \`trapdoor run\` exits 42, the child's exit_group status passed on by wait4`, () => {
    expect(trapdoorRun(example(arch), arch).code).toBe(42);
  });

  it('the same program through runProgram: the child exited 42, the parent reaped it and exited 42', () => {
    const img = assembleProgram(readFileSync(example(arch), 'utf8'), { arch, fileName: example(arch) });
    const r = runProgram(kernelArch(arch), img, { budget: 2_000_000 });
    try {
      expect(r.stop).toBe('idle');
      expect(r.status).toBe(42);
      const parent = r.pid!;
      const others = r.kernel.exits.filter((e) => e.pid !== parent);
      expect(others).toHaveLength(1); // exactly one child, and it exited with 42 << 8
      expect(others[0]!.code).toBe(42 << 8);
      // both are reaped: nothing but swapper, init and kthreadd is left
      expect([...r.kernel.pidHash.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    } finally {
      r.kernel.close();
    }
  });

  it('copy_process: a fresh task_struct and 8 KiB-aligned kernel stack, thread_info->task, linked lists, the next pid', () => {
    withBoot(arch, readFileSync(example(arch), 'utf8'), {}, ({ k }) => {
      const isProgram = (pid: number) => k.execs.get(PROGRAM_PATH) === pid;
      // 1. the parent enters copy_process: remember what is live and which pid was handed out last
      const entry = runToPoint(k, (fn, text, t) => fn === 'copy_process' && text === 'copy_process()' && isProgram(t.pid));
      const parent = entry.task;
      const before = allTasks(k).map((t) => ({ va: t.va, stack: t.v.get('stack'), pid: t.pid }));
      const lastPid = k.lastPid;
      const maxPid = Math.max(...before.map((t) => t.pid));
      // 2. the child is complete and about to be woken
      runToPoint(k, (fn, _text, t) => fn === 'wake_up_new_task' && t === parent);
      const child = allTasks(k).find((t) => !before.some((b) => b.va === t.va));
      expect(child).toBeDefined();
      const c = child!;
      const stack = taskField(k, c.va, 'stack');

      // a new task_struct and a new kernel stack: not the parent's, not any other live task's, not overlapping any
      for (const b of before) {
        expect(c.va).not.toBe(b.va);
        expect(stack).not.toBe(b.stack);
        expect(stack + THREAD_SIZE <= b.stack || b.stack + THREAD_SIZE <= stack).toBe(true);
        expect(c.va < b.stack || c.va >= b.stack + THREAD_SIZE).toBe(true); // the task_struct is not on a stack
      }
      expect(stack % THREAD_SIZE).toBe(0); // THREAD_SIZE-aligned: current_thread_info() masks sp
      expect(THREAD_SIZE).toBe(8192);
      // thread_info (at the bottom of the stack) points back at the child's task_struct, in guest memory
      expect(kread32(k, stack + k.arch.layouts.thread_info.offsetOf('task'))).toBe(c.va);
      // the parent's thread_info still points at the parent
      expect(kread32(k, taskField(k, parent.va, 'stack') + k.arch.layouts.thread_info.offsetOf('task'))).toBe(parent.va);

      // family: real_parent and parent are the forking task; the child hangs on its children list via sibling
      expect(taskField(k, c.va, 'real_parent')).toBe(parent.va);
      expect(taskField(k, c.va, 'parent')).toBe(parent.va);
      expect(childrenOf(k, parent)).toContain(c.va);
      const sibling = c.va + k.taskLayout.offsetOf('sibling');
      expectLinked(k, sibling);
      expectLinked(k, c.va + k.taskLayout.offsetOf('tasks'));
      // a process of its own: its own thread group leader, tgid == pid, SIGCHLD at exit
      expect(taskField(k, c.va, 'group_leader')).toBe(c.va);
      expect(taskField(k, c.va, 'tgid')).toBe(taskField(k, c.va, 'pid'));
      expect(taskField(k, c.va, 'exit_signal')).toBe(17);

      // the pid: the next one after the last handed out (no wrap this early), free before, in the pid hash now
      const pid = taskField(k, c.va, 'pid');
      expect(lastPid).toBeLessThan(k.opts.pidMax - 1);
      expect(pid).toBe(lastPid + 1);
      expect(pid).toBeGreaterThan(maxPid);
      expect(before.some((b) => b.pid === pid)).toBe(false);
      expect(k.pidHash.get(pid) === c).toBe(true);

      runToIdle(k);
      expect(programExit(k)).toBe(42 << 8);
    });
  });

  it('an orphaned grandchild is reparented to init: getppid() becomes 1, and init reaps it', () => {
    const src: Record<Arch, string> = {
      arm: `.text
_start: mov r0, #17                 @ fork the child
        mov r1, #0
        mov r2, #0
        mov r3, #0
        mov r4, #0
        mov r7, #${nr(arch, 'clone')}
        svc #0
        cmp r0, #0
        beq child
        mvn r0, #0                  @ parent: wait4(-1, NULL, 0, NULL) for the child only
        mov r1, #0
        mov r2, #0
        mov r3, #0
        mov r7, #${nr(arch, 'wait4')}
        svc #0
        mov r0, #0
        mov r7, #${nr(arch, 'exit_group')}
        svc #0
child:  mov r0, #17                 @ the child forks the grandchild, then exits at once
        mov r7, #${nr(arch, 'clone')}
        svc #0
        cmp r0, #0
        beq grandchild
        mov r0, #0
        mov r7, #${nr(arch, 'exit_group')}
        svc #0
grandchild:
        mov r7, #${nr(arch, 'getppid')}
        svc #0
        cmp r0, #1
        beq orphaned
        mov r7, #${nr(arch, 'sched_yield')} @ let the child run and exit
        svc #0
        b grandchild
orphaned:
        mov r7, #${nr(arch, 'exit_group')}  @ exit_group(getppid()) == exit_group(1)
        svc #0`,
      x86: `.text
_start: movl $17, %ebx              # fork the child
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        xorl %edi, %edi
        movl $${nr(arch, 'clone')}, %eax
        int $0x80
        testl %eax, %eax
        je child
        movl $-1, %ebx              # parent: wait4(-1, NULL, 0, NULL) for the child only
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        movl $${nr(arch, 'wait4')}, %eax
        int $0x80
        xorl %ebx, %ebx
        movl $${nr(arch, 'exit_group')}, %eax
        int $0x80
child:  movl $17, %ebx              # the child forks the grandchild, then exits at once
        movl $${nr(arch, 'clone')}, %eax
        int $0x80
        testl %eax, %eax
        je grandchild
        xorl %ebx, %ebx
        movl $${nr(arch, 'exit_group')}, %eax
        int $0x80
grandchild:
        movl $${nr(arch, 'getppid')}, %eax
        int $0x80
        cmpl $1, %eax
        je orphaned
        movl $${nr(arch, 'sched_yield')}, %eax  # let the child run and exit
        int $0x80
        jmp grandchild
orphaned:
        movl %eax, %ebx             # exit_group(getppid()) == exit_group(1)
        movl $${nr(arch, 'exit_group')}, %eax
        int $0x80`,
    };
    withBoot(arch, src[arch], { keepTrace: true }, ({ k, img }) => {
      // the grandchild saw getppid() == 1: its real_parent in guest memory is init, and it is on init's children list
      const hit = runToBreakpoint(k, sym(img, 'orphaned'));
      const g = hit.task;
      const init = k.pidHash.get(1)!;
      expect(taskField(k, g.va, 'real_parent')).toBe(init.va);
      expect(childrenOf(k, init)).toContain(g.va);
      const forks = k.trace.events.filter((e) => e.t === 'event' && e.name === 'sched_process_fork').map((e) => (e as { fields: Record<string, number> }).fields);
      const childPid = forks.find((f) => f.pid === programTask(k).pid)!.child_pid;
      expect(forks.find((f) => f.child_pid === g.pid)!.pid).toBe(childPid); // it was forked by the (now dead) child
      expect(k.exits.some((e) => e.pid === childPid)).toBe(true);

      const gpid = g.pid; // (the Task reads guest memory, which is freed once init reaps it)
      runToIdle(k);
      expect(k.exits.find((e) => e.pid === gpid)?.code).toBe(1 << 8); // exit_group(getppid())
      expect(k.pidHash.has(gpid)).toBe(false); // reaped by init's wait4
      expect(k.byPa.has(g.taskPa)).toBe(false);
      const reaps = k.trace.events.filter((e) => e.t === 'note' && e.fn === 'wait_task_zombie' && e.text.startsWith(`reaping zombie pid ${gpid}:`));
      expect(reaps.map((e) => e.pid)).toEqual([1]); // init did the reaping
    });
  });

  it('kthreadd (pid 2) is a kernel thread: mm == 0, PF_KTHREAD, and it runs on a borrowed active_mm', () => {
    const src = arch === 'arm'
      ? `.text\n_start: mov r0, #0\n mov r7, #${nr(arch, 'exit_group')}\n svc #0\n`
      : `.text\n_start: xorl %ebx, %ebx\n movl $${nr(arch, 'exit_group')}, %eax\n int $0x80\n`;
    withBoot(arch, src, {}, ({ k }) => {
      const kthreadd = k.pidHash.get(2)!;
      expect(kthreadd.comm).toBe('kthreadd');
      expect(taskField(k, kthreadd.va, 'mm')).toBe(0);
      expect(taskField(k, kthreadd.va, 'flags') & PF_KTHREAD).toBe(PF_KTHREAD);
      // Each time kthreadd is switched in it borrows an address space (lazy TLB): the CPU is on
      // that mm's pgd, and when the previous task had its own mm, that is the one borrowed.
      const borrowed: { own: number; ownPgd: number; prevMm: number; pgdNow: number }[] = [];
      k.trace.on((e) => {
        if (e.t !== 'event' || e.name !== 'sched_switch' || e.fields.next_pid !== 2) return;
        const own = taskField(k, kthreadd.va, 'active_mm');
        const prev = k.pidHash.get(e.fields.prev_pid as number);
        borrowed.push({ own, ownPgd: own && k.mm.pgdPa(own), prevMm: prev ? taskField(k, prev.va, 'mm') : 0, pgdNow: k.currentPgd });
      });
      runToIdle(k);
      expect(borrowed.length).toBeGreaterThan(0);
      for (const b of borrowed) {
        expect(b.own).not.toBe(0);
        expect(b.pgdNow).toBe(b.ownPgd);
        if (b.prevMm) expect(b.own).toBe(b.prevMm);
      }
      expect(taskField(k, kthreadd.va, 'mm')).toBe(0); // borrowing never gives it an mm of its own
      // init (pid 1) started as a kernel thread too, but exec gave it an mm and cleared PF_KTHREAD
      const init = k.pidHash.get(1)!;
      expect(taskField(k, init.va, 'mm')).not.toBe(0);
      expect(taskField(k, init.va, 'flags') & PF_KTHREAD).toBe(0);
    });
  });
});
