// The modelled kernel: one CPU, its RAM, the kernel image, the allocators, the
// task list and the event stream. Process-path logic lives in its own modules
// (sched, fork, exit, wait, exec, syscalls); this file holds the shared state
// and start_kernel.

import { PAGE_OFFSET, PAGE_SIZE, THREAD_SIZE, type ArchCpuOps, type KernelArch } from '../arch/types.js';
import { Unicorn } from '../cpu/unicorn.js';
import { UC } from '../cpu/uc-consts.js';
import { assembleProgram, type AsmProgram } from '../machine/gas/index.js';
import { StructView, type PhysMem, type StructLayout } from '../machine/struct.js';
import { TraceStream, type TraceEvent } from '../trace/events.js';
import type { KGen, KYield } from './kfunc.js';
import { files_struct, fs_struct, mm_struct, sighand_struct, signal_struct, taskStructLayout, vm_area_struct } from './layout.js';
import { __pa, __va, INIT_LIST_HEAD } from './list.js';
import { MemoryManager, type Access } from './mm/mm.js';
import { PageAllocator, alignUp } from './mm/page_alloc.js';
import { KmemCache } from './mm/slab.js';
import { init_waitqueue_head } from './wait_queue.js';
import { Task } from './task.js';
import { ktime_get, Timekeeper } from './time/clock.js';
import { HrtimerClockBase } from './time/hrtimer.js';

export interface KernelOptions {
  ramSize?: number;
  /** Keep every trace event in memory (tests, JSON output). */
  keepTrace?: boolean;
  /**
   * Guest instructions between timer ticks (virtual time: one instruction is
   * one ns, so the default 1_000_000 is HZ = 1000). At a tick the running task
   * is preempted if another is runnable: round robin with a one-tick slice.
   */
  timeslice?: number;
  /** The child runs first after fork (Linux's sched_child_runs_first). */
  childRunsFirst?: boolean;
  pidMax?: number;
  rlimitNproc?: number;
}

/** Why the last user-mode access faulted (filled by the TLB hook). */
export interface FaultInfo {
  address: number;
  access: Access;
  user: boolean;
}

export interface Gate {
  readonly name: string;
  readonly addr: number;
  /** The C function: runs with the current task; its return value goes back in r0/eax. */
  readonly fn: (k: Kernel, t: Task) => KGen<number>;
  /** Syscall number when the gate is a sys_call_table entry. */
  readonly nr?: number;
}

const GATE_SLOT = 4;

/**
 * A kernel function taking one pointer-sized argument, `int (*fn)(void *)`:
 * what kernel_thread and kthread_create take. Its address (kernelFunction)
 * is a gate, so guest asm (ret_from_fork) can call it like a C function.
 */
export type KernelThreadFn = (k: Kernel, t: Task, arg: number) => KGen<number>;

export class Kernel {
  readonly cpu: Unicorn;
  readonly mem: PhysMem;
  readonly ops: ArchCpuOps;
  readonly trace: TraceStream;
  readonly pages: PageAllocator;
  readonly mm: MemoryManager;
  readonly taskLayout: StructLayout;
  readonly caches: Record<'task_struct' | 'mm_struct' | 'vm_area_struct' | 'files_struct' | 'fs_struct' | 'sighand_struct' | 'signal_struct', KmemCache>;
  readonly image: AsmProgram;
  readonly vectors: AsmProgram | null;
  readonly symbols = new Map<string, number>();
  readonly gates = new Map<number, Gate>();
  private gateNext: number;
  private readonly gateBase: number;
  /** End of the gate area (the sys_call_table follows it). */
  private readonly gateEnd: number;
  private readonly kernelFns = new Map<KernelThreadFn, number>();
  private readonly kernelFnAt = new Map<number, KernelThreadFn>();
  readonly syscallNames: ReadonlyMap<number, string>;
  /** pid → task (the pid hash). */
  readonly pidHash = new Map<number, Task>();
  /** Tasks by task_struct physical address. */
  readonly byPa = new Map<number, Task>();
  readonly initTask: Task;
  current: Task;
  /** The runqueue, in FIFO order (deterministic round robin). */
  readonly runqueue: Task[] = [];
  /** Virtual time (ktime_get, ns) of the next timer tick. */
  nextTick = 0;
  /** The last run ended idle while the current task slept in schedule() (entry.ts). */
  sleepingIdle = false;
  /** The timer interrupt was taken and do_IRQ has not finished it yet. */
  irqInFlight = false;
  readonly swapperPgd: number;
  lastFault: FaultInfo | null = null;
  readonly opts: Required<KernelOptions>;
  /** pid allocation: last pid handed out (alloc_pid wraps at pid_max). */
  lastPid = 0;
  /** Output written by the guest to fds 1 and 2. */
  readonly output: { fd: number; data: Uint8Array }[] = [];
  onWrite: (fd: number, data: Uint8Array) => void = () => {};
  /** Registered executables for execve (path → image), an initramfs of sorts. */
  readonly initramfs = new Map<string, AsmProgram>();
  // ---- time (src/kernel/time/): the virtual clock and the hrtimer queue ----
  readonly timekeeper = new Timekeeper();
  readonly hrtimers = new HrtimerClockBase();

  constructor(readonly arch: KernelArch, opts: KernelOptions = {}) {
    this.opts = {
      ramSize: opts.ramSize ?? 32 << 20,
      keepTrace: opts.keepTrace ?? false,
      timeslice: opts.timeslice ?? 1_000_000,
      childRunsFirst: opts.childRunsFirst ?? true,
      pidMax: opts.pidMax ?? 32768,
      rlimitNproc: opts.rlimitNproc ?? 4096,
    };
    this.trace = new TraceStream(this.opts.keepTrace);
    this.nextTick = this.opts.timeslice;
    this.cpu = new Unicorn(arch.cpu.name, { cpuModel: arch.cpu.name === 'arm' ? UC.CPU_ARM_CORTEX_A15 : undefined });
    try {
      this.mem = this.cpu.mapRam(this.opts.ramSize);
      this.syscallNames = arch.syscallTable();
      this.taskLayout = taskStructLayout(arch.layouts.thread_struct);

      // The kernel image: gate symbols and asm-offsets first (like asm-offsets.h), then the arch's asm.
      const kernelPa = arch.kernelBase - PAGE_OFFSET;
      this.gateBase = arch.kernelBase + 0x10000; // 64 KiB above the image base: the gate page(s)
      this.gateNext = this.gateBase;
      const tablePa = kernelPa + 0x18000;
      this.gateEnd = tablePa + PAGE_OFFSET;
      const nrSyscalls = Math.max(...this.syscallNames.keys()) + 1;
      for (const [nr, name] of this.syscallNames) this.addGate(`sys_${name}`, syscallHandler(name), nr);
      this.addGate('sys_ni_syscall', (k, t) => k.sysNiSyscall(t));
      this.addGate('schedule_tail', (k, t) => k.scheduleTailGate(t));
      this.addGate('arm_syscall', (k, t) => k.armSyscallGate(t));
      for (const [name, fn] of kernelEntryPoints) this.addGate(name, fn);
      const prelude = [
        ...Object.entries(arch.asmOffsets()).map(([n, v]) => `.equ ${n}, ${v}`),
        `.equ sys_call_table, 0x${(tablePa + PAGE_OFFSET).toString(16)}`,
        `.equ NR_syscalls, ${nrSyscalls}`,
        ...[...this.gates.values()].filter((g) => g.nr === undefined).map((g) => `.equ ${g.name}, 0x${g.addr.toString(16)}`),
      ].join('\n');
      const comment = arch.cpu.name === 'x86' ? '#' : '@';
      const src = arch.kernelSources().map((s) => `${comment} ---- ${s.file}\n${s.text}`).join('\n');
      this.image = assembleProgram(`${prelude}\n${src}`, { arch: arch.cpu.name, fileName: 'kernel', textAddr: arch.kernelBase });
      for (const [n, v] of this.image.symbols) this.symbols.set(n, v);
      for (const g of this.gates.values()) this.symbols.set(g.name, g.addr);
      this.symbols.set('sys_call_table', tablePa + PAGE_OFFSET);
      for (const s of this.image.sections) this.mem.u8.set(s.bytes, s.addr - PAGE_OFFSET);
      const imageEnd = Math.max(...this.image.sections.map((s) => s.addr + s.size)) - PAGE_OFFSET;
      if (imageEnd > this.gateBase - PAGE_OFFSET) throw new Error('kernel image overlaps the gate page');
      // Gate area: a spinning instruction in every slot, in case a hook is ever missed;
      // the whole area, so gates added after boot (kernelFunction) are filled and hooked too.
      for (let a = this.gateBase - PAGE_OFFSET; a < this.gateEnd - PAGE_OFFSET; a += arch.gateFill.length) this.mem.u8.set(arch.gateFill, a);
      // sys_call_table: every entry is a gate; holes go to sys_ni_syscall.
      const ni = this.symbols.get('sys_ni_syscall')!;
      for (let nr = 0; nr < nrSyscalls; nr++) this.mem.dv.setUint32(tablePa + 4 * nr, this.symbols.get(`sys_${this.syscallNames.get(nr)}`) ?? ni, true);

      let reservedEnd = tablePa + 4 * nrSyscalls;
      // ARM: the vectors page, assembled at 0xffff0000 into its own frame.
      const vsrc = arch.vectorsSource();
      let vectorsPa: number | null = null;
      if (vsrc) {
        const vprelude = [...this.symbols].map(([n, v]) => `.equ ${n}, 0x${v.toString(16)}`).join('\n');
        this.vectors = assembleProgram(`${vprelude}\n${vsrc.text}`, { arch: arch.cpu.name, fileName: vsrc.file, textAddr: 0xffff0000 });
        vectorsPa = alignUp(reservedEnd, PAGE_SIZE);
        for (const s of this.vectors.sections) this.mem.u8.set(s.bytes, vectorsPa + (s.addr - 0xffff0000));
        for (const [n, v] of this.vectors.symbols) if (!this.symbols.has(n)) this.symbols.set(n, v);
        reservedEnd = vectorsPa + PAGE_SIZE;
      } else {
        this.vectors = null;
      }

      this.pages = new PageAllocator(this.mem, reservedEnd);
      const cache = (name: string, size: number) => new KmemCache(name, size, this.pages);
      this.caches = {
        task_struct: cache('task_struct', this.taskLayout.size),
        mm_struct: cache('mm_struct', mm_struct.size),
        vm_area_struct: cache('vm_area_struct', vm_area_struct.size),
        files_struct: cache('files_struct', files_struct.size),
        fs_struct: cache('fs_struct', fs_struct.size),
        sighand_struct: cache('sighand_struct', sighand_struct.size),
        signal_struct: cache('signal_struct', signal_struct.size),
      };
      // swapper_pg_dir: the kernel's own page table (init_mm).
      this.swapperPgd = this.pages.allocPages(Math.log2(arch.pgtable.pgdSize / PAGE_SIZE));
      arch.pgtable.initKernel(this.mem, this.swapperPgd, this.mem.size, () => this.pages.allocPages(0), vectorsPa);
      this.mm = new MemoryManager(this.mem, this.pages, arch.pgtable, this.caches.mm_struct, this.caches.vm_area_struct, this.swapperPgd);
      this.mm.note = (fn, text) => this.emit({ t: 'note', fn, text } as TraceEvent);

      this.ops = arch.attach(this.cpu, this.mem, (n) => this.sym(n));
      this.cpu.setTlbMode('virtual');
      this.cpu.hookTlbFill((va, type) => this.tlbFill(va, type));
      // The native counter stops the CPU on the gate area and on the hardware stops (entry.ts reads trapHit).
      this.cpu.setTraps([this.gateBase, this.gateEnd], this.ops.hardwareStops);
      this.cpu.hookInterrupt((intno) => {
            this.pendingIntr = intno;
        this.cpu.emuStop();
      });

      this.initTask = this.createInitTask();
      this.current = this.initTask;
      this.currentPgd = this.swapperPgd;
      this.ops.switchMm(this.swapperPgd);
    } catch (e) {
      this.cpu.close();
      throw e;
    }
  }

  pendingIntr: number | null = null;
  pendingBreak: number | null = null;
  /** Where the last run stopped for a guest breakpoint: the next run steps over that instruction once. */
  stoppedAtBreak: number | null = null;
  /** Guest crashes turned into signals, in order (for reports and tests). */
  readonly faults: { pid: number; sig: number; why: string; addr?: number }[] = [];

  /** After a user fault the CPU enters the kernel as it does for any exception: kernel mode, kernel stack. */
  prepareFaultEntry(): void {
    this.ops.trapEntry(this.kstackTop(this.current));
  }

  private addGate(name: string, fn: Gate['fn'], nr?: number): number {
    if (this.gateNext + GATE_SLOT > this.gateEnd) throw new Error(`no room left for gate ${name}`);
    const g: Gate = { name, addr: this.gateNext, fn, nr };
    this.gates.set(g.addr, g);
    this.gateNext += GATE_SLOT;
    return g.addr;
  }

  /**
   * The address of a kernel function (a gate, added on first use), so that it
   * can be stored as a function pointer in guest memory and called from asm;
   * the gate passes the first argument register as `arg`.
   */
  kernelFunction(fn: KernelThreadFn, name = fn.name || 'kernel_fn'): number {
    let addr = this.kernelFns.get(fn);
    if (addr === undefined) {
      addr = this.addGate(name, (k, t) => fn(k, t, k.ops.gateArg0()));
      this.kernelFns.set(fn, addr);
      this.kernelFnAt.set(addr, fn);
      this.symbols.set(name, addr);
    }
    return addr;
  }

  /** The kernel function at a function pointer's address (kernelFunction's inverse). */
  kernelFunctionAt(addr: number): KernelThreadFn {
    const fn = this.kernelFnAt.get(addr);
    if (!fn) throw new Error(`0x${addr.toString(16)} is not a kernel function`);
    return fn;
  }

  /** The gate at a trap address the CPU stopped at, if it is one. */
  gateAt(addr: number): Gate | null {
    return this.gates.get(addr) ?? null;
  }

  /** A kernel symbol's address (entry asm labels, gates, sys_call_table …). */
  sym(name: string): number {
    const v = this.symbols.get(name);
    if (v === undefined) throw new Error(`kernel symbol "${name}" is not defined`);
    return v;
  }

  /** The nearest kernel symbol at or below addr, for backtraces and disassembly. */
  symbolize(addr: number): string | null {
    let best: [string, number] | null = null;
    for (const [n, v] of this.symbols) if (v <= addr && (!best || v > best[1]) && addr - v < 0x1000 && !n.startsWith('.')) best = [n, v];
    if (!best) return null;
    return best[1] === addr ? best[0] : `${best[0]}+0x${(addr - best[1]).toString(16)}`;
  }

  // ---- tasks -------------------------------------------------------------

  task(taskVa: number): Task {
    const t = this.byPa.get(__pa(taskVa));
    if (!t) throw new Error(`no task_struct at 0x${taskVa.toString(16)}`);
    return t;
  }

  /** init_task: pid 0, "swapper", the idle task (init_thread_union holds its stack). */
  private createInitTask(): Task {
    const pa = this.caches.task_struct.alloc();
    const t = new Task(this.mem, this.taskLayout, pa);
    this.byPa.set(pa, t);
    const stackPa = this.pages.allocPages(1);
    t.v.set('stack', __va(stackPa));
    new StructView(this.mem, this.arch.layouts.thread_info, stackPa).set('task', t.va);
    t.v.set('state', 0);
    t.v.set('usage', 2);
    t.v.set('flags', 0x00200000); // PF_KTHREAD
    t.v.set('prio', 120);
    t.v.set('static_prio', 120);
    t.v.setString('comm', 'swapper');
    t.v.set('exit_signal', 17);
    for (const l of ['tasks', 'children', 'sibling', 'thread_group']) INIT_LIST_HEAD(this.mem, t.va + this.taskLayout.offsetOf(l));
    t.v.set('real_parent', t.va);
    t.v.set('parent', t.va);
    t.v.set('group_leader', t.va);
    // init_mm: no user half, only swapper_pg_dir.
    const initMm = this.caches.mm_struct.alloc();
    const mm = new StructView(this.mem, mm_struct, initMm);
    mm.set('pgd', __va(this.swapperPgd));
    mm.set('mm_users', 2);
    mm.set('mm_count', 2); // the users' reference (mm_users never reaches 0) + init_task's active_mm (mmgrab in cpu_init)
    t.v.set('active_mm', __va(initMm));
    this.initMmVa = __va(initMm);
    // init_files, init_fs, init_sighand, init_signals
    const files = new StructView(this.mem, files_struct, this.caches.files_struct.alloc());
    files.set('count', 1);
    files.set('max_fds', 16);
    for (let fd = 0; fd < 3; fd++) this.mem.dv.setUint32(files.addrOf('fd') + 4 * fd, fd + 1, true);
    t.v.set('files', __va(files.pa));
    const fs = new StructView(this.mem, fs_struct, this.caches.fs_struct.alloc());
    fs.set('users', 1);
    fs.set('umask', 0o22);
    t.v.set('fs', __va(fs.pa));
    const sh = new StructView(this.mem, sighand_struct, this.caches.sighand_struct.alloc());
    sh.set('count', 1);
    t.v.set('sighand', __va(sh.pa));
    const sig = new StructView(this.mem, signal_struct, this.caches.signal_struct.alloc());
    sig.set('sigcnt', 1);
    sig.set('live', 1);
    sig.set('nr_threads', 1);
    sig.set('rlim_nproc', this.opts.rlimitNproc);
    init_waitqueue_head(this, __va(sig.pa) + signal_struct.offsetOf('wait_chldexit'));
    t.v.set('signal', __va(sig.pa));
    this.pidHash.set(0, t);
    return t;
  }
  initMmVa = 0;

  /** Top of a task's kernel stack (where the hardware puts pt_regs' end). */
  kstackTop(t: Task): number {
    return __va(t.tiPa + THREAD_SIZE);
  }

  /** pt_regs of a task (physical), at the top of its kernel stack. */
  ptRegsPa(t: Task): number {
    return t.tiPa + THREAD_SIZE - this.arch.layouts.pt_regs.size;
  }

  regs(t: Task): StructView {
    return new StructView(this.mem, this.arch.layouts.pt_regs, this.ptRegsPa(t));
  }

  threadInfo(t: Task): StructView {
    return new StructView(this.mem, this.arch.layouts.thread_info, t.tiPa);
  }

  // ---- memory ------------------------------------------------------------

  /** The pgd the CPU uses now (the current task's active_mm). */
  currentPgd = 0;

  /**
   * The page of the `until` address runKernel passes to uc_emu_start. Unicorn
   * looks that page up through the TLB when a run stops (measured: a fetch of
   * 0xfffffc00 appeared on every stop), so it must translate in every mode; it
   * maps to a frame of gate slots, which spin in place if ever executed.
   */
  static readonly EXIT_PAGE = 0xfffff000;
  private exitPagePa = -1;

  private tlbFill(va: number, type: number): { paddr: number; perms: number } | null {
    if (((va & ~(PAGE_SIZE - 1)) >>> 0) === Kernel.EXIT_PAGE) {
      if (this.exitPagePa < 0) {
        this.exitPagePa = this.pages.allocPages(0);
        for (let a = 0; a < PAGE_SIZE; a += this.arch.gateFill.length) this.mem.u8.set(this.arch.gateFill.subarray(0, PAGE_SIZE - a), this.exitPagePa + a);
      }
      return { paddr: this.exitPagePa + (va & (PAGE_SIZE - 1)), perms: UC.PROT_READ | UC.PROT_EXEC };
    }
    const access: Access = type === UC.MEM_WRITE ? 'write' : type === UC.MEM_FETCH ? 'fetch' : 'read';
    const user = this.ops.isUserMode();
    const permit = () => {
      const pte = this.arch.pgtable.walk(this.mem, this.currentPgd, va);
      if (!pte) return null;
      if (user && !pte.prot.user) return null;
      if (access === 'write' && !pte.prot.write) return null;
      if (access === 'fetch' && !pte.prot.exec) return null;
      return {
        // The exact physical address of va: QEMU masks it to its own page size (1 KiB on ARM).
        paddr: pte.pa,
        perms: UC.PROT_READ | (pte.prot.write ? UC.PROT_WRITE : 0) | (pte.prot.exec ? UC.PROT_EXEC : 0),
      };
    };
    const ok = permit();
    if (ok) return ok;
    const mmVa = this.current.mm;
    if (mmVa && va < PAGE_OFFSET && this.mm.handleMmFault(mmVa, va, access)) {
      const again = permit();
      if (again) return again;
    }
    this.lastFault = { address: va >>> 0, access, user };
    return null;
  }

  /**
   * Reads guest memory by virtual address through the current page tables, as
   * the debugger's `x` does (kernel addresses translate in every mm). Unmapped
   * bytes stop the read: the result may be shorter than `len`.
   */
  readVirt(va: number, len: number, pgd = this.currentPgd): Uint8Array {
    const out: number[] = [];
    for (let i = 0; i < len; i++) {
      const pte = this.arch.pgtable.walk(this.mem, pgd, (va + i) >>> 0);
      if (!pte || pte.pa >= this.mem.size) break;
      out.push(this.mem.u8[pte.pa]!);
    }
    return Uint8Array.from(out);
  }

  // ---- tracing -----------------------------------------------------------

  /**
   * Guest instructions retired so far: the unit of run budgets. The clock
   * (CLOCK_MONOTONIC, trace timestamps) is ktime_get() in time/clock.ts, which
   * adds the time skipped while idle.
   */
  get now(): number {
    return this.cpu.retired;
  }

  emit(e: Omit<TraceEvent, 'ts' | 'pid' | 'comm'> & { t: TraceEvent['t'] }, t: Task = this.current): void {
    if (!this.trace.active) return;
    this.trace.emit({ ts: ktime_get(this), pid: t.pid, comm: t.comm, ...e } as TraceEvent);
  }

  /** Calls a kernel function so that the tracer sees the call and return and the debugger can stop at its entry. */
  *call<T>(fn: string, body: KGen<T>): Generator<KYield, T, void> {
    const t = this.current;
    const depth = t.kframes.length;
    this.emit({ t: 'call', fn, depth } as TraceEvent, t);
    t.kframes.push(fn);
    yield { op: 'point', fn, text: `${fn}()` };
    try {
      const r = yield* body;
      return r;
    } finally {
      t.kframes.pop();
      this.emit({ t: 'ret', fn, depth } as TraceEvent, t);
    }
  }

  /** A narrated step inside a kernel function: a stop point for the debugger and a note in the trace. */
  *step(fn: string, text: string): Generator<KYield, void, void> {
    this.emit({ t: 'note', fn, text } as TraceEvent);
    yield { op: 'point', fn, text };
  }

  event(name: string, fields: Record<string, string | number>): void {
    this.emit({ t: 'event', name, fields } as TraceEvent);
  }

  // ---- gates whose body is in other modules (set by src/kernel/index.ts) ---

  sysNiSyscall(_t: Task): KGen<number> {
    return (function* () {
      return -38; // -ENOSYS
    })();
  }
  /** schedule_tail: the first thing a new task runs (from ret_from_fork); CLONE_CHILD_SETTID is honoured here. */
  scheduleTailGate(t: Task): KGen<number> {
    const k = this;
    return (function* () {
      const tid = t.v.get('set_child_tid');
      if (tid && t.mm) k.mm.putUser32(t.mm, tid, t.pid);
      yield* k.step('schedule_tail', `pid ${t.pid} runs for the first time${tid ? `; *set_child_tid(0x${tid.toString(16)}) = ${t.pid}` : ''}`);
      return 0;
    })();
  }

  /** ARM private syscalls (0xf0000 + n); set_tls = 0xf0005. */
  armSyscallGate(t: Task): KGen<number> {
    const k = this;
    return (function* () {
      const regs = k.regs(t);
      const nr = regs.get(k.arch.syscallRegs.nr);
      if (nr === 0xf0005) {
        k.arch.setTls(k.mem, t, regs.get(k.arch.syscallRegs.args[0]!));
        return 0;
      }
      return -38;
    })();
  }

  /** path → pid of the first task that exec'd it. */
  readonly execs = new Map<string, number>();

  /** Exit codes in the order tasks exited (pid, wait status). */
  readonly exits: { pid: number; code: number }[] = [];

  /** The host fd a guest fd writes to (1 = stdout, 2 = stderr), or null if closed. */
  fdTarget(t: Task, fd: number): number | null {
    const files = t.v.get('files');
    if (!files || fd < 0 || fd > 15) return null;
    const v = this.mem.dv.getUint32(__pa(files) + files_struct.offsetOf('fd') + 4 * fd, true);
    return v ? v - 1 : null;
  }

  /** sighand->action[sig-1]: 0 = SIG_DFL, 1 = SIG_IGN, else a handler address. */
  sighandAction(t: Task, sig: number): number {
    const sh = t.v.get('sighand');
    if (!sh) return 0;
    return this.mem.dv.getUint32(__pa(sh) + sighand_struct.offsetOf('action') + 4 * (sig - 1), true);
  }

  close(): void {
    this.cpu.close();
  }
}

/**
 * C functions the entry asm calls by name besides the syscalls (schedule,
 * do_work_pending, …), registered by src/kernel/index.ts. Each becomes a gate
 * whose address the asm sees as a symbol.
 */
export const kernelEntryPoints = new Map<string, Gate['fn']>();

/** Resolved lazily: src/kernel/syscalls registers the handlers by name. */
export type SyscallHandler = (k: Kernel, t: Task, args: number[]) => KGen<number>;
export const syscallHandlers = new Map<string, SyscallHandler>();

function syscallHandler(name: string): Gate['fn'] {
  return (k, t) => {
    const h = syscallHandlers.get(name);
    const sr = k.arch.syscallRegs;
    const regs = k.regs(t);
    const args = sr.args.map((f) => regs.get(f));
    if (!h) return k.sysNiSyscall(t);
    return h(k, t, args);
  };
}
