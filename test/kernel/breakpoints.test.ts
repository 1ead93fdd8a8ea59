// runKernel's guest breakpoints, as a debugger's `continue` uses them: resuming
// from a breakpoint executes that instruction and runs on, so a breakpoint in a
// loop stops once per pass (also at an odd i386 address).
import { describe, expect, it } from 'vitest';
import { ARCHES, nr, programExit, programTask, runToBreakpoint, runToIdle, sym, withBoot, type Arch } from './helpers.js';

const PASSES = 3;

function program(arch: Arch): string {
  if (arch === 'arm') return `.text
_start: mov r4, #0
loop:   mov r7, #${nr(arch, 'getpid')}
body:   svc #0                      @ the breakpoint: a syscall instruction
        add r4, r4, #1
        cmp r4, #${PASSES}
        bne loop
        mov r0, r4
        mov r7, #${nr(arch, 'exit_group')}
        svc #0`;
  return `.text
_start: xorl %esi, %esi
loop:   movl $${nr(arch, 'getpid')}, %eax   # 5 bytes: body is at an odd address
body:   int $0x80                   # the breakpoint: a syscall instruction
        incl %esi
        cmpl $${PASSES}, %esi
        jne loop
        movl %esi, %ebx
        movl $${nr(arch, 'exit_group')}, %eax
        int $0x80`;
}

describe.each(ARCHES)('%s breakpoints', (arch) => {
  it('continuing from a breakpoint runs on: a breakpoint in a loop stops once per pass', () => {
    withBoot(arch, program(arch), {}, ({ k, img }) => {
      const body = sym(img, 'body');
      if (arch === 'x86') expect(body & 1).toBe(1);
      const stops: number[] = [];
      for (let i = 0; i < PASSES; i++) {
        const hit = runToBreakpoint(k, body);
        expect(hit.pc).toBe(body);
        expect(hit.task.pid).toBe(programTask(k).pid);
        stops.push(k.now);
      }
      for (let i = 1; i < stops.length; i++) expect(stops[i]!).toBeGreaterThan(stops[i - 1]!);
      runToIdle(k);
      expect(programExit(k)).toBe(PASSES << 8);
    });
  });
});
