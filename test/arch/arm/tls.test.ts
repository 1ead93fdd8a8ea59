// ARM TLS under the modelled kernel: the private syscall set_tls (0xf0005) and
// CLONE_SETTLS set thread_info.tp_value and TPIDRURO; user code reads it with
// `mrc p15, 0, rX, c13, c0, 3` and through the kuser helper __kuser_get_tls
// (0xffff0fe0). Per thread, inherited by fork, cleared by execve (flush_thread).
// Where qemu-arm runs the same source (GNU as + ld), the exit statuses must agree.
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../../src/arch/kernel-arch.js';
import { assembleProgram } from '../../../src/machine/gas/index.js';
import { bootProgram, runProgram } from '../../../src/kernel/program.js';
import { runKernel } from '../../../src/kernel/entry.js';
import { threadInfo } from '../../../src/arch/arm/layout.js';
import { StructView } from '../../../src/machine/struct.js';
import { qemuAvailable, runUnderQemu } from '../../support/qemu-user.js';

function run(src: string) {
  const r = runProgram(kernelArch('arm'), assembleProgram(src, { arch: 'arm', fileName: 'tls.S' }), { budget: 5_000_000 });
  const res = { status: r.status, stop: r.stop, faults: r.kernel.faults };
  r.kernel.close();
  return res;
}

function runBoth(src: string, want: number, what: string): void {
  const r = run(src);
  expect(r.stop).toBe('idle');
  expect(r.status).toBe(want);
  if (qemuAvailable('arm', what)) expect(runUnderQemu('arm', src).status).toBe(want);
}

/** r0 = TPIDRURO + __kuser_get_tls() (clobbers r0, r3, r5, lr). */
const READ_BOTH = `
        mrc     p15, 0, r5, c13, c0, 3  @ TPIDRURO
        ldr     r3, =0xffff0fe0         @ __kuser_get_tls
        blx     r3
        add     r0, r0, r5`;

describe('ARM TLS', () => {
  it('set_tls (0xf0005): TPIDRURO and __kuser_get_tls both return it (= qemu-arm)', () => {
    runBoth(`
        .global _start
        .text
_start: mov     r0, #0x15
        ldr     r7, =0xf0005            @ __ARM_NR_set_tls
        svc     #0
        mov     r4, r0                  @ 0
        ${READ_BOTH}
        add     r0, r0, r4              @ exit(0x15 + 0x15 + 0)
        mov     r7, #1
        svc     #0
        .ltorg`, 0x2a, 'set_tls');
  });

  it('set_tls stores thread_info.tp_value in guest memory', () => {
    const k = bootProgram(kernelArch('arm'), assembleProgram(`
        .text
_start: ldr     r0, =0xb6fff4c0
        ldr     r7, =0xf0005
        svc     #0
        mov     r7, #1
        svc     #0
        .ltorg`, { arch: 'arm', fileName: 'tls.S' }));
    try {
      expect(runKernel(k, { budget: 5_000_000, stopAtPoint: (p, t) => p.fn === 'do_exit' && t.pid === 3 }).kind).toBe('point');
      expect(new StructView(k.mem, threadInfo, k.current.tiPa).get('tp_value')).toBe(0xb6fff4c0);
    } finally {
      k.close();
    }
  });

  it('a fork child inherits the TLS value (= qemu-arm)', () => {
    runBoth(`
        .global _start
        .data
        .align 2
status: .word 0
        .text
_start: mov     r0, #0x10
        ldr     r7, =0xf0005
        svc     #0
        mov     r7, #2                  @ fork
        svc     #0
        cmp     r0, #0
        bne     parent
        ${READ_BOTH}
        add     r0, r0, #1              @ the child: exit(0x10 + 0x10 + 1)
        mov     r7, #1
        svc     #0
parent: ldr     r1, =status             @ wait4(child, &status, 0, NULL)
        mov     r2, #0
        mov     r3, #0
        mov     r7, #114
        svc     #0
        ldr     r1, =status
        ldrb    r0, [r1, #1]            @ the child's exit code (33)
        mov     r7, #1
        svc     #0
        .ltorg`, 33, 'TLS across fork');
  });

  it('CLONE_SETTLS gives each thread its own TLS value (TPIDRURO and the kuser word are switched with the thread) (= qemu-arm)', () => {
    // clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|
    //       CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID): glibc's pthread_create flags.
    runBoth(`
        .global _start
        .data
        .align 2
tid:    .word 0
seen:   .word 0
        .bss
        .align 3
stack:  .space 4096
stacktop:
        .text
_start: mov     r0, #0x20
        ldr     r7, =0xf0005            @ the main thread's TLS: 0x20
        svc     #0
        ldr     r0, =0x003d0f00
        ldr     r1, =stacktop
        ldr     r2, =tid
        mov     r3, #0x03               @ the thread's TLS: 3
        ldr     r4, =tid
        mov     r7, #120                @ clone
        svc     #0
        cmp     r0, #0
        beq     thread
wait:   ldr     r0, =tid                @ futex(&tid, FUTEX_WAIT, tid) until the thread's exit clears it
        ldr     r2, [r0]
        cmp     r2, #0
        beq     done
        mov     r1, #0
        mov     r3, #0
        mov     r7, #240
        svc     #0
        b       wait
done:   ${READ_BOTH}
        ldr     r1, =seen
        ldr     r1, [r1]
        add     r0, r0, r1              @ exit(0x20 + 0x20 + 3 + 3)
        mov     r7, #1
        svc     #0
thread: ${READ_BOTH}
        ldr     r1, =seen
        str     r0, [r1]
        mov     r0, #0
        mov     r7, #1                  @ exit: this thread only
        svc     #0
        .ltorg`, 0x46, 'CLONE_SETTLS threads');
  });

  it('execve clears the TLS value (flush_thread → flush_tls)', () => {
    const r = run(`
        .data
path:   .asciz  "/bin/program"
        .align 2
argv:   .word   path, path, 0
        .text
_start: ldr     r0, [sp]                @ argc: 1 the first time, 2 after the exec
        cmp     r0, #1
        bne     second
        ldr     r0, =0x1234
        ldr     r7, =0xf0005
        svc     #0
        ldr     r0, =path
        ldr     r1, =argv
        mov     r2, #0
        mov     r7, #11                 @ execve("/bin/program", {path, path}, NULL)
        svc     #0
        mov     r0, #99
        mov     r7, #1
        svc     #0
second: ${READ_BOTH}
        add     r0, r0, #7              @ exit(0 + 0 + 7)
        mov     r7, #1
        svc     #0
        .ltorg`);
    expect(r.status).toBe(7);
  });
});
