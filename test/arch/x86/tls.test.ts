// i386 TLS under the modelled kernel: set_thread_area / get_thread_area on a real
// struct user_desc (arch/x86/kernel/tls.c), %gs loads from user mode, fork,
// CLONE_SETTLS threads, execve's flush_thread — and the GDT never readable by user
// code. Where qemu-user implements the same semantics, the same source is built
// with GNU as + ld and run under qemu-i386, and the exit statuses must agree.
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../../src/arch/kernel-arch.js';
import { assembleProgram } from '../../../src/machine/gas/index.js';
import { bootProgram, runProgram } from '../../../src/kernel/program.js';
import { runKernel } from '../../../src/kernel/entry.js';
import { GDT_ENTRY_TLS_MIN, fillLdt, flatTlsDesc, threadStructLayout } from '../../../src/arch/x86/layout.js';
import type { X86CpuOps } from '../../../src/arch/x86/ops.js';
import { PAGE_OFFSET } from '../../../src/arch/types.js';
import { qemuAvailable, runUnderQemu } from '../../support/qemu-user.js';

function run(src: string, inspect?: (k: ReturnType<typeof runProgram>['kernel']) => void) {
  const r = runProgram(kernelArch('x86'), assembleProgram(src, { arch: 'x86', fileName: 'tls.S' }), { budget: 5_000_000 });
  try {
    inspect?.(r.kernel);
    return { status: r.status, stop: r.stop, faults: r.kernel.faults };
  } finally {
    r.kernel.close();
  }
}

/** Runs under trapdoor and (if installed) qemu-i386; both must exit with `want`. */
function runBoth(src: string, want: number, what: string): void {
  const r = run(src);
  expect(r.stop).toBe('idle');
  expect(r.status).toBe(want);
  if (qemuAvailable('x86', what)) expect(runUnderQemu('x86', src).status).toBe(want);
}

// user_desc flags: seg_32bit 1, contents << 1, read_exec_only 8, limit_in_pages 16, seg_not_present 32, useable 64.
// 0x51 = glibc's TLS descriptor (32-bit, 4 KiB pages, useable); 0x28 = LDT_empty's flags.

const EXIT = `
fail:   movl $1, %eax           # exit(%ebx): %ebx names the failed check
        int $0x80`;

describe('set_thread_area and %gs', () => {
  it('entry_number -1 picks GDT entry 6 and writes it back; mov, pop and lgs load %gs and %gs:0 reads the block (= qemu-i386)', () => {
    runBoth(`
        .global _start
        .data
        .align 4
block:  .long 0x2a, 0x11, 0x5
udesc:  .long -1, block, 0xfffff, 0x51
farp:   .long 0
        .word 0x33
        .text
_start: movl $243, %eax         # set_thread_area(&udesc)
        movl $udesc, %ebx
        int $0x80
        movl $101, %ebx
        testl %eax, %eax
        jnz fail
        movl $102, %ebx
        cmpl $6, udesc          # the chosen entry, written back
        jne fail
        movw $((6<<3)|3), %ax   # GDT entry 6, RPL 3
        movw %ax, %gs
        movl %gs:0, %esi        # 0x2a
        movw $0, %ax
        movw %ax, %gs           # a null selector: no descriptor read at all
        pushl $0x33
        popl %gs
        addl %gs:4, %esi        # + 0x11
        movw $0, %ax
        movw %ax, %gs
        lgs farp, %ecx          # far pointer: offset into %ecx, selector into %gs
        addl %gs:8, %esi        # + 5
        movl %esi, %ebx         # exit(0x40)
        jmp fail
${EXIT}`, 0x40, 'set_thread_area + %gs');
  });

  it('get_thread_area returns the descriptor as a user_desc; bad entry numbers are EINVAL, bad pointers EFAULT (= qemu-i386)', () => {
    runBoth(`
        .global _start
        .data
        .align 4
udesc:  .long 7, 0x12345678, 0xabcde, 0x51
out:    .long 7, 0, 0, 0
bad:    .long 5, 0, 0, 0x51
        .text
_start: movl $243, %eax
        movl $udesc, %ebx
        int $0x80
        movl $1, %ebx
        testl %eax, %eax
        jnz fail
        movl $244, %eax         # get_thread_area(&out), out.entry_number = 7
        movl $out, %ebx
        int $0x80
        movl $2, %ebx
        testl %eax, %eax
        jnz fail
        movl $3, %ebx
        cmpl $7, out
        jne fail
        movl $4, %ebx
        cmpl $0x12345678, out+4
        jne fail
        movl $5, %ebx
        cmpl $0xabcde, out+8
        jne fail
        movl $6, %ebx
        cmpl $0x51, out+12
        jne fail
        movl $243, %eax         # entry 5: not a TLS slot
        movl $bad, %ebx
        int $0x80
        movl $7, %ebx
        cmpl $-22, %eax
        jne fail
        movl $9, bad            # entry 9: past the last TLS slot
        movl $243, %eax
        movl $bad, %ebx
        int $0x80
        movl $8, %ebx
        cmpl $-22, %eax
        jne fail
        movl $244, %eax
        movl $bad, %ebx
        int $0x80
        movl $9, %ebx
        cmpl $-22, %eax
        jne fail
        movl $243, %eax         # NULL user_desc
        movl $0, %ebx
        int $0x80
        movl $10, %ebx
        cmpl $-14, %eax
        jne fail
        movl $244, %eax
        movl $0xc0000000, %ebx  # a kernel address
        int $0x80
        movl $11, %ebx
        cmpl $-14, %eax
        jne fail
        movl $0, %ebx
${EXIT}`, 0, 'get_thread_area');
  });

  it("Linux's checks (tls.c; qemu-user accepts these): 16-bit, code and not-present descriptors are EINVAL, a full table ESRCH; LDT_empty and LDT_zero clear a slot", () => {
    const r = run(`
        .data
        .align 4
d16:    .long 6, 0x1000, 0xfff, 0x50    # seg_32bit = 0
dcode:  .long 6, 0x1000, 0xfff, 0x55    # contents = 2: code
dnp:    .long 6, 0x1000, 0xfff, 0x71    # seg_not_present
anyd:   .long -1, 0x1000, 0xfff, 0x51
empty:  .long 7, 0, 0, 0x28             # LDT_empty
zero:   .long 8, 0, 0, 0                # LDT_zero
out:    .long 7, 0, 0, 0
        .text
_start: movl $243, %eax
        movl $d16, %ebx
        int $0x80
        movl $1, %ebx
        cmpl $-22, %eax
        jne fail
        movl $243, %eax
        movl $dcode, %ebx
        int $0x80
        movl $2, %ebx
        cmpl $-22, %eax
        jne fail
        movl $243, %eax
        movl $dnp, %ebx
        int $0x80
        movl $3, %ebx
        cmpl $-22, %eax
        jne fail
        movl $3, %esi           # fill slots 6, 7, 8
again:  movl $-1, anyd
        movl $243, %eax
        movl $anyd, %ebx
        int $0x80
        movl $4, %ebx
        testl %eax, %eax
        jnz fail
        decl %esi
        jnz again
        movl $-1, anyd          # no free slot left: ESRCH
        movl $243, %eax
        movl $anyd, %ebx
        int $0x80
        movl $5, %ebx
        cmpl $-3, %eax
        jne fail
        movl $6, %ebx
        cmpl $-1, anyd          # nothing written back on failure
        jne fail
        movl $243, %eax         # clear slot 7 (LDT_empty) and slot 8 (LDT_zero)
        movl $empty, %ebx
        int $0x80
        movl $7, %ebx
        testl %eax, %eax
        jnz fail
        movl $243, %eax
        movl $zero, %ebx
        int $0x80
        movl $8, %ebx
        testl %eax, %eax
        jnz fail
        movl $244, %eax         # an empty slot reads back as LDT_empty: flags 0x28
        movl $out, %ebx
        int $0x80
        movl $9, %ebx
        cmpl $0x28, out+12
        jne fail
        movl $0, %ebx
${EXIT}`);
    expect(r.status).toBe(0);
  });

  it('the descriptor lands in thread.tls_array and, for the running task, in the GDT at once (load_TLS)', () => {
    const k = bootProgram(kernelArch('x86'), assembleProgram(`
        .data
        .align 4
udesc:  .long -1, 0x12345678, 0xfffff, 0x51
        .text
_start: movl $243, %eax
        movl $udesc, %ebx
        int $0x80
        movl $1, %eax
        int $0x80`, { arch: 'x86', fileName: 'tls.S' }));
    try {
      const stop = runKernel(k, { budget: 5_000_000, stopAtPoint: (p, t) => p.fn === 'do_exit' && t.pid === 3 });
      expect(stop.kind).toBe('point');
      const t = k.current;
      const at = t.threadPa + threadStructLayout.offsetOf('tls_array');
      const slots = Array.from({ length: 6 }, (_, i) => k.mem.dv.getUint32(at + 4 * i, true));
      const [lo, hi] = fillLdt(flatTlsDesc(0x12345678));
      expect(slots).toEqual([lo, hi, 0, 0, 0, 0]);
      const gdtPa = (k.ops as X86CpuOps).gdtVa - PAGE_OFFSET;
      const gdt = Array.from({ length: 6 }, (_, i) => k.mem.dv.getUint32(gdtPa + 8 * GDT_ENTRY_TLS_MIN + 4 * i, true));
      expect(gdt).toEqual(slots);
    } finally {
      k.close();
    }
  });
});

describe('the return path after a TLS slot is cleared', () => {
  it("clearing the slot %gs names: restore_all's popl %gs faults in kernel mode, the __ex_table fixup loads 0 (Linux's POP_GS fixup; qemu-user keeps %gs)", () => {
    const r = run(`
        .data
        .align 4
udesc:  .long -1, 0x1000, 0xfffff, 0x51
empty:  .long 6, 0, 0, 0x28
        .text
_start: movl $243, %eax
        movl $udesc, %ebx
        int $0x80
        movw $0x33, %ax
        movw %ax, %gs
        movl $243, %eax         # clear entry 6 while %gs (saved in pt_regs) still names it
        movl $empty, %ebx
        int $0x80
        movl %gs, %ebx          # 0 after the fixup
        addl $7, %ebx
        movl $1, %eax
        int $0x80`);
    expect(r.status).toBe(7);
    expect(r.faults).toEqual([]);
  });
});

describe('TLS across fork, clone and exec', () => {
  it('a fork child inherits tls_array: its %gs reads its own copy of the block (= qemu-i386)', () => {
    runBoth(`
        .global _start
        .data
        .align 4
block:  .long 42
udesc:  .long -1, block, 0xfffff, 0x51
status: .long 0
        .text
_start: movl $243, %eax
        movl $udesc, %ebx
        int $0x80
        movw $0x33, %ax
        movw %ax, %gs
        movl $2, %eax           # fork
        int $0x80
        testl %eax, %eax
        jnz parent
        movl %gs:0, %ebx        # the child: 42 through the inherited descriptor…
        incl %ebx
        movl $99, %gs:0         # …and a store into its own (COW) copy of the block
        movl $1, %eax
        int $0x80               # exit(43)
parent: movl %eax, %ebx
        movl $114, %eax         # wait4(child, &status, 0, NULL)
        movl $status, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        int $0x80
        movzbl status+1, %ebx   # the child's exit code (43)…
        addl %gs:0, %ebx        # …+ the parent's block, still 42
        movl $1, %eax
        int $0x80               # exit(85)`, 85, 'TLS across fork');
  });

  // clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|
  //       CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID) = 0x003d0f00, glibc's pthread_create flags.
  const THREAD = (tlsArg: string) => `
        .global _start
        .data
        .align 4
blocka: .long 42
blockb: .long 7
udesc:  .long -1, blocka, 0xfffff, 0x51
udescb: .long 6, blockb, 0xfffff, 0x51
udescn: .long -1, blockb, 0xfffff, 0x51
tid:    .long 0
seen:   .long 0
        .bss
        .align 16
stack:  .space 4096
stacktop:
        .text
_start: movl $243, %eax
        movl $udesc, %ebx
        int $0x80
        movw $0x33, %ax
        movw %ax, %gs
        movl $120, %eax         # clone(flags, newsp, &tid, tls, &tid)
        movl $0x003d0f00, %ebx
        movl $stacktop, %ecx
        movl $tid, %edx
        movl ${tlsArg}, %esi
        movl $tid, %edi
        int $0x80
        testl %eax, %eax
        jz thread
        js clonefail
wait:   movl tid, %edx          # futex(&tid, FUTEX_WAIT, tid) until the thread's exit clears it
        testl %edx, %edx
        jz done
        movl $240, %eax
        movl $tid, %ebx
        xorl %ecx, %ecx
        xorl %esi, %esi
        int $0x80
        jmp wait
done:   movl seen, %ebx         # what the thread read through %gs (7)…
        addl %gs:0, %ebx        # …+ the main thread's own block (42)
        movl $1, %eax
        int $0x80
clonefail:
        negl %eax
        movl %eax, %ebx
        addl $100, %ebx         # exit(100 + errno)
        movl $1, %eax
        int $0x80
thread: movl %gs:0, %eax        # same selector 0x33, the thread's own descriptor
        movl %eax, seen
        movl $1, %eax           # exit(0): this thread only
        xorl %ebx, %ebx
        int $0x80`;

  it('CLONE_SETTLS gives a thread its own descriptor in the same slot; the main thread keeps its own (= qemu-i386)', () => {
    runBoth(THREAD('$udescb'), 49, 'CLONE_SETTLS threads');
  });

  it('CLONE_SETTLS is do_set_thread_area(p, -1, tls, 0): entry -1 is EINVAL, a bad pointer EFAULT, and no thread is created', () => {
    expect(run(THREAD('$udescn')).status).toBe(100 + 22);
    expect(run(THREAD('$0')).status).toBe(100 + 14);
  });

  it('execve clears the TLS slots (flush_thread): the new image finds entry 6 empty and %gs null', () => {
    const r = run(`
        .data
        .align 4
udesc:  .long -1, 0x1000, 0xfffff, 0x51
out:    .long 6, 0, 0, 0
path:   .asciz "/bin/program"
        .align 4
argv:   .long path, path, 0
        .text
_start: cmpl $1, (%esp)         # argc: 1 the first time, 2 after the exec
        jne second
        movl $243, %eax
        movl $udesc, %ebx
        int $0x80
        movw $0x33, %ax
        movw %ax, %gs
        movl $11, %eax          # execve("/bin/program", {path, path}, NULL)
        movl $path, %ebx
        movl $argv, %ecx
        xorl %edx, %edx
        int $0x80
        movl $1, %ebx
        jmp fail
second: movl $2, %ebx
        movl %gs, %eax
        testl %eax, %eax
        jnz fail
        movl $244, %eax
        movl $out, %ebx
        int $0x80
        movl $3, %ebx
        testl %eax, %eax
        jnz fail
        movl $4, %ebx
        cmpl $0x28, out+12      # LDT_empty's flags: the slot is clear
        jne fail
        movl $5, %ebx
        cmpl $0, out+4
        jne fail
        movl $0, %ebx
${EXIT}`);
    expect(r.status).toBe(0);
  });
});

describe('the GDT stays kernel memory', () => {
  const gdtVa = (() => {
    const k = bootProgram(kernelArch('x86'), assembleProgram('_start: jmp _start', { arch: 'x86', fileName: 'x.S' }));
    try {
      return (k.ops as X86CpuOps).gdtVa;
    } finally {
      k.close();
    }
  })();
  const hex = (n: number) => `0x${n.toString(16)}`;

  it.each([
    ['a plain load of the GDT', `movl ${hex(gdtVa + 0x30)}, %eax`],
    ['a segment load whose selector operand is in the GDT', `movl $${hex(gdtVa + 0x30)}, %ebx
        movw (%ebx), %gs`],
    ['lgs from a far pointer in the GDT', `lgs ${hex(gdtVa + 0x30)}, %eax`],
    ['loading the kernel data segment (DPL 0)', `movw $0x68, %ax
        movw %ax, %gs`],
    ['loading the TSS descriptor', `movw $0x83, %ax
        movw %ax, %fs`],
    ['loading an empty TLS slot (entry 7)', `movw $0x3b, %ax
        movw %ax, %gs`],
  ])('%s is SIGSEGV (139)', (_what, code) => {
    const r = run(`
        .text
_start: ${code}
        movl $1, %eax
        movl $0, %ebx
        int $0x80`);
    expect(r.status).toBe(139);
    expect(r.faults).toHaveLength(1);
  });

  it('an empty TLS slot faults the same under qemu-i386', () => {
    runBoth(`
        .global _start
        .text
_start: movw $0x3b, %ax
        movw %ax, %gs
        movl $1, %eax
        movl $0, %ebx
        int $0x80`, 139, 'loading an empty TLS slot');
  });
});
