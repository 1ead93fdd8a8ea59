// i386 layouts against Linux.
//
// pt_regs: the stack layout table at the top of Linux 3.13's arch/x86/kernel/entry_32.S
// ("0(%esp) - %ebx … 2C(%esp) - orig_eax, 30(%esp) - %eip … 40(%esp) - %oldss") and
// arch/x86/kernel/asm-offsets_32.c (OFFSET(PT_EBX, pt_regs, bx) … OFFSET(PT_OLDSS, pt_regs, ss)).
// thread_info: the seeds' struct (task, exec_domain, flags, status, cpu, preempt_count,
// addr_limit, restart_block, sysenter_return, uaccess_err); asm-offsets.c names TI_task, TI_flags …
import { describe, expect, it } from 'vitest';
import { x86KernelArch } from '../../../src/arch/x86/index.js';
import {
  __KERNEL_CS, __KERNEL_DS, __USER_CS, __USER_DS, decodeUserDesc, descBase, fillLdt, LDT_empty, LDT_zero, flatTlsDesc, gdtEntry, hwTssLayout,
  ptRegsLayout, threadInfoLayout, threadStructLayout,
} from '../../../src/arch/x86/layout.js';

describe('pt_regs (32-bit)', () => {
  it('is 68 bytes with Linux offsets', () => {
    expect(ptRegsLayout.size).toBe(68);
    const o = x86KernelArch.asmOffsets();
    const linux: Record<string, number> = {
      PT_EBX: 0x00, PT_ECX: 0x04, PT_EDX: 0x08, PT_ESI: 0x0c, PT_EDI: 0x10, PT_EBP: 0x14, PT_EAX: 0x18,
      PT_DS: 0x1c, PT_ES: 0x20, PT_FS: 0x24, PT_GS: 0x28, PT_ORIG_EAX: 0x2c, PT_EIP: 0x30, PT_CS: 0x34,
      PT_EFLAGS: 0x38, PT_OLDESP: 0x3c, PT_OLDSS: 0x40,
    };
    for (const [name, off] of Object.entries(linux)) expect(o[name], name).toBe(off);
    expect(o.PT_ORIG_EAX).toBe(44);
    expect(o.PT_EIP).toBe(48);
    expect(o.PTREGS_SIZE).toBe(68);
  });
});

describe('thread_info (seeds, task first)', () => {
  it('has the seeds field order and Linux 2.6 sizes', () => {
    const names = threadInfoLayout.fields.filter((f) => !f.name.includes('.')).map((f) => f.name);
    expect(names).toEqual(['task', 'exec_domain', 'flags', 'status', 'cpu', 'preempt_count', 'addr_limit', 'restart_block', 'sysenter_return', 'uaccess_err']);
    const o = x86KernelArch.asmOffsets();
    expect(o.TI_task).toBe(0);
    expect(o.TI_exec_domain).toBe(4);
    expect(o.TI_flags).toBe(8);
    expect(o.TI_status).toBe(12);
    expect(o.TI_cpu).toBe(16);
    expect(o.TI_preempt_count).toBe(20);
    expect(o.TI_addr_limit).toBe(24);
    expect(o.TI_restart_block).toBe(28);
    expect(threadInfoLayout.offsetOf('restart_block.fn')).toBe(28);
    expect(threadInfoLayout.byName.get('restart_block')!.size).toBe(20); // fn + arg0..arg3
    expect(o.TI_sysenter_return).toBe(48);
    expect(threadInfoLayout.offsetOf('uaccess_err')).toBe(52);
    expect(threadInfoLayout.size).toBe(56);
  });
});

describe('constants', () => {
  it('selectors, THREAD_SIZE', () => {
    const o = x86KernelArch.asmOffsets();
    expect([__KERNEL_CS, __KERNEL_DS, __USER_CS, __USER_DS]).toEqual([0x60, 0x68, 0x73, 0x7b]);
    expect([o.__KERNEL_CS, o.__KERNEL_DS, o.__USER_CS, o.__USER_DS]).toEqual([0x60, 0x68, 0x73, 0x7b]);
    expect(o.THREAD_SIZE).toBe(8192);
    expect(o.ENOSYS).toBe(38);
  });
  it('thread_struct and the TSS', () => {
    expect(threadStructLayout.offsetOf('tls_array')).toBe(0);
    expect(threadStructLayout.offsetOf('sp0')).toBe(24);
    expect(threadStructLayout.offsetOf('sp')).toBe(28);
    expect(threadStructLayout.offsetOf('ip')).toBe(36);
    expect(hwTssLayout.size).toBe(104);
    expect(hwTssLayout.offsetOf('sp0')).toBe(4);
    expect(hwTssLayout.offsetOf('io_bitmap_base')).toBe(102);
  });
});

describe('descriptors', () => {
  it('GDT_ENTRY_INIT gives Linux\'s flat segments', () => {
    // The well-known encodings: 0x00cf9a000000ffff (kernel code), 0x00cff2000000ffff (user data).
    expect(gdtEntry(0xc09a, 0, 0xfffff)).toEqual([0x0000ffff, 0x00cf9a00]);
    expect(gdtEntry(0xc092, 0, 0xfffff)).toEqual([0x0000ffff, 0x00cf9200]);
    expect(gdtEntry(0xc0fa, 0, 0xfffff)).toEqual([0x0000ffff, 0x00cffa00]);
    expect(gdtEntry(0xc0f2, 0, 0xfffff)).toEqual([0x0000ffff, 0x00cff200]);
  });
  it('fill_ldt encodes glibc\'s TLS descriptor (base in three pieces, DPL 3, 32-bit, 4 KiB granular)', () => {
    const [lo, hi] = fillLdt(flatTlsDesc(0x12345678));
    expect(lo).toBe(0x5678ffff);
    expect(hi).toBe(0x12dff334); // 0x12 | G D AVL limit 0xf | P DPL3 S data-rw-accessed | 0x34
    expect(descBase(lo, hi)).toBe(0x12345678);
    // The two "no segment" forms set_tls_desc clears the slot for.
    expect(LDT_empty(decodeUserDesc(6, 0, 0, 0x28))).toBe(true);
    expect(LDT_zero(decodeUserDesc(6, 0, 0, 0))).toBe(true);
    expect(LDT_empty(flatTlsDesc(0)) || LDT_zero(flatTlsDesc(0))).toBe(false);
  });
});

describe('syscall table', () => {
  it('has the real i386 numbers', () => {
    const t = x86KernelArch.syscallTable();
    const want: [number, string][] = [
      [0, 'restart_syscall'], [1, 'exit'], [2, 'fork'], [3, 'read'], [4, 'write'], [5, 'open'], [6, 'close'], [7, 'waitpid'],
      [11, 'execve'], [20, 'getpid'], [37, 'kill'], [45, 'brk'], [54, 'ioctl'], [64, 'getppid'], [78, 'gettimeofday'],
      [85, 'readlink'], [91, 'munmap'], [114, 'wait4'], [120, 'clone'], [122, 'uname'], [125, 'mprotect'], [146, 'writev'],
      [158, 'sched_yield'], [162, 'nanosleep'], [174, 'rt_sigaction'], [175, 'rt_sigprocmask'], [190, 'vfork'],
      [191, 'ugetrlimit'], [192, 'mmap2'], [199, 'getuid32'], [200, 'getgid32'], [201, 'geteuid32'], [202, 'getegid32'],
      [219, 'madvise'], [224, 'gettid'], [240, 'futex'], [243, 'set_thread_area'], [252, 'exit_group'],
      [258, 'set_tid_address'], [265, 'clock_gettime'], [270, 'tgkill'], [284, 'waitid'], [311, 'set_robust_list'],
      [340, 'prlimit64'], [355, 'getrandom'], [383, 'statx'], [386, 'rseq'],
    ];
    for (const [nr, name] of want) expect(t.get(nr), `${nr}`).toBe(name);
    expect(t.has(222)).toBe(false);
    expect(Math.max(...t.keys())).toBe(435);
  });
  it('syscallRegs name pt_regs fields', () => {
    const r = x86KernelArch.syscallRegs;
    for (const f of [r.nr, r.ret, r.sp, r.pc, ...r.args]) expect(ptRegsLayout.byName.has(f), f).toBe(true);
    expect(r.args).toEqual(['bx', 'cx', 'dx', 'si', 'di', 'bp']);
  });
  it('gateFill is `jmp .` (eb fe): a gate slot holds the CPU in place', () => {
    expect(Array.from(x86KernelArch.gateFill.subarray(0, 2))).toEqual([0xeb, 0xfe]);
  });
});
