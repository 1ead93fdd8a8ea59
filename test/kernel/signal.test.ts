// Signals with their default actions, on both arches: SIGKILL ends a sleeping
// task through the return-to-user path (get_signal → do_group_exit), SIGSTOP
// and SIGCONT stop and resume a task (seen by wait4 with WUNTRACED and
// WCONTINUED, and in task_struct->state), SIGTERM terminates, and exit_group
// takes every thread of the group down.
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import { runProgram } from '../../src/kernel/program.js';
import { TASK_STOPPED, EXIT_ZOMBIE } from '../../src/kernel/layout.js';
import { PROGRAM_PATH } from '../../src/kernel/boot.js';
import { qemuAvailable, runUnderQemu } from '../support/qemu-user.js';

type A = 'arm' | 'x86';

function run(arch: A, src: string) {
  return runProgram(kernelArch(arch), assembleProgram(src, { arch, fileName: 'signal.S' }), { budget: 5_000_000 });
}

/** fork; the child pauses forever; the parent sends `sigs` in turn, waiting with `opts[i]` after each, and checks the statuses. */
function parentSignals(arch: A, steps: { sig: number; wait: number; expect: number }[], tail: 'exit-status' | 'exit-0'): string {
  if (arch === 'arm') {
    const body = steps.map((s, i) => `
        mov r0, r6
        mov r1, #${s.sig}
        mov r7, #37          @ kill(child, sig)
        svc #0
        mov r0, r6
        ldr r1, =status
        ldr r2, =${s.wait}
        mov r3, #0
        mov r7, #114         @ wait4(child, &status, options, 0)
        svc #0
        cmp r0, r6
        movne r0, #${2 * i + 1}
        bne out
        ldr r1, =status
        ldr r2, [r1]
        ldr r3, =${s.expect}
        cmp r2, r3
        movne r0, #${2 * i + 2}
        bne out`).join('');
    return `.text
_start: mov r7, #2           @ fork
        svc #0
        cmp r0, #0
        beq child
        mov r6, r0           @ the child's pid
${body}
        ${tail === 'exit-status' ? 'mov r0, #100' : 'mov r0, #0'}
out:    mov r7, #248         @ exit_group
        svc #0
child:  mov r7, #29          @ pause(), forever
        svc #0
        b child
        .ltorg
.data
status: .word 0
`;
  }
  const body = steps.map((s, i) => `
        movl pid, %ebx
        movl $${s.sig}, %ecx
        movl $37, %eax       # kill(child, sig)
        int $0x80
        movl pid, %ebx
        movl $status, %ecx
        movl $${s.wait}, %edx
        movl $0, %esi
        movl $114, %eax      # wait4(child, &status, options, 0)
        int $0x80
        movl $${2 * i + 1}, %ebx
        cmpl pid, %eax
        jne out
        movl $${2 * i + 2}, %ebx
        cmpl $${s.expect}, status
        jne out`).join('');
  return `.text
_start: movl $2, %eax        # fork
        int $0x80
        testl %eax, %eax
        jz child
        movl %eax, pid
${body}
        movl $${tail === 'exit-status' ? 100 : 0}, %ebx
out:    movl $252, %eax      # exit_group
        int $0x80
child:  movl $29, %eax       # pause(), forever
        int $0x80
        jmp child
.data
pid:    .long 0
status: .long 0
`;
}

const SIGKILL = 9, SIGTERM = 15, SIGCONT = 18, SIGSTOP = 19;
const WUNTRACED = 2, WCONTINUED = 8;

/** Signals sent in turn to a pausing child, with the wait4 options and the status each must produce (Linux's encoding). */
const CASES = {
  kill: [{ sig: SIGKILL, wait: 0, expect: SIGKILL }],
  term: [{ sig: SIGTERM, wait: 0, expect: SIGTERM }],
  stopContKill: [
    { sig: SIGSTOP, wait: WUNTRACED, expect: (SIGSTOP << 8) | 0x7f },
    { sig: SIGCONT, wait: WCONTINUED, expect: 0xffff },
    { sig: SIGKILL, wait: 0, expect: SIGKILL },
  ],
  stopKill: [
    { sig: SIGSTOP, wait: WUNTRACED, expect: (SIGSTOP << 8) | 0x7f },
    { sig: SIGKILL, wait: 0, expect: SIGKILL },
  ],
};

describe.each(['arm', 'x86'] as const)('%s: signals, default actions', (arch) => {
  it('every scenario below exits the same under qemu-user on a real kernel (100: all statuses as expected)', () => {
    if (!qemuAvailable(arch, 'the signal scenarios')) return;
    for (const steps of Object.values(CASES)) {
      const src = parentSignals(arch, steps, 'exit-status');
      const q = runUnderQemu(arch, src);
      const r = run(arch, src);
      r.kernel.close();
      expect(q.status).toBe(100);
      expect(r.status).toBe(q.status);
    }
  });

  it('SIGKILL ends a task sleeping in pause(): wait4 sees it killed by signal 9', () => {
    const r = run(arch, parentSignals(arch, CASES.kill, 'exit-status'));
    try {
      expect(r.status).toBe(100);
      const child = r.kernel.exits.find((e) => e.pid !== r.pid && e.pid > r.pid!);
      expect(child?.code).toBe(SIGKILL); // WIFSIGNALED, WTERMSIG = 9, no core
    } finally {
      r.kernel.close();
    }
  });

  it('SIGTERM (default action: terminate) ends the child with status 15', () => {
    const r = run(arch, parentSignals(arch, CASES.term, 'exit-status'));
    try {
      expect(r.status).toBe(100);
    } finally {
      r.kernel.close();
    }
  });

  it('SIGSTOP stops, wait4(WUNTRACED) reports 0x137f; SIGCONT resumes, wait4(WCONTINUED) reports 0xffff; SIGKILL then ends it', () => {
    const r = run(arch, parentSignals(arch, CASES.stopContKill, 'exit-status'));
    try {
      expect(r.status).toBe(100);
    } finally {
      r.kernel.close();
    }
  });

  it('SIGKILL wakes and ends a stopped task', () => {
    const r = run(arch, parentSignals(arch, CASES.stopKill, 'exit-status'));
    try {
      expect(r.status).toBe(100);
    } finally {
      r.kernel.close();
    }
  });

  it('a stopped child left behind stays in TASK_STOPPED (guest memory), reparented to init', () => {
    const r = run(arch, parentSignals(arch, CASES.stopKill.slice(0, 1), 'exit-0'));
    try {
      expect(r.status).toBe(0);
      const k = r.kernel;
      const child = [...k.pidHash.values()].find((t) => t.pid > r.pid!)!;
      expect(child).toBeDefined();
      expect(child.v.get('state')).toBe(TASK_STOPPED);
      expect(child.exitState).not.toBe(EXIT_ZOMBIE);
      expect(k.task(child.v.get('real_parent')).pid).toBe(1);
      expect(k.runqueue.includes(child)).toBe(false);
    } finally {
      r.kernel.close();
    }
  });
});

/** A thread (CLONE_VM|CLONE_SIGHAND|CLONE_THREAD) that yields forever; the main thread calls exit_group(7). */
const THREAD_GROUP_EXIT: Record<A, string> = {
  arm: `.text
_start: ldr r0, =0x10900     @ CLONE_VM | CLONE_SIGHAND | CLONE_THREAD
        ldr r1, =stack_top
        mov r2, #0
        mov r3, #0
        mov r4, #0
        mov r7, #120         @ clone
        svc #0
        cmp r0, #0
        beq thread
        mov r7, #158         @ sched_yield: let the thread start looping
        svc #0
        mov r0, #7
        mov r7, #248         @ exit_group(7)
        svc #0
thread: mov r7, #158         @ sched_yield, forever
        svc #0
        b thread
        .ltorg
.bss
        .space 4096
stack_top:
`,
  x86: `.text
_start: movl $0x10900, %ebx  # CLONE_VM | CLONE_SIGHAND | CLONE_THREAD
        movl $stack_top, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        xorl %edi, %edi
        movl $120, %eax      # clone
        int $0x80
        testl %eax, %eax
        jz thread
        movl $158, %eax      # sched_yield: let the thread start looping
        int $0x80
        movl $7, %ebx
        movl $252, %eax      # exit_group(7)
        int $0x80
thread: movl $158, %eax      # sched_yield, forever
        int $0x80
        jmp thread
.bss
        .space 4096
stack_top:
`,
};

describe.each(['arm', 'x86'] as const)('%s: exit_group', (arch) => {
  it('takes the whole thread group down: every thread exits with the group exit code, both are released', () => {
    const r = run(arch, THREAD_GROUP_EXIT[arch]);
    try {
      const k = r.kernel;
      expect(r.stop).toBe('idle');
      expect(r.status).toBe(7);
      const group = k.exits.filter((e) => e.pid === r.pid || e.pid === r.pid! + 1);
      expect(group.map((e) => e.code)).toEqual([7 << 8, 7 << 8]);
      expect(k.pidHash.has(r.pid!)).toBe(false);
      expect(k.pidHash.has(r.pid! + 1)).toBe(false);
      expect(k.execs.get(PROGRAM_PATH)).toBe(r.pid);
    } finally {
      r.kernel.close();
    }
  });
});
