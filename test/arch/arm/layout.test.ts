// The ARM layouts against Linux's own numbers: struct thread_info of
// arch/arm/include/asm/thread_info.h (3.x), struct pt_regs of
// arch/arm/include/uapi/asm/ptrace.h, as asm-offsets.c would print them.
import { describe, expect, it } from 'vitest';
import { armKernelArch } from '../../../src/arch/arm/index.js';
import { cpuContextSave, ptRegs, threadInfo } from '../../../src/arch/arm/layout.js';
import { THREAD_SIZE } from '../../../src/arch/types.js';

describe('arm layouts', () => {
  const o = armKernelArch.asmOffsets();

  it('thread_info offsets match Linux 3.x', () => {
    expect(o).toMatchObject({
      TI_FLAGS: 0, TI_PREEMPT: 4, TI_ADDR_LIMIT: 8, TI_TASK: 12, TI_EXEC_DOMAIN: 16, TI_CPU: 20,
      TI_CPU_DOMAIN: 24, TI_CPU_SAVE: 28, TI_SYSCALL: 76, TI_USED_CP: 80, TI_TP_VALUE: 96,
    });
    expect(cpuContextSave.size).toBe(48);
    expect(cpuContextSave.offsetOf('sp')).toBe(32);
    expect(cpuContextSave.offsetOf('pc')).toBe(36);
    expect(threadInfo.offsetOf('cpu_context.pc')).toBe(28 + 36);
  });

  it('pt_regs offsets match Linux (uregs[18], S_FRAME_SIZE 72)', () => {
    expect(o).toMatchObject({
      S_R0: 0, S_R1: 4, S_R2: 8, S_R3: 12, S_R4: 16, S_R5: 20, S_R6: 24, S_R7: 28, S_R8: 32, S_R9: 36,
      S_R10: 40, S_FP: 44, S_IP: 48, S_SP: 52, S_LR: 56, S_PC: 60, S_PSR: 64, S_OLD_R0: 68,
      S_FRAME_SIZE: 72, S_OFF: 8, THREAD_SIZE: 8192, THREAD_START_SP: 8184,
    });
    expect(ptRegs.size).toBe(72);
    expect(armKernelArch.layouts.pt_regs.offsetOf('ARM_ORIG_r0')).toBe(68);
  });

  it('the entry asm masks sp with lsr/lsl #13: THREAD_SIZE is 1 << 13', () => {
    expect(THREAD_SIZE).toBe(1 << 13);
  });

  it('every syscallRegs field is a pt_regs field', () => {
    const r = armKernelArch.syscallRegs;
    for (const f of [r.nr, r.ret, r.sp, r.pc, ...r.args]) expect(ptRegs.byName.has(f)).toBe(true);
    expect(r.nr).toBe('ARM_r7');
  });

  it('syscall.tbl has the real EABI numbers', () => {
    const t = armKernelArch.syscallTable();
    const want: Record<string, number> = {
      restart_syscall: 0, exit: 1, fork: 2, read: 3, write: 4, open: 5, close: 6, execve: 11, getpid: 20,
      kill: 37, brk: 45, ioctl: 54, getppid: 64, setsid: 66, gettimeofday: 78, readlink: 85, munmap: 91,
      wait4: 114, clone: 120, uname: 122, mprotect: 125, getpgid: 132, writev: 146, sched_yield: 158,
      nanosleep: 162, rt_sigaction: 174, rt_sigprocmask: 175, vfork: 190, ugetrlimit: 191, mmap2: 192,
      getuid32: 199, getgid32: 200, geteuid32: 201, getegid32: 202, madvise: 220, gettid: 224, futex: 240,
      exit_group: 248, set_tid_address: 256, clock_gettime: 263, tgkill: 268, waitid: 280,
      set_robust_list: 338, prlimit64: 369, getrandom: 384, statx: 397, rseq: 398,
    };
    for (const [name, nr] of Object.entries(want)) expect([nr, t.get(nr)]).toEqual([nr, name]);
    expect(t.has(7)).toBe(false); // waitpid does not exist on ARM
  });

  it('gateFill is `b .` (0xeafffffe) repeated: a gate slot holds the CPU in place', () => {
    const g = armKernelArch.gateFill;
    expect(g.length % 4).toBe(0);
    expect([...g.subarray(0, 8)]).toEqual([0xfe, 0xff, 0xff, 0xea, 0xfe, 0xff, 0xff, 0xea]);
  });
});
