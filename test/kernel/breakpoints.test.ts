// runKernel's guest breakpoints, as a debugger's `continue` uses them: resuming
// from a breakpoint executes that instruction and runs on, so a breakpoint in a
// loop stops once per pass (also at an odd i386 address), and so does one on
// the instruction a syscall returns to.
import { describe, expect, it } from 'vitest';
import { ARCHES, nr, programExit, programTask, runToBreakpoint, runToIdle, sym, withBoot, type Arch } from './helpers.js';

const PASSES = 3;

function program(arch: Arch): string {
  if (arch === 'arm') return `.text
_start: mov r4, #0
loop:   mov r7, #${nr(arch, 'getpid')}
body:   svc #0                      @ the breakpoint: a syscall instruction
after:  add r4, r4, #1               @ reached by returning from the kernel
        cmp r4, #${PASSES}
        bne loop
        mov r0, r4
        mov r7, #${nr(arch, 'exit_group')}
        svc #0`;
  return `.text
_start: xorl %esi, %esi
loop:   movl $${nr(arch, 'getpid')}, %eax   # 5 bytes: body is at an odd address
body:   int $0x80                   # the breakpoint: a syscall instruction
after:  incl %esi                   # reached by returning from the kernel
        cmpl $${PASSES}, %esi
        jne loop
        movl %esi, %ebx
        movl $${nr(arch, 'exit_group')}, %eax
        int $0x80`;
}

describe.each(ARCHES)('%s breakpoints', (arch) => {
  it('continuing from a breakpoint runs on: breakpoints in a loop stop once per pass, in program order', () => {
    withBoot(arch, program(arch), {}, ({ k, img }) => {
      const body = sym(img, 'body');
      const after = sym(img, 'after');
      if (arch === 'x86') expect(body & 1).toBe(1);
      const stops: number[] = [];
      for (let i = 0; i < PASSES; i++) {
        for (const want of [body, after]) {
          const hit = runToBreakpoint(k, body, after);
          expect(hit.pc).toBe(want);
          expect(hit.task.pid).toBe(programTask(k).pid);
          stops.push(k.now);
        }
      }
      for (let i = 1; i < stops.length; i++) expect(stops[i]!).toBeGreaterThan(stops[i - 1]!);
      runToIdle(k);
      expect(programExit(k)).toBe(PASSES << 8);
    });
  });
});
