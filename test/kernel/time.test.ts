// Virtual time and sleeping, both architectures: the clock is instructions
// retired plus time skipped while idle (src/kernel/time/clock.ts); hrtimers
// fire at the exact virtual time, whether the CPU idles (NO_HZ) or runs
// someone else's user code; nanosleep's errors, and rem after a signal.
//
// Expected values are derived from the programs themselves: a difference
// between two measured intervals whose instruction sequences differ by a
// known amount, or the expiry the kernel reported when it armed the timer.
import { describe, expect, it } from 'vitest';
import { kernelArch } from '../../src/arch/kernel-arch.js';
import { runKernel } from '../../src/kernel/entry.js';
import type { Kernel } from '../../src/kernel/index.js';
import { bootProgram } from '../../src/kernel/program.js';
import { BOOT_EPOCH_SEC, NSEC_PER_SEC } from '../../src/kernel/time/clock.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { assembleProgram, type AsmProgram } from '../../src/machine/gas/index.js';

type A = 'arm' | 'x86';

// Syscall numbers (asm/<arch>/syscall.tbl).
const NR = {
  arm: { exit: 1, fork: 2, write: 4, kill: 37, gettimeofday: 78, wait4: 114, nanosleep: 162, clock_gettime: 263, clock_getres: 264, clock_nanosleep: 265 },
  x86: { exit: 1, fork: 2, write: 4, kill: 37, gettimeofday: 78, wait4: 114, nanosleep: 162, clock_gettime: 265, clock_getres: 266, clock_nanosleep: 267 },
};

/**
 * Small asm builders so one scenario reads the same on both arches. `buf` is
 * the program's data area, its address held in r5 / %edi. Every syscall
 * snippet is the same length on one arch whatever the arguments, so two
 * intervals differ only by what a test puts between them.
 */
function asm(arch: A) {
  const n = NR[arch];
  if (arch === 'arm') {
    return {
      start: `.text\n_start: ldr r5, =buf\n`,
      /** syscall(nr, a0 = imm/sym/bufoff, a1 = ...): each arg is ['imm', v] | ['sym', name] | ['buf', off] */
      sys(nr: number, ...args: Arg[]) {
        const regs = ['r0', 'r1', 'r2', 'r3'];
        return args.map((a, i) => load(regs[i]!, a)).join('\n') + `\n mov r7, #${nr}\n svc #0\n`;
      },
      gettime: (clk: number, off: number) => `mov r0, #${clk}\n add r1, r5, #${off}\n mov r7, #${n.clock_gettime}\n svc #0\n`,
      save: (off: number) => `str r0, [r5, #${off}]\n`,
      keep: `mov r6, r0\n`,
      saveKept: (off: number) => `str r6, [r5, #${off}]\n`,
      /** count iterations of a 2-instruction loop, plus the 1-instruction setup */
      loop: (label: string, count: number) => `ldr r4, =${count}\n${label}: subs r4, r4, #1\n bne ${label}\n`,
      ifChild: (label: string) => `cmp r0, #0\n beq ${label}\n`,
      keepPid: `mov r8, r0\n`,
      killKept: (sig: number) => `mov r0, r8\n mov r1, #${sig}\n mov r7, #${n.kill}\n svc #0\n`,
      /** copy buf[src..src+8) to buf[dst..) adding `ns` to tv_nsec and `s` to tv_sec */
      addTs: (src: number, dst: number, s: number, ns: number) =>
        `ldr r0, [r5, #${src}]\n add r0, r0, #${s}\n str r0, [r5, #${dst}]\n ldr r0, [r5, #${src + 4}]\n ldr r1, =${ns}\n add r0, r0, r1\n str r0, [r5, #${dst + 4}]\n`,
      exit: (code: number) => `mov r0, #${code}\n mov r7, #${n.exit}\n svc #0\n`,
      data: (words: string) => `.ltorg\n.data\n.align 2\n${words}\nbuf: .space 256\n`,
    };
    function load(reg: string, a: Arg): string {
      if (a[0] === 'imm') return `ldr ${reg}, =${a[1]}`;
      if (a[0] === 'sym') return `ldr ${reg}, =${a[1]}`;
      return `add ${reg}, r5, #${a[1]}`;
    }
  }
  return {
    start: `.text\n_start: movl $buf, %edi\n`,
    sys(nr: number, ...args: Arg[]) {
      const regs = ['%ebx', '%ecx', '%edx', '%esi'];
      return args.map((a, i) => load(regs[i]!, a)).join('\n') + `\n movl $${nr}, %eax\n int $0x80\n`;
    },
    gettime: (clk: number, off: number) => `movl $${clk}, %ebx\n leal ${off}(%edi), %ecx\n movl $${n.clock_gettime}, %eax\n int $0x80\n`,
    save: (off: number) => `movl %eax, ${off}(%edi)\n`,
    keep: `movl %eax, %ebp\n`,
    saveKept: (off: number) => `movl %ebp, ${off}(%edi)\n`,
    loop: (label: string, count: number) => `movl $${count}, %edx\n${label}: decl %edx\n jnz ${label}\n`,
    ifChild: (label: string) => `testl %eax, %eax\n jz ${label}\n`,
    keepPid: `movl %eax, %ebp\n`,
    killKept: (sig: number) => `movl %ebp, %ebx\n movl $${sig}, %ecx\n movl $${n.kill}, %eax\n int $0x80\n`,
    addTs: (src: number, dst: number, s: number, ns: number) =>
      `movl ${src}(%edi), %eax\n addl $${s}, %eax\n movl %eax, ${dst}(%edi)\n movl ${src + 4}(%edi), %eax\n addl $${ns}, %eax\n movl %eax, ${dst + 4}(%edi)\n`,
    exit: (code: number) => `movl $${code}, %ebx\n movl $${n.exit}, %eax\n int $0x80\n`,
    data: (words: string) => `.data\n.align 4\n${words}\nbuf: .space 256\n`,
  };
  function load(reg: string, a: Arg): string {
    if (a[0] === 'imm') return `movl $${a[1]}, ${reg}`;
    if (a[0] === 'sym') return `movl $${a[1]}, ${reg}`;
    return `leal ${a[1]}(%edi), ${reg}`;
  }
}
type Arg = ['imm', number] | ['sym', string] | ['buf', number];

const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3;
const TIMER_ABSTIME = 1, SIGUSR1 = 10, SIGCONT = 18, SIGSTOP = 19, WUNTRACED = 2;
const EINTR = -4, EFAULT = -14, EINVAL = -22, ERESTART_RESTARTBLOCK = -516;

interface Run {
  k: Kernel;
  prog: AsmProgram;
  /** Bytes the program wrote to stdout, as 32-bit words. */
  words: Int32Array;
  events: TraceEvent[];
}

function boot(arch: A, src: string): { k: Kernel; prog: AsmProgram } {
  const prog = assembleProgram(src, { arch, fileName: 'time.S' });
  return { k: bootProgram(kernelArch(arch), prog, { keepTrace: true }), prog };
}

function finish(k: Kernel, prog: AsmProgram): Run {
  const out = k.output.filter((o) => o.fd === 1).flatMap((o) => [...o.data]);
  const words = new Int32Array(Uint8Array.from(out).buffer.slice(0, out.length & ~3));
  return { k, prog, words, events: k.trace.events };
}

function run(arch: A, src: string, budget = 20_000_000): Run {
  const { k, prog } = boot(arch, src);
  const stop = runKernel(k, { budget });
  expect(stop.kind).toBe('idle');
  return finish(k, prog);
}

/** A timespec at word index i of the output, in ns. */
const ns = (w: Int32Array, i: number) => w[i]! * NSEC_PER_SEC + w[i + 1]!;

const events = (r: Run, name: string) => r.events.filter((e): e is Extract<TraceEvent, { t: 'event' }> => e.t === 'event' && e.name === name);
const programPid = (r: Run) => r.k.execs.get('/bin/program')!;

describe.each(['arm', 'x86'] as const)('%s: virtual time', (arch) => {
  const a = asm(arch);
  const n = NR[arch];

  it('CLOCK_MONOTONIC advances by exactly the instructions retired; CPU-time and REALTIME clocks agree with it', () => {
    const src =
      a.start +
      // D0: two reads with nothing between them but the second call's setup
      a.gettime(CLOCK_MONOTONIC, 0) + a.gettime(CLOCK_MONOTONIC, 8) +
      // D1: the same, plus a 1000-iteration loop (1 + 2 × 1000 instructions)
      a.gettime(CLOCK_MONOTONIC, 16) + a.loop('spin', 1000) + a.gettime(CLOCK_MONOTONIC, 24) +
      // thread CPU time across the same loop, interleaved with MONOTONIC
      a.gettime(CLOCK_MONOTONIC, 32) + a.gettime(CLOCK_THREAD_CPUTIME_ID, 40) + a.loop('spin2', 1000) +
      a.gettime(CLOCK_MONOTONIC, 48) + a.gettime(CLOCK_THREAD_CPUTIME_ID, 56) +
      // process then thread CPU time, back to back
      a.gettime(CLOCK_PROCESS_CPUTIME_ID, 64) + a.gettime(CLOCK_THREAD_CPUTIME_ID, 72) +
      // MONOTONIC then REALTIME, back to back
      a.gettime(CLOCK_MONOTONIC, 80) + a.gettime(CLOCK_REALTIME, 88) +
      a.sys(n.clock_getres, ['imm', CLOCK_MONOTONIC], ['buf', 96]) +
      a.sys(n.gettimeofday, ['buf', 104], ['buf', 112]) +
      a.sys(n.write, ['imm', 1], ['buf', 0], ['imm', 120]) +
      a.exit(0) +
      a.data('');
    const r = run(arch, src);
    const w = r.words;
    expect(w.length).toBe(30);
    const d0 = ns(w, 2) - ns(w, 0);
    expect(d0).toBeGreaterThan(4); // at least the 4 user instructions of the call, plus entry/exit asm
    expect(ns(w, 6) - ns(w, 4) - d0).toBe(2001);
    // Only this task ran and nobody idled: its CPU time grew exactly as the clock did.
    expect(ns(w, 14) - ns(w, 10)).toBe(ns(w, 12) - ns(w, 8));
    expect(ns(w, 18) - ns(w, 16)).toBe(d0); // one process, one thread: read one call apart
    expect(ns(w, 14)).toBeGreaterThan(0);
    // REALTIME = boot epoch + MONOTONIC (read one call later)
    expect((w[22]! - BOOT_EPOCH_SEC) * NSEC_PER_SEC + w[23]! - ns(w, 20)).toBe(d0);
    expect([w[24], w[25]]).toEqual([0, 1]); // clock_getres: 1 ns
    // gettimeofday: the same wall clock two calls after REALTIME, truncated to µs
    const rtNs = (w[22]! - BOOT_EPOCH_SEC) * NSEC_PER_SEC + w[23]!;
    expect((w[26]! - BOOT_EPOCH_SEC) * 1e6 + w[27]!).toBe(Math.floor((rtNs + 2 * d0) / 1000));
    expect([w[28], w[29]]).toEqual([0, 0]); // struct timezone: UTC
    expect(r.k.timekeeper.idleSkipped).toBe(0);
    r.k.close();
  });

  it('nanosleep(1 s) of a lone task: the idle CPU skips exactly 1 s, quickly in host time', () => {
    const src =
      a.start +
      // init (our parent) has not run since it forked us: let it block in wait4 first,
      // so that nobody else's instructions fall inside the intervals measured below.
      a.sys(n.nanosleep, ['sym', 'zero'], ['imm', 0]) +
      a.gettime(CLOCK_MONOTONIC, 0) + a.sys(n.nanosleep, ['sym', 'zero'], ['imm', 0]) + a.keep + a.gettime(CLOCK_MONOTONIC, 8) + a.saveKept(32) +
      a.gettime(CLOCK_MONOTONIC, 16) + a.sys(n.nanosleep, ['sym', 'one'], ['imm', 0]) + a.keep + a.gettime(CLOCK_MONOTONIC, 24) + a.saveKept(36) +
      a.sys(n.write, ['imm', 1], ['buf', 0], ['imm', 40]) +
      a.exit(0) +
      a.data('zero: .long 0, 0\none: .long 1, 0');
    const t0 = performance.now();
    const r = run(arch, src);
    expect(performance.now() - t0).toBeLessThan(5_000);
    const w = r.words;
    expect([w[8], w[9]]).toEqual([0, 0]);
    const sleep0 = ns(w, 2) - ns(w, 0);
    const sleep1 = ns(w, 6) - ns(w, 4);
    expect(sleep1).toBeGreaterThanOrEqual(NSEC_PER_SEC);
    // Same instructions on both paths; the only difference is the second's 1 s of idle.
    expect(sleep1 - sleep0).toBe(NSEC_PER_SEC);
    expect(r.k.timekeeper.idleSkipped).toBe(NSEC_PER_SEC);
    const pid = programPid(r);
    const expires = events(r, 'hrtimer_start').filter((e) => e.pid === pid).at(-1)!.fields.expires;
    const notes = r.events.filter((e) => e.t === 'note' && e.fn === 'do_nanosleep' && e.pid === pid);
    expect(notes.at(-1)).toMatchObject({ text: expect.stringMatching(new RegExp(`^pid ${pid} sleeps until t=${expires} ns .*1000000000 ns from now`)) });
    r.k.close();
  });

  it('two children sleeping 3 ms and 1 ms wake in expiry order, each exactly at its expiry', () => {
    const src =
      a.start +
      a.sys(n.fork) + a.ifChild('childA') +
      a.sys(n.fork) + a.ifChild('childB') +
      a.sys(n.wait4, ['imm', -1], ['imm', 0], ['imm', 0], ['imm', 0]) +
      a.sys(n.wait4, ['imm', -1], ['imm', 0], ['imm', 0], ['imm', 0]) +
      a.exit(0) +
      'childA:\n' + a.sys(n.nanosleep, ['sym', 'ms3'], ['imm', 0]) + a.exit(3) +
      'childB:\n' + a.sys(n.nanosleep, ['sym', 'ms1'], ['imm', 0]) + a.exit(1) +
      a.data('ms3: .long 0, 3000000\nms1: .long 0, 1000000');
    const r = run(arch, src);
    const parent = programPid(r);
    const [childA, childB] = [parent + 1, parent + 2];
    expect(r.k.exits.filter((e) => e.pid >= parent)).toEqual([
      { pid: childB, code: 1 << 8 },
      { pid: childA, code: 3 << 8 },
      { pid: parent, code: 0 },
    ]);
    const starts = events(r, 'hrtimer_start');
    const startA = starts.find((e) => e.pid === childA)!;
    const startB = starts.find((e) => e.pid === childB)!;
    const wakeups = events(r, 'sched_wakeup');
    const wakeA = wakeups.find((e) => e.fields.pid === childA)!;
    const wakeB = wakeups.find((e) => e.fields.pid === childB)!;
    expect(wakeB.ts).toBe(startB.fields.expires);
    expect(wakeA.ts).toBe(startA.fields.expires);
    expect(startB.fields.expires as number).toBeLessThan(startA.fields.expires as number);
    // Both sleepers started within a few hundred instructions: the expiries are 1 ms and 3 ms away.
    expect(Number(startA.fields.expires) - startA.ts).toBe(3_000_000);
    expect(Number(startB.fields.expires) - startB.ts).toBe(1_000_000);
    r.k.close();
  });

  it('a timer fires at its exact instruction while another task busy-loops in user mode', () => {
    const src =
      a.start +
      a.sys(n.fork) + a.ifChild('child') +
      a.loop('busy', 200_000) +
      a.sys(n.wait4, ['imm', -1], ['imm', 0], ['imm', 0], ['imm', 0]) +
      a.exit(0) +
      'child:\n' + a.sys(n.nanosleep, ['sym', 'us100'], ['imm', 0]) + a.exit(7) +
      a.data('us100: .long 0, 100000');
    const { k, prog } = boot(arch, src);
    const atWake: { retired: number; current: number; user: boolean }[] = [];
    const irqAt: number[] = [];
    const irqEntry = k.ops.irqEntry.bind(k.ops);
    (k.ops as { irqEntry: (top: number) => void }).irqEntry = (top) => {
      irqAt.push(k.cpu.retired);
      irqEntry(top);
    };
    const cputimes = new Map<number, { utime: number; stime: number }>();
    k.trace.on((e) => {
      if (e.t === 'event' && e.name === 'sched_wakeup' && e.fields.comm !== 'init') atWake.push({ retired: k.cpu.retired, current: k.current.pid, user: k.ops.isUserMode() });
      if (e.t === 'event' && e.name === 'sched_process_exit') cputimes.set(e.pid, { utime: k.current.v.get('utime'), stime: k.current.v.get('stime') });
    });
    expect(runKernel(k, { budget: 20_000_000 }).kind).toBe('idle');
    const r = finish(k, prog);
    const parent = programPid(r);
    const child = parent + 1;
    const start = events(r, 'hrtimer_start').find((e) => e.pid === child)!;
    const expires = start.fields.expires as number;
    expect(expires - start.ts).toBe(100_000);
    // Never idle: the clock is the instruction count. The CPU took the timer interrupt exactly at
    // the expiry, in the parent's user-mode loop (the child asleep, the parent current); the
    // wake-up runs in do_IRQ, after the IRQ entry asm has saved the parent's pt_regs.
    expect(k.timekeeper.idleSkipped).toBe(0);
    expect(irqAt).toContain(expires);
    const wake = events(r, 'sched_wakeup').find((e) => e.fields.pid === child)!;
    expect(wake.ts).toBeGreaterThan(expires);
    expect(wake.ts - expires).toBeLessThan(64);
    expect(wake.pid).toBe(parent);
    expect(atWake.find((x) => x.retired === wake.ts)).toEqual({ retired: wake.ts, current: parent, user: false });
    const irq = events(r, 'irq_handler_entry').find((e) => e.ts > expires)!;
    expect(irq.ts).toBeLessThanOrEqual(wake.ts);
    // No preemption: the child runs only once the parent blocks in wait4, after its 400k-instruction loop.
    const parentWait = r.events.find((e) => e.t === 'sys_enter' && e.pid === parent && e.name === 'wait4')!;
    expect(parentWait.ts).toBeGreaterThan(expires + 300_000);
    const childExit = events(r, 'sched_process_exit').find((e) => e.pid === child)!;
    expect(childExit.ts).toBeGreaterThan(parentWait.ts);
    expect(k.exits.filter((e) => e.pid >= parent)).toEqual([{ pid: child, code: 7 << 8 }, { pid: parent, code: 0 }]);
    // utime holds the parent's 400k-instruction loop; stime only entry asm (a few dozen instructions per syscall).
    const pt = cputimes.get(parent)!;
    expect(pt.utime).toBeGreaterThan(400_000);
    expect(pt.stime).toBeGreaterThan(0);
    expect(pt.stime).toBeLessThan(1_000);
    k.close();
  });

  it('bad requests: EINVAL for tv_nsec ≥ 1e9 or negative fields and bad clocks, EFAULT for bad pointers', () => {
    const src =
      a.start +
      a.sys(n.nanosleep, ['sym', 'bad_nsec'], ['imm', 0]) + a.save(0) +
      a.sys(n.nanosleep, ['sym', 'neg_nsec'], ['imm', 0]) + a.save(4) +
      a.sys(n.nanosleep, ['sym', 'neg_sec'], ['imm', 0]) + a.save(8) +
      a.sys(n.nanosleep, ['imm', 0], ['imm', 0]) + a.save(12) +
      a.sys(n.nanosleep, ['imm', 0xc0000000], ['imm', 0]) + a.save(16) +
      a.sys(n.clock_gettime, ['imm', 99], ['buf', 64]) + a.save(20) +
      a.sys(n.clock_gettime, ['imm', CLOCK_MONOTONIC], ['imm', 0xc0000000]) + a.save(24) +
      a.sys(n.clock_nanosleep, ['imm', CLOCK_MONOTONIC], ['imm', TIMER_ABSTIME], ['sym', 'bad_nsec'], ['imm', 0]) + a.save(28) +
      a.sys(n.clock_nanosleep, ['imm', CLOCK_THREAD_CPUTIME_ID], ['imm', 0], ['sym', 'zero'], ['imm', 0]) + a.save(32) +
      a.sys(n.clock_nanosleep, ['imm', CLOCK_MONOTONIC], ['imm', 0], ['imm', 16], ['imm', 0]) + a.save(36) +
      a.sys(n.gettimeofday, ['imm', 0xc0000000], ['imm', 0]) + a.save(40) +
      a.sys(n.clock_getres, ['imm', -1], ['buf', 64]) + a.save(44) +
      a.sys(n.write, ['imm', 1], ['buf', 0], ['imm', 48]) +
      a.exit(0) +
      a.data('bad_nsec: .long 0, 1000000000\nneg_nsec: .long 0, -1\nneg_sec: .long -1, 0\nzero: .long 0, 0');
    const r = run(arch, src);
    expect([...r.words]).toEqual([EINVAL, EINVAL, EINVAL, EFAULT, EFAULT, EINVAL, EFAULT, EINVAL, EINVAL, EFAULT, EFAULT, EINVAL]);
    expect(r.k.timekeeper.idleSkipped).toBe(0); // no bad request slept
    r.k.close();
  });

  it('clock_nanosleep TIMER_ABSTIME on MONOTONIC and REALTIME wakes exactly at the target time', () => {
    const src =
      a.start +
      // D0: two reads one "keep" instruction apart, the shape of the wake-up path below
      a.gettime(CLOCK_MONOTONIC, 0) + a.keep + a.gettime(CLOCK_MONOTONIC, 8) +
      a.addTs(8, 16, 0, 2_000_000) + // target = now + 2 ms (tv_nsec stays < 1e9: checked below)
      a.sys(n.clock_nanosleep, ['imm', CLOCK_MONOTONIC], ['imm', TIMER_ABSTIME], ['buf', 16], ['imm', 0]) + a.keep +
      a.gettime(CLOCK_MONOTONIC, 24) + a.saveKept(64) +
      a.gettime(CLOCK_REALTIME, 32) + a.addTs(32, 40, 1, 0) + // target = wall clock + 1 s
      a.sys(n.clock_nanosleep, ['imm', CLOCK_REALTIME], ['imm', TIMER_ABSTIME], ['buf', 40], ['imm', 0]) + a.keep +
      a.gettime(CLOCK_REALTIME, 48) + a.saveKept(68) +
      a.sys(n.write, ['imm', 1], ['buf', 0], ['imm', 72]) +
      a.exit(0) +
      a.data('');
    const r = run(arch, src);
    const w = r.words;
    const d0 = ns(w, 2) - ns(w, 0);
    expect(w[2]).toBe(0);
    expect(w[3]!).toBeLessThan(NSEC_PER_SEC - 2_000_000);
    expect([w[16], w[17]]).toEqual([0, 0]); // both sleeps returned 0
    expect(ns(w, 6) - ns(w, 4)).toBe(d0); // woke at the target, then one call's worth of instructions
    expect(w[10]).toBe(w[8]! + 1);
    const rtAfter = (w[12]! - w[10]!) * NSEC_PER_SEC + w[13]! - w[11]!;
    expect(rtAfter).toBe(d0);
    r.k.close();
  });

  it('a signal ends the sleep early: rem = expiry − time of the kill, -ERESTART_RESTARTBLOCK, and SIGUSR1 (default: terminate) kills the sleeper', () => {
    const src =
      a.start +
      a.sys(n.fork) + a.ifChild('child') +
      a.keepPid + a.loop('busy', 5000) + a.killKept(SIGUSR1) +
      a.sys(n.wait4, ['imm', -1], ['imm', 0], ['imm', 0], ['imm', 0]) +
      a.exit(0) +
      'child:\n' + a.sys(n.nanosleep, ['sym', 'one'], ['sym', 'rem']) + a.exit(0) +
      a.data('one: .long 1, 0\nrem: .long 0x5a5a5a5a, 0x5a5a5a5a');
    const { k, prog } = boot(arch, src);
    // Stop in do_nanosleep once the sleeper has written rem, and read it from its memory.
    const stop = runKernel(k, { budget: 20_000_000, stopAtPoint: (p) => p.fn === 'do_nanosleep' && p.text.includes('woken by a signal') });
    expect(stop.kind).toBe('point');
    const child = k.current.pid;
    expect(child).toBe(k.execs.get('/bin/program')! + 1);
    const remBytes = k.readVirt(prog.symbols.get('rem')!, 8);
    const rem = new DataView(remBytes.buffer);
    expect(runKernel(k, { budget: 20_000_000 }).kind).toBe('idle');
    const r = finish(k, prog);
    const start = events(r, 'hrtimer_start').find((e) => e.pid === child)!;
    const kill = events(r, 'signal_generate').find((e) => e.fields.pid === child && e.fields.sig === SIGUSR1)!;
    // The signal wakes the sleeper; it computes rem when it next runs (hrtimer_expires_remaining),
    // which is when the parent blocks in wait4 and the CPU switches to it.
    const resumed = events(r, 'sched_switch').find((e) => e.fields.next_pid === child && e.ts >= kill.ts)!;
    expect(resumed.ts).toBeGreaterThan(kill.ts);
    const expected = (start.fields.expires as number) - resumed.ts;
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(NSEC_PER_SEC - 10_000); // the parent's 10k-instruction loop came first
    expect(rem.getInt32(0, true) * NSEC_PER_SEC + rem.getInt32(4, true)).toBe(expected);
    // strace's "nanosleep(...) = ? ERESTART_RESTARTBLOCK", then "+++ killed by SIGUSR1 +++".
    const exit = r.events.find((e) => e.t === 'sys_exit' && e.pid === child && e.name === 'nanosleep');
    expect(exit && exit.t === 'sys_exit' && exit.ret).toBe(ERESTART_RESTARTBLOCK);
    expect(k.exits.find((e) => e.pid === child)?.code).toBe(SIGUSR1);
    // The timer was cancelled: the clock never skipped to the 1 s expiry.
    expect(events(r, 'hrtimer_cancel').some((e) => e.pid === child)).toBe(true);
    expect(k.timekeeper.idleSkipped).toBe(0);
    k.close();
  });
});

describe.each(['arm', 'x86'] as const)('%s: restart_block', (arch) => {
  const a = asm(arch);
  const n = NR[arch];

  it('a nanosleep stopped by SIGSTOP and resumed by SIGCONT is restarted (restart_syscall) and ends at the original expiry, returning 0', () => {
    const src =
      a.start +
      a.sys(n.fork) + a.ifChild('child') +
      a.keepPid + a.loop('busy', 5000) + a.killKept(SIGSTOP) +
      a.sys(n.wait4, ['imm', -1], ['imm', 0], ['imm', WUNTRACED], ['imm', 0]) + // the child has stopped
      a.killKept(SIGCONT) +
      a.sys(n.wait4, ['imm', -1], ['imm', 0], ['imm', 0], ['imm', 0]) +
      a.exit(0) +
      'child:\n' + a.sys(n.nanosleep, ['sym', 'ms5'], ['sym', 'rem']) + a.save(0) +
      a.sys(0) + a.save(4) + // restart_syscall
      a.sys(n.write, ['imm', 1], ['buf', 0], ['imm', 8]) + a.exit(0) +
      a.data('ms5: .long 0, 5000000\nrem: .long 0, 0');
    const { k, prog } = boot(arch, src);
    expect(runKernel(k, { budget: 20_000_000 }).kind).toBe('idle');
    const r = finish(k, prog);
    const pid = programPid(r) + 1;
    // The interrupted nanosleep never returned to user space: it resumed through restart_syscall
    // and returned 0; a later explicit restart_syscall has no restart_block left (-EINTR).
    expect([...r.words]).toEqual([0, EINTR]);
    const restarts = r.events.filter((e) => e.t === 'sys_enter' && e.pid === pid && e.name === 'restart_syscall');
    expect(restarts).toHaveLength(2);
    const starts = events(r, 'hrtimer_start').filter((e) => e.pid === pid);
    expect(starts).toHaveLength(2);
    expect(starts[1]!.fields.expires).toBe(starts[0]!.fields.expires); // same expiry: the time already slept counts
    expect(starts[1]!.fields.expires as number).toBeGreaterThan(starts[1]!.ts);
    const wake = events(r, 'sched_wakeup').filter((e) => e.fields.pid === pid).at(-1)!;
    expect(wake.ts).toBe(starts[0]!.fields.expires);
    k.close();
  });
});

describe('hrtimer queue', () => {
  it('fires by expiry, equal expiries in start order; cancel removes; the CPU cap counts to the earliest', async () => {
    const { Kernel } = await import('../../src/kernel/index.js');
    const { hrtimer_init, hrtimer_start, hrtimer_cancel, hrtimer_interrupt, hrtimer_insns_to_next_event, tick_nohz_idle, HRTIMER_MODE_ABS, HRTIMER_MODE_REL } =
      await import('../../src/kernel/time/hrtimer.js');
    const { ktime_get } = await import('../../src/kernel/time/clock.js');
    const k = new Kernel(kernelArch('arm'));
    try {
      const fired: string[] = [];
      const mk = (name: string) => hrtimer_init(k, () => fired.push(name), name);
      const [a1, b, a2, c, d] = ['a1', 'b', 'a2', 'c', 'd'].map(mk);
      hrtimer_start(k, a1!, 1000, HRTIMER_MODE_ABS);
      hrtimer_start(k, b!, 500, HRTIMER_MODE_ABS);
      hrtimer_start(k, a2!, 1000, HRTIMER_MODE_ABS);
      hrtimer_start(k, c!, 2000, HRTIMER_MODE_REL);
      hrtimer_start(k, d!, 700, HRTIMER_MODE_ABS);
      expect(hrtimer_cancel(k, d!)).toBe(true);
      expect(hrtimer_cancel(k, d!)).toBe(false);
      expect(hrtimer_insns_to_next_event(k)).toBe(500 - ktime_get(k));
      expect(hrtimer_interrupt(k)).toBe(0); // nothing due yet: no instruction has run
      // NO_HZ idle: each call jumps to the next expiry and fires everything due then.
      expect(tick_nohz_idle(k)).toBe(true);
      expect(ktime_get(k)).toBe(500);
      expect(tick_nohz_idle(k)).toBe(true);
      expect(ktime_get(k)).toBe(1000);
      expect(tick_nohz_idle(k)).toBe(true);
      expect(ktime_get(k)).toBe(2000);
      expect(tick_nohz_idle(k)).toBe(false); // queue empty: the clock stays put
      expect(ktime_get(k)).toBe(2000);
      expect(fired).toEqual(['b', 'a1', 'a2', 'c']);
      expect(hrtimer_insns_to_next_event(k)).toBe(Number.MAX_SAFE_INTEGER);
      // Restarting an active timer moves it rather than queueing it twice.
      hrtimer_start(k, a1!, 3000, HRTIMER_MODE_ABS);
      hrtimer_start(k, a1!, 2500, HRTIMER_MODE_ABS);
      expect(k.hrtimers.active).toEqual([a1]);
    } finally {
      k.close();
    }
  });
});
