// Deterministic preemption: the timer interrupt fires every `timeslice` guest
// instructions; a busy user task is interrupted through the arch's real IRQ
// entry (vector_irq → __irq_usr / irq0_interrupt → common_interrupt), do_IRQ
// runs scheduler_tick, and the return-to-user path schedules another task.
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import { runProgram } from '../../src/kernel/program.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { qemuAvailable, runUnderQemu } from '../support/qemu-user.js';

type A = 'arm' | 'x86';
const TICK = 200_000;
const LOOPS = 1_000_000; // two instructions per iteration: ~10 ticks per task

/** fork; parent and child each count down LOOPS without a syscall, then the child exits 9 and the parent waits and exits 5. */
const BUSY: Record<A, string> = {
  arm: `.text
_start: mov r7, #2           @ fork
        svc #0
        cmp r0, #0
        beq child
        ldr r4, =${LOOPS}
1:      subs r4, r4, #1
        bne 1b
        mov r0, #0
        ldr r1, =status
        mov r2, #0
        mov r3, #0
        mov r7, #114         @ wait4(0, &status, 0, 0)
        svc #0
        ldr r1, =status
        ldr r0, [r1]
        lsr r0, r0, #8       @ exit(WEXITSTATUS(status))
        mov r7, #248
        svc #0
child:  ldr r4, =${LOOPS}
2:      subs r4, r4, #1
        bne 2b
        mov r0, #9
        mov r7, #248
        svc #0
        .ltorg
.data
status: .word 0
`,
  x86: `.text
_start: movl $2, %eax        # fork
        int $0x80
        testl %eax, %eax
        jz child
        movl $${LOOPS}, %esi
1:      decl %esi
        jnz 1b
        xorl %ebx, %ebx
        movl $status, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        movl $114, %eax      # wait4(0, &status, 0, 0)
        int $0x80
        movl status, %ebx
        shrl $8, %ebx        # exit(WEXITSTATUS(status))
        movl $252, %eax
        int $0x80
child:  movl $${LOOPS}, %esi
2:      decl %esi
        jnz 2b
        movl $9, %ebx
        movl $252, %eax
        int $0x80
.data
status: .long 0
`,
};

function run(arch: A) {
  const r = runProgram(kernelArch(arch), assembleProgram(BUSY[arch], { arch, fileName: 'busy.S' }), { budget: 20_000_000, keepTrace: true, timeslice: TICK });
  const events = r.kernel.trace.events.slice();
  const out = { status: r.status, pid: r.pid!, events };
  r.kernel.close();
  return out;
}

const ev = (events: TraceEvent[], name: string) => events.filter((e): e is Extract<TraceEvent, { t: 'event' }> => e.t === 'event' && e.name === name);

describe.each(['arm', 'x86'] as const)('%s: preemption by the timer tick', (arch) => {
  it('two busy tasks share the CPU: each is preempted (prev_state R) at ticks, alternately, and both finish', () => {
    const r = run(arch);
    expect(r.status).toBe(9);
    const parent = r.pid, child = r.pid + 1;
    const irqs = ev(r.events, 'irq_handler_entry');
    expect(irqs.length).toBeGreaterThan(0);
    // Involuntary switches (prev still runnable) after the first tick; the one before it is fork's child-runs-first.
    const switches = ev(r.events, 'sched_switch').filter((e) => e.fields.prev_state === 'R' && e.ts >= irqs[0]!.ts && [parent, child].includes(e.fields.prev_pid as number));
    const fromParent = switches.filter((e) => e.fields.prev_pid === parent && e.fields.next_pid === child);
    const fromChild = switches.filter((e) => e.fields.prev_pid === child && e.fields.next_pid === parent);
    // Each task needs ~2M instructions, 10 ticks of 200k: both are preempted several times.
    expect(fromParent.length).toBeGreaterThanOrEqual(3);
    expect(fromChild.length).toBeGreaterThanOrEqual(3);
    // Every involuntary switch follows a timer interrupt taken in user mode within the same tick period.
    for (const s of switches) {
      const irq = irqs.filter((i) => i.ts <= s.ts).at(-1)!;
      expect(irq).toBeDefined();
      expect(Math.floor(irq.ts / TICK)).toBe(Math.floor(s.ts / TICK));
    }
    // Ticks fire at the programmed period: each interrupt is taken just after a multiple of TICK
    // (the kernel's entry asm runs a few dozen instructions before do_IRQ).
    for (const i of irqs) expect(i.ts % TICK).toBeLessThan(100);
    // The preempted tasks alternate.
    const order = switches.map((s) => s.fields.prev_pid);
    for (let i = 1; i < Math.min(order.length, 6); i++) expect(order[i]).not.toBe(order[i - 1]);
  });

  it('is deterministic: the same program gives the same event stream, instruction for instruction', () => {
    const a = run(arch);
    const b = run(arch);
    expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
  });
});

/**
 * Every register survives the interrupt, the switch to another task and the
 * way back: parent and child both churn all general registers (and the
 * flags, and the stack) for many ticks, then write them out. The reference is
 * the same program with the timer off (no preemption at all).
 */
const CHURN: Record<A, string> = {
  arm: `.text
_start: mov r7, #2           @ fork
        svc #0
        mov r11, r0          @ 0 in the child
        mov r1, #1
        mov r2, #2
        mov r3, #3
        mov r4, #4
        mov r5, #5
        mov r6, #6
        mov r7, #7
        mov r8, #8
        mov r9, #9
        mov r10, #10
        mov r12, #12
        ldr r0, =300000
1:      add r1, r1, r12
        add r2, r2, r1, ror #7
        eor r3, r3, r2
        add r4, r4, r3, lsl #1
        sub r5, r5, r4
        eor r6, r6, r5, ror #13
        add r7, r7, r6
        add r8, r8, r7, lsr #3
        eor r9, r9, r8
        add r10, r10, r9
        adds r12, r12, r10   @ carry chain across the loop
        adc r12, r12, #0
        push {r1}
        pop {r1}
        subs r0, r0, #1
        bne 1b
        ldr r0, =out
        stmia r0, {r1 - r10, r12}
        cmp r11, #0
        beq 2f
        mov r0, #0
        mov r1, #0
        mov r2, #0
        mov r3, #0
        mov r7, #114         @ wait4(-1 … ): the child writes first
        mvn r0, #0
        svc #0
2:      mov r0, #1
        ldr r1, =out
        mov r2, #44
        mov r7, #4           @ write(1, out, 44)
        svc #0
        mov r0, #0
        mov r7, #248
        svc #0
        .ltorg
.bss
out:    .space 44
`,
  x86: `.text
_start: movl $2, %eax        # fork
        int $0x80
        movl %eax, child
        movl $1, %eax
        movl $2, %ebx
        movl $3, %ecx
        movl $4, %edx
        movl $5, %esi
        movl $6, %edi
        movl $7, %ebp
        movl $300000, count
1:      addl %ebp, %eax
        roll $7, %eax
        addl %eax, %ebx
        xorl %ebx, %ecx
        leal (%edx,%ecx,2), %edx
        subl %edx, %esi
        rorl $13, %esi
        xorl %esi, %edi
        addl %edi, %ebp
        adcl $0, %eax        # carry chain across the loop
        pushl %eax
        popl %eax
        decl count
        jnz 1b
        movl %eax, out
        movl %ebx, out+4
        movl %ecx, out+8
        movl %edx, out+12
        movl %esi, out+16
        movl %edi, out+20
        movl %ebp, out+24
        cmpl $0, child
        je 2f
        movl $-1, %ebx
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        movl $114, %eax      # wait4(-1, 0, 0, 0): the child writes first
        int $0x80
2:      movl $1, %ebx
        movl $out, %ecx
        movl $28, %edx
        movl $4, %eax        # write(1, out, 28)
        int $0x80
        xorl %ebx, %ebx
        movl $252, %eax
        int $0x80
.bss
child:  .space 4
count:  .space 4
out:    .space 28
`,
};

function churn(arch: A, timeslice: number) {
  const r = runProgram(kernelArch(arch), assembleProgram(CHURN[arch], { arch, fileName: 'churn.S' }), { budget: 40_000_000, keepTrace: true, timeslice });
  const out = Buffer.concat(r.kernel.output.filter((o) => o.fd === 1).map((o) => Buffer.from(o.data))).toString('hex');
  const preempted = ev(r.kernel.trace.events, 'sched_switch').filter((e) => e.fields.prev_state === 'R' && e.fields.prev_pid as number >= r.pid!).length;
  const res = { status: r.status, out, preempted };
  r.kernel.close();
  return res;
}

describe.each(['arm', 'x86'] as const)('%s: user state across preemption', (arch) => {
  it('registers, flags and stack come back intact: the output equals the run without a timer', () => {
    const ticking = churn(arch, 150_000);
    const reference = churn(arch, 1e12);
    expect(ticking.status).toBe(0);
    expect(reference.status).toBe(0);
    expect(ticking.preempted).toBeGreaterThanOrEqual(6);
    expect(reference.preempted).toBeLessThanOrEqual(1); // only fork's child-runs-first
    expect(ticking.out.length).toBe(2 * (arch === 'arm' ? 44 : 28) * 2);
    expect(ticking.out).toBe(reference.out);
  });

  it('and the output is what the same program prints under qemu-user on a real kernel', () => {
    if (!qemuAvailable(arch, 'the preemption register check')) return;
    const q = runUnderQemu(arch, CHURN[arch]);
    expect(q.status).toBe(0);
    expect(churn(arch, 150_000).out).toBe(q.stdout.toString('hex'));
  });
});
