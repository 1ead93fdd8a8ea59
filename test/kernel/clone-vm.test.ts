// Sharing an address space: CLONE_VM threads see each other's stores and the
// parent joins through the CLONE_CHILD_CLEARTID futex; vfork's parent runs no
// instruction until its child exits or execs.
import { describe, expect, it } from 'vitest';
import {
  CLONE_CHILD_CLEARTID, CLONE_FILES, CLONE_FS, CLONE_PARENT_SETTID, CLONE_SETTLS, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VM,
} from '../../src/kernel/fork.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import {
  ARCHES, childrenOf, ifZero, nr, pool, programExit, programTask, run, runToBreakpoint, runToIdle, storeResult, sym, syscall, sysExits,
  taskField, uread32, withBoot, word, type Arch,
} from './helpers.js';

// glibc's pthread_create flags
const THREAD_FLAGS = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
const FROM_PARENT = 0x77;

function threadProgram(arch: Arch): string {
  // clone(flags, stack, &tid, tls, &tid): like glibc, the parent and child tid pointers are the same word.
  const tls = arch === 'arm' ? 'tls_block' : 'tls_desc';
  const a = arch === 'arm';
  return `.text
_start:
${syscall(arch, 'clone', THREAD_FLAGS, 'stack_top', 'tid', tls, 'tid')}
${ifZero(arch, 'thread')}
${storeResult(arch, 'clone_ret')}
${a ? `        ldr r1, =from_parent\n        mov r2, #${FROM_PARENT}\n        str r2, [r1]` : `        movl $${FROM_PARENT}, from_parent`}
join:                                ${a ? '@' : '#'} while (tid) futex(&tid, FUTEX_WAIT, tid, NULL)
${a ? '        ldr r1, =tid\n        ldr r2, [r1]\n        cmp r2, #0\n        beq joined' : '        movl tid, %edx\n        testl %edx, %edx\n        je joined'}
${a ? `        ldr r0, =tid\n        mov r1, #0\n        mov r3, #0\n        mov r7, #${nr(arch, 'futex')}\n        svc #0\n        b join` : `        movl $tid, %ebx\n        xorl %ecx, %ecx\n        xorl %esi, %esi\n        movl $${nr(arch, 'futex')}, %eax\n        int $0x80\n        jmp join`}
joined:
${a ? `        ldr r1, =from_thread\n        ldr r0, [r1]\n        mov r7, #${nr(arch, 'exit_group')}\n        svc #0` : `        movl from_thread, %ebx\n        movl $${nr(arch, 'exit_group')}, %eax\n        int $0x80`}
thread:                              ${a ? '@' : '#'} runs on its own stack; waits for the parent's store
${a ? `        ldr r1, =from_parent\n        ldr r2, [r1]\n        cmp r2, #${FROM_PARENT}\n        beq go` : `        cmpl $${FROM_PARENT}, from_parent\n        je go`}
${syscall(arch, 'sched_yield')}
        ${a ? 'b' : 'jmp'} thread
go:
${a ? '        ldr r1, =from_parent\n        ldr r2, [r1]\n        add r2, r2, #1\n        ldr r1, =from_thread\n        str r2, [r1]' : '        movl from_parent, %eax\n        incl %eax\n        movl %eax, from_thread'}
${syscall(arch, 'getpid')}
${storeResult(arch, 'thread_getpid')}
${syscall(arch, 'exit', 0)}
${pool(arch)}
        .data
${word(arch, 'tid')}
${word(arch, 'clone_ret')}
${word(arch, 'from_parent')}
${word(arch, 'from_thread')}
${word(arch, 'thread_getpid')}
${word(arch, 'tls_block')}
tls_desc: .long 6, tls_block, 0xfffff, 0x51   ${a ? '@' : '#'} i386 struct user_desc: entry 6, flat 32-bit, limit in pages, useable
        .align 4
        .space 4096
stack_top: .long 0`;
}

describe.each(ARCHES)('%s CLONE_VM', (arch) => {
  it('a CLONE_THREAD thread shares the mm and thread group, sees the parent\'s store, and wakes the joining parent by CLONE_CHILD_CLEARTID', () => {
    withBoot(arch, threadProgram(arch), { keepTrace: true }, ({ k, img }) => {
      const { task: th } = runToBreakpoint(k, sym(img, 'go'));
      const parent = programTask(k);
      expect(th.pid).not.toBe(parent.pid);
      expect(taskField(k, th.va, 'mm')).toBe(parent.mm); // one address space ...
      expect(k.mm.mm(parent.mm).get('mm_users')).toBe(2);
      expect(taskField(k, th.va, 'tgid')).toBe(parent.pid); // ... one thread group
      expect(taskField(k, th.va, 'group_leader')).toBe(parent.va);
      expect(taskField(k, th.va, 'exit_signal')).toBe(-1 >>> 0);
      expect(taskField(k, th.va, 'signal')).toBe(taskField(k, parent.va, 'signal'));
      expect(taskField(k, th.va, 'sighand')).toBe(taskField(k, parent.va, 'sighand'));
      expect(childrenOf(k, parent)).not.toContain(th.va); // a thread is not a child: its real_parent is the parent's
      expect(taskField(k, th.va, 'real_parent')).toBe(taskField(k, parent.va, 'real_parent'));
      expect(uread32(k, parent, sym(img, 'tid'))).toBe(th.pid); // CLONE_PARENT_SETTID
      expect(taskField(k, th.va, 'clear_child_tid')).toBe(sym(img, 'tid'));
      expect(uread32(k, parent, sym(img, 'clone_ret'))).toBe(th.pid);
      const tpid = th.pid;

      const { task: p } = runToBreakpoint(k, sym(img, 'joined'));
      expect(p.pid).toBe(parent.pid);
      expect(uread32(k, parent, sym(img, 'tid'))).toBe(0); // cleared at the thread's exit
      expect(uread32(k, parent, sym(img, 'thread_getpid'))).toBe(parent.pid); // getpid() is the tgid
      expect(uread32(k, parent, sym(img, 'from_thread'))).toBe(FROM_PARENT + 1); // the thread's store, seen by the parent
      const futex = sysExits(k, parent.pid, 'futex');
      expect(futex.length).toBeGreaterThan(0);
      expect(futex.at(-1)).toBe(0); // the wait ended by the wake, not by -EAGAIN
      expect(k.exits.find((e) => e.pid === tpid)?.code).toBe(0);
      expect(k.pidHash.has(tpid)).toBe(false); // a thread reaps itself
      runToIdle(k);
      expect(programExit(k)).toBe((FROM_PARENT + 1) << 8);
    });
  });

  it('vfork: the parent runs no instruction until the child exits, then sees the child\'s store', () => {
    const a = arch === 'arm';
    const src = `.text
_start:
${syscall(arch, 'vfork')}
vfork_ret:                           ${a ? '@' : '#'} both return here: the child first, the parent only after the child's exit
${ifZero(arch, 'child')}
${a ? `        ldr r1, =marker\n        ldr r0, [r1]\n        mov r7, #${nr(arch, 'exit_group')}\n        svc #0` : `        movl marker, %ebx\n        movl $${nr(arch, 'exit_group')}, %eax\n        int $0x80`}
child:
child_store:
${a ? '        ldr r1, =marker\n        mov r2, #5\n        str r2, [r1]\n        mov r6, #4' : '        movl $5, marker\n        movl $4, %ebp'}
spin:                                ${a ? '@' : '#'} yield the CPU a few times: the parent must still not run
${syscall(arch, 'sched_yield')}
${a ? '        subs r6, r6, #1\n        bne spin' : '        decl %ebp\n        jne spin'}
child_exit:
${syscall(arch, 'exit', 0)}
${pool(arch)}
        .data
${word(arch, 'marker')}`;
    withBoot(arch, src, {}, ({ k, img }) => {
      const text = img.sections.find((s) => s.exec)!;
      const every = new Set(Array.from({ length: text.size }, (_, i) => text.addr + i)); // every instruction of the program
      const log: { pid: number; pc: number }[] = [];
      for (;;) {
        const s = run(k, { breakpoints: every });
        if (s.kind !== 'breakpoint') {
          expect(s.kind).toBe('idle');
          break;
        }
        if (k.current.comm === 'program') log.push({ pid: k.current.pid, pc: s.pc });
      }
      const parent = k.execs.get('/bin/program')!;
      const child = log.find((e) => e.pid !== parent)!.pid;
      const firstChild = log.findIndex((e) => e.pid === child);
      const childExit = log.length - 1 - [...log].reverse().findIndex((e) => e.pid === child);
      const resumed = log.findIndex((e, i) => i > firstChild && e.pid === parent);
      // The parent's instructions up to the vfork, then only the child's until its exit, then the parent's.
      expect(log.slice(0, firstChild).every((e) => e.pid === parent)).toBe(true);
      expect(log[firstChild]!.pc).toBe(sym(img, 'vfork_ret'));
      expect(log[resumed]!.pc).toBe(sym(img, 'vfork_ret'));
      expect(resumed).toBeGreaterThan(childExit);
      expect(log.slice(firstChild, childExit + 1).every((e) => e.pid === child)).toBe(true);
      expect(log.filter((e) => e.pid === child).map((e) => e.pc)).toContain(sym(img, 'child_store'));
      expect(log[childExit]!.pc).toBeGreaterThanOrEqual(sym(img, 'child_exit'));
      expect(programExit(k)).toBe(5 << 8); // the parent read the child's store: one shared mm
    });
  });

  it('vfork + execve: the parent resumes when the child execs (before the new image exits)', () => {
    const other = arch === 'arm'
      ? `.text\n_start:\n${syscall(arch, 'sched_yield')}\n${syscall(arch, 'sched_yield')}\n${syscall(arch, 'exit_group', 9)}\n${pool(arch)}`
      : `.text\n_start:\n${syscall(arch, 'sched_yield')}\n${syscall(arch, 'sched_yield')}\n${syscall(arch, 'exit_group', 9)}`;
    const src = `.text
_start:
${syscall(arch, 'vfork')}
${ifZero(arch, 'child')}
${syscall(arch, 'wait4', -1, 'status', 0, 0)}
${syscall(arch, 'exit_group', 0)}
child:
${syscall(arch, 'execve', 'path', 'argv', 0)}
${syscall(arch, 'exit', 127)}
${pool(arch)}
        .data
path:   .asciz "/bin/other"
${word(arch, 'status')}
${arch === 'arm' ? 'argv:   .word path, 0' : 'argv:   .long path, 0'}`;
    withBoot(arch, src, { keepTrace: true }, ({ k }) => {
      k.initramfs.set('/bin/other', assembleProgram(other, { arch, fileName: 'other.S' }));
      runToIdle(k);
      const parent = k.execs.get('/bin/program')!;
      const child = k.execs.get('/bin/other')!;
      expect(child).not.toBe(parent);
      expect(k.exits.find((e) => e.pid === child)?.code).toBe(9 << 8);
      expect(programExit(k)).toBe(0);
      const ev = k.trace.events;
      const ts = (pred: (e: (typeof ev)[number]) => boolean) => {
        const e = ev.find(pred);
        expect(e).toBeDefined();
        return e!.ts;
      };
      const execStart = ts((e) => e.t === 'sys_enter' && e.pid === child && e.name === 'execve');
      const vforkReturn = ts((e) => e.t === 'sys_exit' && e.pid === parent && e.name === 'vfork');
      const childExit = ts((e) => e.t === 'event' && e.name === 'sched_process_exit' && e.pid === child);
      expect(vforkReturn).toBeGreaterThan(execStart); // not before the exec ...
      expect(vforkReturn).toBeLessThan(childExit); // ... and not held until the exit: exec released the mm
    });
  });
});
