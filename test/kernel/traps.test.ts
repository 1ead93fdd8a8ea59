// A guest crash is a guest signal: each CPU exception a user program raises
// ends it with the signal Linux's trap handlers send — checked against the
// same program under qemu-user on the host's real kernel.
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import { runProgram } from '../../src/kernel/program.js';
import { qemuAvailable, runUnderQemu } from '../support/qemu-user.js';

type A = 'arm' | 'x86';
const SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGSEGV = 11;

const CASES: { arch: A; what: string; src: string; sig: number }[] = [
  { arch: 'x86', what: 'idiv by zero (#DE)', sig: SIGFPE, src: '.text\n_start: movl $0, %ecx\n movl $5, %eax\n cltd\n idivl %ecx\n' },
  { arch: 'x86', what: 'ud2 (#UD)', sig: SIGILL, src: '.text\n_start: ud2\n' },
  { arch: 'x86', what: 'int3 (#BP)', sig: SIGTRAP, src: '.text\n_start: int3\n' },
  { arch: 'x86', what: 'hlt, privileged (#GP)', sig: SIGSEGV, src: '.text\n_start: hlt\n' },
  { arch: 'arm', what: 'udf (undefined instruction)', sig: SIGILL, src: '.text\n_start: udf #0\n' },
  { arch: 'arm', what: 'bkpt', sig: SIGTRAP, src: '.text\n_start: bkpt #0\n' },
];

describe('user-mode CPU exceptions become the signals Linux sends', () => {
  it.each(CASES)('$arch: $what → signal $sig', ({ arch, src, sig }) => {
    const r = runProgram(kernelArch(arch), assembleProgram(src, { arch, fileName: 'trap.S' }), { budget: 100_000 });
    try {
      expect(r.signal).toBe(sig);
      expect(r.status).toBe(128 + sig);
    } finally {
      r.kernel.close();
    }
    if (qemuAvailable(arch, 'the trap signals')) expect(runUnderQemu(arch, src).status).toBe(128 + sig);
  });
});
