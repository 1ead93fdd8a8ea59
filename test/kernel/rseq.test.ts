// sys_rseq as kernel/rseq.c defines it, on both architectures (ARM nr 398, i386
// nr 386): registration and its errors, cpu_id_start / cpu_id written into the
// user's struct rseq, unregistration, fork (inherits) vs CLONE_VM (does not),
// execve (clears). qemu-user does not implement rseq (it answers -ENOSYS, so that
// glibc leaves it alone): the expected values here come from kernel/rseq.c.
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import { bootProgram, runProgram } from '../../src/kernel/program.js';
import { runKernel } from '../../src/kernel/entry.js';

type A = 'arm' | 'x86';
const NR = { arm: { rseq: 398, exit: 1, vfork: 190, fork: 2, wait4: 114, execve: 11 }, x86: { rseq: 386, exit: 1, vfork: 190, fork: 2, wait4: 114, execve: 11 } };
const SIG = 0x53053053;
const EPERM = -1, EBUSY = -16, EINVAL = -22, EFAULT = -14;

/** An argument: a number, or a data label. */
type Arg = number | string;

function asm(arch: A) {
  const x86 = arch === 'x86';
  const regs = x86 ? ['%ebx', '%ecx', '%edx', '%esi', '%edi'] : ['r0', 'r1', 'r2', 'r3', 'r4'];
  const load = (r: string, a: Arg) => (x86 ? `movl $${typeof a === 'number' ? a : a}, ${r}` : `ldr ${r}, =${a}`);
  return {
    /** A syscall; its result in %eax / r0. */
    sys: (nr: number, ...args: Arg[]) =>
      [...args.map((a, i) => load(regs[i]!, a)), x86 ? `movl $${nr}, %eax\n        int $0x80` : `ldr r7, =${nr}\n        svc #0`].join('\n        '),
    /** Fails with exit(code) unless the syscall result equals v. */
    ret: (v: number, code: number) =>
      x86 ? `movl $${code}, %ebx\n        cmpl $${v}, %eax\n        jne fail` : `ldr r1, =${v}\n        cmp r0, r1\n        movne r0, #${code}\n        bne fail`,
    /** Fails with exit(code) unless the word at label equals v. */
    word: (label: string, off: number, v: number, code: number) =>
      x86
        ? `movl $${code}, %ebx\n        cmpl $${v}, ${label}+${off}\n        jne fail`
        : `ldr r2, =${label}\n        ldr r2, [r2, #${off}]\n        ldr r1, =${v}\n        cmp r2, r1\n        movne r0, #${code}\n        bne fail`,
    exit: (code: number) => (x86 ? `movl $${code}, %ebx\n        jmp fail` : `mov r0, #${code}\n        b fail`),
    fail: x86 ? `fail:   movl $1, %eax\n        int $0x80` : `fail:   mov r7, #1\n        svc #0\n        .ltorg`,
    argc: (second: string) => (x86 ? `cmpl $1, (%esp)\n        jne ${second}` : `ldr r0, [sp]\n        cmp r0, #1\n        bne ${second}`),
    isChild: (label: string) => (x86 ? `testl %eax, %eax\n        jz ${label}` : `cmp r0, #0\n        beq ${label}`),
  };
}

const DATA_ARM = `
        .data
        .p2align 5
rs:     .word 0x55, 0x55, 0, 0, 0, 0, 0, 0
rs2:    .word 0, 0, 0, 0, 0, 0, 0, 0
pad:    .word 0
rsodd:  .word 0, 0, 0, 0, 0, 0, 0, 0, 0
status: .word 0
path:   .asciz "/bin/program"
        .p2align 2
argv:   .word path, path, 0
        .text
_start:`;
/** 32-bit words: `.word` on ARM, `.long` on i386 (where `.word` is 16 bits). */
const data = (arch: A) => (arch === 'x86' ? DATA_ARM.replace(/\.word/g, '.long') : DATA_ARM);

function run(arch: A, body: string) {
  const r = runProgram(kernelArch(arch), assembleProgram(`${data(arch)}\n        ${body}\n${asm(arch).fail}\n`, { arch, fileName: 'rseq.S' }), { budget: 5_000_000 });
  const res = { status: r.status, stop: r.stop, faults: r.kernel.faults };
  r.kernel.close();
  return res;
}

describe.each(['arm', 'x86'] as const)('%s rseq', (arch) => {
  const a = asm(arch);
  const nr = NR[arch];

  it('register, the error cases of kernel/rseq.c, unregister', () => {
    const r = run(arch, [
      a.sys(nr.rseq, 'rs', 32, 0, SIG), a.ret(0, 1),
      a.word('rs', 0, 0, 2), // cpu_id_start = 0
      a.word('rs', 4, 0, 3), // cpu_id = 0 (the only CPU)
      a.sys(nr.rseq, 'rs', 32, 0, SIG), a.ret(EBUSY, 4), // the same again
      a.sys(nr.rseq, 'rs2', 32, 0, SIG), a.ret(EINVAL, 5), // another area while registered
      a.sys(nr.rseq, 'rs', 32, 0, SIG + 1), a.ret(EPERM, 6), // the same area, another signature
      a.sys(nr.rseq, 'rs', 31, 0, SIG), a.ret(EINVAL, 7),
      a.sys(nr.rseq, 'rs', 32, 2, SIG), a.ret(EINVAL, 8), // unknown flag
      a.sys(nr.rseq, 'rs', 32, 1, SIG + 1), a.ret(EPERM, 9), // unregister: signature mismatch
      a.sys(nr.rseq, 'rs2', 32, 1, SIG), a.ret(EINVAL, 10), // unregister: not the registered area
      a.sys(nr.rseq, 'rs', 32, 3, SIG), a.ret(EINVAL, 11), // unregister with another flag
      a.sys(nr.rseq, 'rs', 16, 1, SIG), a.ret(EINVAL, 12), // unregister: wrong length
      a.sys(nr.rseq, 'rs', 32, 1, SIG), a.ret(0, 13),
      a.word('rs', 0, 0, 14),
      a.word('rs', 4, -1, 15), // RSEQ_CPU_ID_UNINITIALIZED
      a.sys(nr.rseq, 'rs', 32, 1, SIG), a.ret(EINVAL, 16), // nothing registered now
      a.sys(nr.rseq, 'rsodd', 32, 0, SIG), a.ret(EINVAL, 17), // not 32-byte aligned
      a.sys(nr.rseq, 'rs', 33, 0, SIG), a.ret(EINVAL, 18),
      a.sys(nr.rseq, 0xc0000000, 32, 0, SIG), a.ret(EFAULT, 19), // access_ok fails: kernel address
      a.sys(nr.rseq, 'rs2', 32, 0, SIG), a.ret(0, 20), // a new registration after unregistering
      a.exit(0),
    ].join('\n        '));
    expect(r.status).toBe(0);
  });

  it('the registration lives in task_struct (rseq, rseq_sig) in guest memory', () => {
    const src = `${data(arch)}\n        ${a.sys(nr.rseq, 'rs', 32, 0, SIG)}\n        ${a.exit(0)}\n${a.fail}\n`;
    const prog = assembleProgram(src, { arch, fileName: 'rseq.S' });
    const k = bootProgram(kernelArch(arch), prog);
    try {
      expect(runKernel(k, { budget: 5_000_000, stopAtPoint: (p, t) => p.fn === 'do_exit' && t.pid === 3 }).kind).toBe('point');
      expect(k.current.v.get('rseq')).toBe(prog.symbols.get('rs'));
      expect(k.current.v.get('rseq_sig')).toBe(SIG);
    } finally {
      k.close();
    }
  });

  it('an unmapped (but user) address registers, and the cpu_id update on the way out is fatal: SIGSEGV (force_sigsegv)', () => {
    const r = run(arch, [a.sys(nr.rseq, 0x40000000, 32, 0, SIG), a.exit(0)].join('\n        '));
    expect(r.status).toBe(139);
    expect(r.faults[0]?.addr).toBe(0x40000000);
  });

  it('fork: the child inherits the registration (registering the same area again is EBUSY)', () => {
    const r = run(arch, [
      a.sys(nr.rseq, 'rs', 32, 0, SIG), a.ret(0, 1),
      a.sys(nr.fork), a.isChild('child'),
      a.sys(nr.wait4, -1, 'status', 0, 0),
      a.word('status', 0, 40 << 8, 2), // the child exited 40
      a.exit(0),
      'child:',
      a.sys(nr.rseq, 'rs', 32, 0, SIG), a.ret(EBUSY, 3),
      a.sys(nr.rseq, 'rs', 32, 1, SIG), a.ret(0, 4), // and the child may unregister it
      a.exit(40),
    ].join('\n        '));
    expect(r.status).toBe(0);
  });

  it('CLONE_VM (vfork): the child starts unregistered (rseq_fork)', () => {
    const r = run(arch, [
      a.sys(nr.rseq, 'rs', 32, 0, SIG), a.ret(0, 1),
      a.sys(nr.vfork), a.isChild('child'),
      a.sys(nr.wait4, -1, 'status', 0, 0),
      a.word('status', 0, 41 << 8, 2),
      a.sys(nr.rseq, 'rs', 32, 0, SIG), a.ret(EBUSY, 5), // the parent's registration is untouched
      a.exit(0),
      'child:',
      a.sys(nr.rseq, 'rs', 32, 1, SIG), a.ret(EINVAL, 3), // nothing to unregister
      a.sys(nr.rseq, 'rs2', 32, 0, SIG), a.ret(0, 4), // free to register its own
      a.exit(41),
    ].join('\n        '));
    expect(r.status).toBe(0);
  });

  it('execve clears the registration (rseq_execve)', () => {
    const r = run(arch, [
      a.argc('second'),
      a.sys(nr.rseq, 'rs', 32, 0, SIG), a.ret(0, 1),
      a.sys(nr.execve, 'path', 'argv', 0),
      a.exit(2),
      'second:',
      a.sys(nr.rseq, 'rs', 32, 1, SIG), a.ret(EINVAL, 3), // not registered in the new image
      a.sys(nr.rseq, 'rs', 32, 0, SIG), a.ret(0, 4),
      a.exit(0),
    ].join('\n        '));
    expect(r.status).toBe(0);
  });
});
