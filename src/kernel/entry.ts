// The dispatcher between the emulated CPU and the kernel's C-level functions.
//
// While the current task is in guest code (user mode, or the kernel's entry
// asm), Unicorn runs. It stops when
//   - the syscall instruction traps in user mode → the CPU's exception entry
//     (ops.trapEntry), then the guest entry asm runs;
//   - the entry asm calls a gate (sys_call_table entry, schedule_tail, …) →
//     the matching kernel function starts as a generator;
//   - an access faults (after the TLB hook tried demand paging / COW) → SIGSEGV;
//   - the budget is spent.
// While the current task has a kernel generator, the generator runs: POINT
// yields are debugger stop points, SCHEDULE yields switch tasks, and its return
// value goes back to the asm through ops.gateReturn.

import { UC } from '../cpu/uc-consts.js';
import type { TraceEvent } from '../trace/events.js';
import { do_exit } from './exit.js';
import type { HookHandle } from '../cpu/unicorn.js';
import type { Gate, Kernel } from './kernel.js';
import type { KYield } from './kfunc.js';
import { context_switch, pick_next_task } from './sched.js';
import { insns_to_next_interrupt, raise_timer_irq, timer_interrupt_pending } from './irq.js';
import { SIGILL, SIGSEGV } from './signal.js';
import type { Task } from './task.js';
import { account_cpu_run } from './time/cputime.js';
import { hrtimer_interrupt, tick_nohz_idle } from './time/hrtimer.js';
import { userAccess } from './uaccess.js';

export type RunStop =
  /** Nothing can run: every task sleeps or has exited, and no timer is pending. */
  | { kind: 'idle' }
  | { kind: 'budget' }
  /** A kernel stop point the caller asked for (debugger). */
  | { kind: 'point'; fn: string; text: string }
  /** Guest code reached an address the caller asked to stop at. */
  | { kind: 'breakpoint'; pc: number };

export interface RunOptions {
  /** Stop after this many more guest instructions. */
  budget?: number;
  /** Return when the kernel reaches a stop point this accepts. */
  stopAtPoint?: (p: Extract<KYield, { op: 'point' }>, t: Task) => boolean;
  /** Guest addresses to stop at before executing them. */
  breakpoints?: ReadonlySet<number>;
  /** Execute at most this many guest instructions per CPU run (1 = single-step). */
  maxInsns?: number;
}

export class KernelPanic extends Error {}

const FAR = 0xfffffffe;

export function pcOf(k: Kernel): number {
  const cpu = k.arch.cpu;
  let pc = k.cpu.regRead(cpu.regIds[cpu.pc]!);
  if (cpu.name === 'arm' && k.cpu.regRead(cpu.regIds.cpsr!) & 0x20) pc |= 1;
  return pc;
}

/** Runs the machine until a stop. Deterministic: the same input gives the same run. */
export function runKernel(k: Kernel, opts: RunOptions = {}): RunStop {
  const end = Math.min(
    opts.budget === undefined ? Number.MAX_SAFE_INTEGER : k.now + opts.budget,
    // single-stepping counts guest instructions across kernel transitions too
    opts.maxInsns === undefined ? Number.MAX_SAFE_INTEGER : k.now + opts.maxInsns,
  );
  for (;;) {
    const t = k.current;
    // In the kernel (or idle) timers due now fire between two instructions; in
    // user mode they arrive as the timer interrupt below, handled by do_IRQ (irq.ts).
    if (!k.irqInFlight && (t.pid === 0 || t.kgen || !k.ops.isUserMode())) hrtimer_interrupt(k);
    if (t.pid === 0 && !t.kgen) {
      // The idle task: hand the CPU to whoever is runnable.
      const next = pick_next_task_nohz(k);
      if (!next) return { kind: 'idle' };
      context_switch(k, t, next);
      continue;
    }
    if (t.kgen) {
      if (k.sleepingIdle) {
        // A previous run ended idle with this task asleep in schedule(): it
        // resumes only once something has woken it (or another task can run).
        const next = pick_next_task_nohz(k);
        if (!next) return { kind: 'idle' };
        k.sleepingIdle = false;
        if (next !== t) context_switch(k, t, next);
        continue;
      }
      let r: IteratorResult<KYield, number>;
      try {
        r = t.kgen.next();
      } catch (e) {
        throw new KernelPanic(`kernel panic in ${t.kfn} (pid ${t.pid}): ${(e as Error).message}`, { cause: e });
      }
      if (!r.done) {
        if (r.value.op === 'point') {
          if (opts.stopAtPoint?.(r.value, t)) return { kind: 'point', fn: r.value.fn, text: r.value.text };
          continue;
        }
        const next = pick_next_task_nohz(k);
        if (!next) {
          if (t.state === 0 && !t.exitState) continue; // still runnable: keep going
          k.sleepingIdle = true;
          return { kind: 'idle' };
        }
        if (next !== t) context_switch(k, t, next);
        continue;
      }
      t.kgen = null;
      if (t.syscallNr >= 0) {
        t.syscallReturn = true;
        k.emit({ t: 'sys_exit', nr: t.syscallNr, name: k.syscallNames.get(t.syscallNr) ?? `syscall_${t.syscallNr}`, ret: r.value | 0 } as TraceEvent, t);
        t.syscallNr = -1;
      }
      k.ops.gateReturn(r.value >>> 0, t.gateReturn);
      continue;
    }

    if (k.now >= end) return { kind: 'budget' };
    // The CPU stops exactly when the next timer interrupt is due (the tick or an hrtimer).
    let limit = Math.min(end - k.now, insns_to_next_interrupt(k));
    if (timer_interrupt_pending(k)) {
      if (k.ops.isUserMode()) {
        raise_timer_irq(k, t);
        continue;
      }
      limit = 1; // the kernel's asm runs with IRQs off: finish it, then take the interrupt
    }
    const pc = pcOf(k);
    k.pendingIntr = null;
    k.lastFault = null;
    const bpHooks = installBreakpoints(k, opts.breakpoints, pc);
    k.stoppedAtBreak = null;
    const started = k.now;
    let rc: number;
    try {
      rc = k.cpu.emuStart(pc, FAR, limit);
    } finally {
      for (const h of bpHooks) k.cpu.hookDel(h);
      account_cpu_run(k, t, started); // utime/stime (time/cputime.ts)
    }

    const hit = k.cpu.trapHit;
    const gate = hit !== null ? k.gateAt(hit) : null;
    if (gate) {
      const g = gate;
      t.gateReturn = k.ops.gateEnter();
      t.kfn = g.name;
      if (g.nr !== undefined) {
        t.syscallNr = g.nr;
        const sr = k.arch.syscallRegs;
        const regs = k.regs(t);
        k.emit({ t: 'sys_enter', nr: g.nr, name: k.syscallNames.get(g.nr)!, args: sr.args.map((f) => regs.get(f)) } as TraceEvent, t);
      }
      t.kgen = k.call(g.name, g.fn(k, t));
      continue;
    }
    const intr = k.pendingIntr as number | null;
    if (intr !== null) {
      const intno = intr;
      if (intno === k.arch.cpu.syscallIntno && k.ops.isUserMode()) {
        t.syscallReturn = false;
        k.ops.trapEntry(k.kstackTop(t));
        continue;
      }
      if (!k.ops.isUserMode() && k.ops.fixupException?.()) continue; // an __ex_table entry: resume at its fixup
      if (!k.ops.isUserMode()) throw new KernelPanic(`unexpected exception ${intno} in kernel mode at 0x${pcOf(k).toString(16)}`);
      userFault(k, t, k.arch.trapSignal(intno), `exception ${intno} at 0x${pcOf(k).toString(16)}`);
      continue;
    }
    const now = (k.arch.cpu.name === 'arm' ? pcOf(k) & ~1 : pcOf(k)) >>> 0;
    if (rc === 0 && k.ops.hardwareStops.includes(now)) {
      k.ops.completeHardwareStop(now);
      continue;
    }
    const brk = k.pendingBreak as number | null;
    if (brk !== null) {
      const at = brk;
      k.pendingBreak = null;
      k.stoppedAtBreak = at;
      return { kind: 'breakpoint', pc: at };
    }
    if (rc !== 0) {
      const f = k.lastFault as { address: number; access: string; user: boolean } | null;
      if (f && !f.user) throw new KernelPanic(`kernel ${f.access} fault at 0x${f.address.toString(16)} (pc 0x${now.toString(16)})`);
      // A kernel page the CPU reads itself for a user instruction (i386: the GDT for a segment load).
      if (f && f.access === 'read' && k.ops.completeImplicitAccess?.(f.address, userAccess(k, t))) continue;
      if (rc === UC.ERR_EXCEPTION || (rc >= 6 && rc <= 8) || (rc >= 12 && rc <= 14)) {
        userFault(k, t, SIGSEGV, f ? `${f.access} at 0x${f.address.toString(16)}` : k.cpu.strerror(rc), f?.address);
        continue;
      }
      if (rc === 10) {
        userFault(k, t, SIGILL, `invalid instruction at 0x${now.toString(16)}`);
        continue;
      }
      throw new KernelPanic(`CPU stopped: ${k.cpu.strerror(rc)} at 0x${now.toString(16)}`);
    }
  }
}

/** pick_next_task, and while nothing is runnable, NO_HZ idle until the next timer wakes someone; null if none will. */
function pick_next_task_nohz(k: Kernel): Task | null {
  let next = pick_next_task(k);
  while (!next && tick_nohz_idle(k)) next = pick_next_task(k);
  return next;
}

function installBreakpoints(k: Kernel, bps: ReadonlySet<number> | undefined, startPc: number) {
  const hooks: HookHandle[] = [];
  if (!bps) return hooks;
  // Resuming from a breakpoint steps over its instruction once. (Not by comparing
  // the retired count: the counting hook has already counted it when this one
  // runs.) Only ARM's pc carries a mode bit (Thumb); an i386 address may be odd.
  const pc = (k.arch.cpu.name === 'arm' ? startPc & ~1 : startPc) >>> 0;
  let resumeFrom = k.stoppedAtBreak === pc ? pc : -1;
  for (const a of bps) {
    hooks.push(
      k.cpu.hookCode(a, a, (addr) => {
        if (addr === resumeFrom) {
          resumeFrom = -1;
          return;
        }
        resumeFrom = -1;
        k.pendingBreak = addr;
        k.cpu.emuStop();
      }),
    );
  }
  return hooks;
}

/** A guest crash is a guest signal: the task dies of it (default action), the host is untouched. */
function userFault(k: Kernel, t: Task, sig: number, why: string, addr?: number): void {
  k.event('signal_generate', { sig, errno: 0, code: 1, comm: t.comm, pid: t.pid, grp: 1, res: 0 });
  k.faults.push({ pid: t.pid, sig, why, addr });
  k.prepareFaultEntry();
  t.kfn = 'do_exit';
  t.kgen = k.call('do_exit', do_exit(k, t, sig));
}
