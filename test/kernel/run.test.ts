// User programs under the modelled kernel, both architectures: output, exit
// status, pids, faults as signals, -ENOSYS.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { assembleProgram } from '../../src/machine/gas/index.js';
import { runProgram } from '../../src/kernel/program.js';

type A = 'arm' | 'x86';
function run(arch: A, src: string) {
  const r = runProgram(kernelArch(arch), assembleProgram(src, { arch, fileName: 'test.S' }), { budget: 5_000_000 });
  const out = r.kernel.output.filter((o) => o.fd === 1).map((o) => new TextDecoder().decode(o.data)).join('');
  const res = { status: r.status, out, signal: r.signal, pid: r.pid, stop: r.stop, faults: r.kernel.faults };
  r.kernel.close();
  return res;
}

const SRC: Record<A, Record<string, string>> = {
  arm: {
    hello: readFileSync('examples/hello-arm.S', 'utf8'),
    pids: `.text
_start: mov r7, #20
        svc #0            @ getpid
        mov r4, r0
        mov r7, #64
        svc #0            @ getppid
        add r0, r0, r4, lsl #4   @ exit(ppid + 16 * pid)
        mov r7, #1
        svc #0`,
    kread: `.text
_start: ldr r0, =0xc0000000
        ldr r1, [r0]
        mov r7, #1
        svc #0
        .ltorg`,
    textwrite: `.text
_start: adr r0, _start
        str r0, [r0]
        mov r7, #1
        svc #0`,
    enosys: `.text
_start: ldr r7, =0x3e7      @ 999: no such syscall
        svc #0
        rsb r0, r0, #0       @ exit(-ret) = exit(38)
        mov r7, #1
        svc #0
        .ltorg`,
  },
  x86: {
    hello: readFileSync('examples/hello-x86.S', 'utf8'),
    pids: `.text
_start: movl $20, %eax
        int $0x80          # getpid
        movl %eax, %esi
        movl $64, %eax
        int $0x80          # getppid
        shll $4, %esi
        addl %esi, %eax
        movl %eax, %ebx    # exit(ppid + 16 * pid)
        movl $1, %eax
        int $0x80`,
    kread: `.text
_start: movl 0xc0000000, %eax
        movl $1, %eax
        int $0x80`,
    textwrite: `.text
_start: movl $_start, %eax
        movl %eax, (%eax)
        movl $1, %eax
        int $0x80`,
    enosys: `.text
_start: movl $999, %eax
        int $0x80
        negl %eax
        movl %eax, %ebx
        movl $1, %eax
        int $0x80`,
  },
};

describe.each(['arm', 'x86'] as const)('%s user programs under the kernel', (arch) => {
  it('writes "hello\\n" and exits 3', () => {
    const r = run(arch, SRC[arch].hello);
    expect(r.out).toBe('hello\n');
    expect(r.status).toBe(3);
  });

  it('runs as pid 3, a child of init (ppid 1)', () => {
    const r = run(arch, SRC[arch].pids);
    expect(r.pid).toBe(3);
    const status = r.status;
    expect(status & 0xf).toBe(1); // ppid
    expect(status >> 4).toBeGreaterThanOrEqual(3); // pid
  });

  it('a load from 0xC0000000 is SIGSEGV (139), and the next run works', () => {
    const r = run(arch, SRC[arch].kread);
    expect(r.status).toBe(139);
    expect(r.faults[0]?.addr).toBe(0xc0000000);
    expect(run(arch, SRC[arch].hello).status).toBe(3);
  });

  it('a store to its own read-only text is SIGSEGV (139)', () => {
    expect(run(arch, SRC[arch].textwrite).status).toBe(139);
  });

  it('an unknown syscall returns -ENOSYS (-38)', () => {
    expect(run(arch, SRC[arch].enosys).status).toBe(38);
  });
});

describe('anonymous mmap and brk', () => {
  it('ARM: mmap2 an anonymous page, store and load through it (demand-zero), grow brk', () => {
    const r = run('arm', `.text
_start: mov r0, #0
        mov r1, #4096
        mov r2, #3          @ PROT_READ|PROT_WRITE
        mov r3, #0x22       @ MAP_PRIVATE|MAP_ANONYMOUS
        mvn r4, #0
        mov r5, #0
        mov r7, #192        @ mmap2
        svc #0
        ldr r1, [r0]        @ a fresh page reads as zero
        add r1, r1, #7
        str r1, [r0, #8]
        ldr r6, [r0, #8]
        mov r0, #0
        mov r7, #45         @ brk(0): current break
        svc #0
        add r0, r0, #8192
        mov r7, #45         @ brk(+8 KiB)
        svc #0
        mov r1, #5
        str r1, [r0, #-4]   @ the new heap is writable
        ldr r2, [r0, #-4]
        add r0, r6, r2      @ exit(7 + 5)
        mov r7, #1
        svc #0`);
    expect(r.status).toBe(12);
  });
});
