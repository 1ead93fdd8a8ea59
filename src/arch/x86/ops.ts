// The CPU-facing half of the i386 architecture: what the hardware does on `int $0x80`
// and `iret`, the context switch (switch_to / __switch_to), CR3, the GDT and the TSS.
//
// Unicorn runs everything at CPL 0 (DESIGN.md, "Privilege"), so the user/kernel split
// is the model's own mode flag: the kernel's TLB-fill hook asks isUserMode() and
// denies user-mode access to pages without the US bit. The i386 TLB is not tagged by
// privilege, so every mode change here flushes it.
//
// Segment selectors are real: attach() writes Linux's 32-bit GDT into gdt_page (in
// the kernel image's .data) and points GDTR at it, so the asm's `movl %edx, %ds`
// (__USER_DS) and `popl %gs` (a TLS selector) load real descriptors. CS and SS are
// never written (Unicorn keeps its flat reset CS/SS, selector 0); the trap gate
// pushes __USER_CS/__USER_DS as the saved cs/ss so pt_regs shows what Linux shows.

import type { Unicorn } from '../../cpu/unicorn.js';
import { X86_REG } from '../../cpu/uc-consts.js';
import { StructView, type PhysMem } from '../../machine/struct.js';
import { PAGE_OFFSET, PAGE_SIZE, type ArchCpuOps, type TaskRef, type UserAccess } from '../types.js';
import { decodeSegLoad, type MemOperand, type SregName } from './segload.js';
import {
  GDT_ENTRIES,
  GDT_ENTRY_DEFAULT_USER_CS,
  GDT_ENTRY_DEFAULT_USER_DS,
  GDT_ENTRY_KERNEL_CS,
  GDT_ENTRY_KERNEL_DS,
  GDT_ENTRY_TLS_ENTRIES,
  GDT_ENTRY_TLS_MIN,
  GDT_ENTRY_TSS,
  X86_EFLAGS_IF,
  X86_EFLAGS_NT,
  X86_EFLAGS_RF,
  X86_EFLAGS_TF,
  X86_EFLAGS_VM,
  __KERNEL_DS,
  __USER_CS,
  __USER_DS,
  descBase,
  gdtEntry,
  hwTssLayout,
  threadStructLayout,
} from './layout.js';

/** What the i386 ops offer beyond the contract (see the report / types.ts notes). */
export interface X86CpuOps extends ArchCpuOps {
  /** Always present on i386 (the GDT page); see its comment below. */
  completeImplicitAccess(faultVa: number, user: UserAccess): boolean;
  /** The task whose context is loaded (set by loadFirst / switchTo). */
  readonly current: TaskRef | null;
  /** Guest virtual addresses of the GDT and the TSS, for the debugger. */
  readonly gdtVa: number;
  readonly tssVa: number;
  /** Sets the mode flag (and flushes the TLB); for boot code that enters a mode without a trap or iret. */
  setUserMode(user: boolean): void;
}

/** Per-RAM state shared with the arch functions that get only `mem` (setTls, tls.ts). */
interface CpuState {
  mem: PhysMem;
  gdtPa: number;
  tssPa: number;
  current: TaskRef | null;
}

const states = new WeakMap<ArrayBufferLike, CpuState>();

export function cpuStateFor(mem: PhysMem): CpuState | undefined {
  return states.get(mem.u8.buffer);
}

/** Kernel virtual → physical for lowmem (the only memory the kernel's stacks and tables live in). */
function kpa(mem: PhysMem, va: number): number {
  const pa = (va >>> 0) - PAGE_OFFSET;
  if (pa < 0 || pa >= mem.size) throw new Error(`x86: 0x${(va >>> 0).toString(16)} is not a kernel lowmem address`);
  return pa;
}

/** Accepts a kernel stack pointer given as a VA (>= PAGE_OFFSET) or as a lowmem PA. */
function kva(addr: number): number {
  addr >>>= 0;
  return addr >= PAGE_OFFSET ? addr : (addr + PAGE_OFFSET) >>> 0;
}

/** Descriptor type bit 0 of a code/data segment (S = 1): "accessed". */
const DESC_S = 0x1000;
const DESC_A = 0x100;

/**
 * Writes a descriptor into the GDT. Code/data descriptors go in with the Accessed
 * bit already set (as fill_ldt does since Linux 4.15): otherwise the CPU would set
 * it itself on the first load, a write to the GDT page.
 */
function writeGdtEntry(mem: PhysMem, gdtPa: number, idx: number, [lo, hi]: [number, number]): void {
  mem.dv.setUint32(gdtPa + 8 * idx, lo, true);
  mem.dv.setUint32(gdtPa + 8 * idx + 4, hi & DESC_S ? (hi | DESC_A) >>> 0 : hi, true);
}

/** load_TLS: copies thread.tls_array (of the thread_struct at threadPa) into GDT entries 6..8. */
export function loadTls(st: CpuState, threadPa: number): void {
  const src = threadPa + threadStructLayout.offsetOf('tls_array');
  for (let i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++) {
    const lo = st.mem.dv.getUint32(src + 8 * i, true);
    const hi = st.mem.dv.getUint32(src + 8 * i + 4, true);
    writeGdtEntry(st.mem, st.gdtPa, GDT_ENTRY_TLS_MIN + i, [lo, hi]);
  }
}

const R = X86_REG;

export function attachX86(cpu: Unicorn, mem: PhysMem, sym: (name: string) => number): X86CpuOps {
  const systemCall = sym('system_call') >>> 0;
  const irqReturn = sym('irq_return') >>> 0;
  const irq0 = sym('irq0_interrupt') >>> 0;
  const gdtVa = sym('gdt_page') >>> 0;
  const tssVa = sym('init_tss') >>> 0;
  const gdtPa = kpa(mem, gdtVa);
  const exStart = sym('__start___ex_table') >>> 0;
  const exStop = sym('__stop___ex_table') >>> 0;
  const tssPa = kpa(mem, tssVa);
  if (gdtVa % PAGE_SIZE) throw new Error('x86: gdt_page is not page-aligned');

  // The GDT, as Linux's cpu/common.c gdt_page initialiser has it for 32-bit.
  mem.u8.fill(0, gdtPa, gdtPa + PAGE_SIZE);
  writeGdtEntry(mem, gdtPa, GDT_ENTRY_KERNEL_CS, gdtEntry(0xc09a, 0, 0xfffff));
  writeGdtEntry(mem, gdtPa, GDT_ENTRY_KERNEL_DS, gdtEntry(0xc092, 0, 0xfffff));
  writeGdtEntry(mem, gdtPa, GDT_ENTRY_DEFAULT_USER_CS, gdtEntry(0xc0fa, 0, 0xfffff));
  writeGdtEntry(mem, gdtPa, GDT_ENTRY_DEFAULT_USER_DS, gdtEntry(0xc0f2, 0, 0xfffff));
  // Available 32-bit TSS (type 9), present, DPL 0 — described, not loaded into TR.
  writeGdtEntry(mem, gdtPa, GDT_ENTRY_TSS, gdtEntry(0x0089, tssVa, hwTssLayout.size - 1));
  const tss = new StructView(mem, hwTssLayout, tssPa);
  mem.u8.fill(0, tssPa, tssPa + hwTssLayout.size);
  tss.set('ss0', __KERNEL_DS);
  tss.set('io_bitmap_base', hwTssLayout.size); // INVALID_IO_BITMAP_OFFSET-style: no bitmap

  // GDTR ← { base = gdt_page (a linear address), limit = GDT_SIZE - 1 }: struct uc_x86_mmr.
  const setGdtr = (base: number): void => {
    const mmr = new Uint8Array(24);
    const mdv = new DataView(mmr.buffer);
    mdv.setBigUint64(8, BigInt(base), true);
    mdv.setUint32(16, GDT_ENTRIES * 8 - 1, true);
    cpu.regWriteRaw(R.GDTR, mmr);
  };
  // Load real selectors once, the way a boot loader does before paging is on:
  //  - SS ← __KERNEL_DS. Unicorn's reset SS descriptor lacks the B (32-bit) flag;
  //    QEMU recomputes the stack size from it on every segment load, so after the
  //    first `movl %edx, %ds` pushes and pops would use the 16-bit SP (measured).
  //  - DS, ES ← __USER_DS: a task entering user mode with Unicorn's null reset
  //    selectors would otherwise have 0 saved by SAVE_ALL and popped back as a
  //    null segment that faults on the first data access.
  // While paging is off, linear = physical: point GDTR at the GDT's physical
  // address so the descriptor reads need no page tables and no TLB hook.
  const pagingOn = (cpu.regRead(R.CR0) & 0x80000000) !== 0;
  setGdtr(pagingOn ? gdtVa : gdtPa);
  cpu.regWrite(R.SS, __KERNEL_DS);
  cpu.regWrite(R.DS, __USER_DS);
  cpu.regWrite(R.ES, __USER_DS);
  setGdtr(gdtVa);

  const st: CpuState = { mem, gdtPa, tssPa, current: null };
  states.set(mem.u8.buffer, st);

  let user = false;
  const setMode = (u: boolean): void => {
    if (u === user) return;
    user = u;
    cpu.flushTlb();
  };

  const rd = (va: number): number => mem.dv.getUint32(kpa(mem, va), true);
  const wr = (va: number, v: number): void => mem.dv.setUint32(kpa(mem, va), v >>> 0, true);
  const thread = (t: TaskRef): StructView => new StructView(mem, threadStructLayout, t.threadPa);

  /** __switch_to's hardware part: TSS.esp0 ← next->thread.sp0, the TLS descriptors into the GDT. */
  const switchToHw = (next: TaskRef): void => {
    const sp0 = thread(next).get('sp0');
    if (sp0) tss.set('sp0', sp0);
    loadTls(st, next.threadPa);
    st.current = { tiPa: next.tiPa, taskPa: next.taskPa, threadPa: next.threadPa };
  };

  /** Loads next's saved context: esp = thread.sp, pop ebp, pop eflags, eip = thread.ip. */
  const loadContext = (next: TaskRef): void => {
    const t = thread(next);
    const sp = t.get('sp');
    const ip = t.get('ip');
    if (!sp || !ip) throw new Error(`x86: task at pa 0x${next.taskPa.toString(16)} has no saved context (thread.sp/ip are 0): copy_thread never ran for it`);
    const ebp = rd(sp);
    const eflags = rd(sp + 4);
    cpu.regWriteBatch([R.ESP, R.EBP, R.EFLAGS, R.EIP], [sp + 8, ebp, eflags, ip]);
  };

  /**
   * The CPU through an IDT gate from user mode: read the user context, switch
   * to CPL 0 (here: the mode flag) and to ss0:esp0, push the old ss, esp,
   * eflags, cs, eip (Unicorn's own selectors are 0: push Linux's), clear TF,
   * NT, RF, VM (and IF for an interrupt gate), jump to the gate's target.
   */
  const gateFromUser = (kstackTop: number, target: number, clear: number): void => {
    const [eip, esp, eflags] = cpu.regReadBatch([R.EIP, R.ESP, R.EFLAGS]);
    setMode(false);
    let sp = kva(kstackTop);
    tss.set('sp0', sp);
    for (const v of [__USER_DS, esp!, eflags!, __USER_CS, eip!]) {
      sp = (sp - 4) >>> 0;
      wr(sp, v);
    }
    const kflags = eflags! & ~(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF | X86_EFLAGS_VM | clear);
    cpu.regWriteBatch([R.ESP, R.EFLAGS, R.EIP], [sp, kflags, target]);
  };

  const SREG_IDS: Record<SregName, number> = { es: R.ES, cs: R.CS, ss: R.SS, ds: R.DS, fs: R.FS, gs: R.GS };
  const GPR_IDS = [R.EAX, R.ECX, R.EDX, R.EBX, R.ESP, R.EBP, R.ESI, R.EDI];

  /** The GDT descriptor a user-mode selector names, if a CPL 3 data-segment load may use it (null: #GP). */
  const userDataDesc = (sel: number): [number, number] | null => {
    const index = sel & ~7;
    if (sel & 4) return null; // TI = 1: the LDT, and this machine has none (modify_ldt is not modelled)
    if (index + 7 > GDT_ENTRIES * 8 - 1) return null; // past the GDT limit
    const lo = mem.dv.getUint32(gdtPa + index, true);
    const hi = mem.dv.getUint32(gdtPa + index + 4, true);
    if (!(hi & DESC_S)) return null; // a system descriptor (TSS, gates) or an empty slot
    if ((hi & 0x0a00) === 0x0800) return null; // execute-only code: not readable
    if (((hi >>> 13) & 3) !== 3) return null; // DPL < max(CPL 3, RPL): a kernel segment
    return [lo, hi];
  };

  /** Base of the segment a data access goes through (SS and CS stay flat here, see the header). */
  const segBase = (seg: SregName): number | null => {
    if (seg === 'ss' || seg === 'cs') return 0;
    const sel = cpu.regRead(SREG_IDS[seg]) & 0xffff;
    if ((sel & ~3) === 0) return null; // a null selector: any access through it is #GP
    const d = userDataDesc(sel);
    return d ? descBase(d[0], d[1]) : null;
  };

  const effectiveAddress = (m: MemOperand, regs: number[]): number | null => {
    const base = segBase(m.seg);
    if (base === null) return null;
    return (base + (m.base === null ? 0 : regs[m.base]!) + (m.index === null ? 0 : regs[m.index]! * m.scale) + m.disp) >>> 0;
  };

  const ops: X86CpuOps = {
    gdtVa,
    tssVa,
    get current() {
      return st.current;
    },

    /**
     * Completes a user-mode segment-register load (`movw %ax, %gs`, `popl %gs`,
     * `lgs`, …) whose descriptor read faulted on the GDT page.
     *
     * Why: the CPU reads the GDT with supervisor rights whatever the CPL (Intel SDM
     * 3A 4.6: "implicit supervisor-mode accesses"), and QEMU does the same
     * (cpu_ldl_kernel). But Unicorn runs everything at CPL 0 and the TLB-fill hook
     * only learns (page, read): it cannot tell that implicit read from a plain
     * `movl gdt_page, %eax` by the user. Granting the page would let user code read
     * the GDT (and keep reading it: the grant stays in the TLB), so the hook refuses
     * every user-mode access to it, and a segment load from user mode stops here
     * with eip on the instruction. Like the iret at irq_return, the instruction is
     * then completed outside the CPU, as the hardware would do it:
     *   - its explicit operand (register, stack slot, memory) is read with user
     *     rights through `user` (a GDT or kernel address there is a real fault);
     *   - the CPL 3 checks QEMU skips at CPL 0: GDT only, S = 1, readable, DPL 3;
     *   - the descriptor load itself with kernel rights (the mode flag is cleared
     *     for the write of the segment register, so QEMU's descriptor read passes
     *     the TLB hook; the TLB is flushed on both mode changes, so nothing of it
     *     stays visible to user mode);
     *   - then the instruction's other effects (esp for pop, the offset register
     *     for lds & co) and eip past it.
     * Anything else faulting on the GDT page is a real fault (false: SIGSEGV).
     * Not done: segment limit checks on the explicit operand, loads of %ss.
     */
    completeImplicitAccess(faultVa: number, uacc: UserAccess): boolean {
      if (!user || ((faultVa & ~(PAGE_SIZE - 1)) >>> 0) !== gdtVa) return false;
      const eip = cpu.regRead(R.EIP);
      const code: number[] = [];
      for (let i = 0; i < 15; i++) {
        const b = uacc.read((eip + i) >>> 0, 1); // byte by byte: the instruction may end before an unmapped page
        if (!b) break;
        code.push(b[0]!);
      }
      const insn = decodeSegLoad(Uint8Array.from(code));
      if (!insn) return false;
      const regs = cpu.regReadBatch(GPR_IDS);
      let sel: number;
      let esp = regs[4]!;
      let offset: { dest: number; value: number; bytes: 2 | 4 } | null = null;
      const src = insn.src;
      if (src.kind === 'reg') sel = regs[src.reg]! & 0xffff;
      else if (src.kind === 'pop') {
        const b = uacc.read(esp, 2);
        if (!b) return false;
        sel = b[0]! | (b[1]! << 8);
        esp = (esp + src.size) >>> 0;
      } else {
        const ea = effectiveAddress(src.mem, regs);
        if (ea === null) return false;
        const b = uacc.read(ea, src.offsetBytes + 2);
        if (!b) return false;
        const dv = new DataView(b.buffer);
        sel = dv.getUint16(src.offsetBytes, true);
        if (src.dest !== null && src.offsetBytes) offset = { dest: src.dest, bytes: src.offsetBytes, value: src.offsetBytes === 4 ? dv.getUint32(0, true) : dv.getUint16(0, true) };
      }
      // A null selector never reads the GDT, so it cannot have faulted here; anything
      // else must pass the CPL 3 checks before the CPU (at CPL 0) loads it.
      if ((sel & ~3) !== 0 && !userDataDesc(sel)) return false;
      setMode(false);
      try {
        cpu.regWrite(SREG_IDS[insn.sreg], sel);
      } catch {
        return false; // QEMU refused the descriptor (not present …): #GP / #NP
      } finally {
        setMode(true);
      }
      if (offset) {
        const old = regs[offset.dest]!;
        const v = offset.bytes === 4 ? offset.value : ((old & 0xffff0000) | offset.value) >>> 0;
        if (offset.dest === 4) esp = v;
        else cpu.regWrite(GPR_IDS[offset.dest]!, v);
      }
      cpu.regWriteBatch([R.ESP, R.EIP], [esp, (eip + insn.len) >>> 0]);
      return true;
    },

    fixupException(): boolean {
      // search_exception_tables(regs->ip) over __ex_table in guest memory.
      const eip = cpu.regRead(R.EIP) >>> 0;
      for (let e = exStart; e < exStop; e += 8) {
        if (rd(e) >>> 0 !== eip) continue;
        cpu.regWrite(R.EIP, rd(e + 4));
        return true;
      }
      return false;
    },

    isUserMode(): boolean {
      return user;
    },

    setUserMode(u: boolean): void {
      setMode(u);
    },

    trapEntry(kstackTop: number): void {
      // int $0x80: a trap gate (DPL 3), so IF is left as it was.
      gateFromUser(kstackTop, systemCall, 0);
    },

    irqEntry(kstackTop: number): void {
      // The timer's interrupt gate (DPL 0): an interrupt gate also clears IF.
      gateFromUser(kstackTop, irq0, X86_EFLAGS_IF);
    },

    hardwareStops: [irqReturn],

    completeHardwareStop(pc: number): void {
      if (pc >>> 0 !== irqReturn) throw new Error(`x86: no hardware instruction to complete at 0x${(pc >>> 0).toString(16)}`);
      // iret: pop eip, cs, eflags; to an outer privilege level (cs RPL 3) also esp, ss.
      const sp = cpu.regRead(R.ESP);
      const eip = rd(sp);
      const cs = rd(sp + 4);
      const eflags = rd(sp + 8);
      if ((cs & 3) === 3) {
        const esp = rd(sp + 12);
        // ss (sp + 16) is __USER_DS; Unicorn's SS stays flat (a CPL 0 SS cannot hold RPL 3).
        cpu.regWriteBatch([R.EIP, R.EFLAGS, R.ESP], [eip, eflags | 2, esp]);
        setMode(true);
      } else {
        // Same-privilege iret (returning to kernel code): no stack switch.
        cpu.regWriteBatch([R.EIP, R.EFLAGS, R.ESP], [eip, eflags | 2, sp + 12]);
      }
    },

    gateEnter(): number {
      // `ret`'s half of the call: pop the return address.
      const sp = cpu.regRead(R.ESP);
      const ret = rd(sp);
      cpu.regWrite(R.ESP, sp + 4);
      return ret;
    },

    gateArg0(): number {
      // -mregparm=3: the first argument travels in %eax.
      return cpu.regRead(R.EAX);
    },

    gateReturn(value: number, returnAddr: number): void {
      cpu.regWriteBatch([R.EAX, R.EIP], [value, returnAddr]);
    },

    switchTo(prev: TaskRef, next: TaskRef, prevPc: number): void {
      // switch_to (arch/x86/include/asm/switch_to.h, 32-bit):
      //   pushfl; pushl %ebp; movl %esp, prev->thread.sp; movl $1f, prev->thread.ip
      //   movl next->thread.sp, %esp; pushl next->thread.ip; jmp __switch_to
      //   1: popl %ebp; popfl
      if (user) throw new Error('x86: switch_to while the CPU is in user mode: the task must enter the kernel first (trapEntry)');
      const [esp, ebp, eflags] = cpu.regReadBatch([R.ESP, R.EBP, R.EFLAGS]);
      let sp = esp!;
      sp -= 4;
      wr(sp, eflags!);
      sp -= 4;
      wr(sp, ebp!);
      const p = thread(prev);
      p.set('sp', sp);
      p.set('ip', prevPc);
      switchToHw(next);
      loadContext(next);
    },

    switchMm(pgdPa: number): void {
      // load_cr3(next->pgd); paging on (with WP) the first time, for UC_TLB_CPU mode.
      cpu.regWrite(R.CR3, pgdPa);
      const cr0 = cpu.regRead(R.CR0);
      if ((cr0 & 0x80010000) !== 0x80010000) cpu.regWrite(R.CR0, (cr0 | 0x80010000) >>> 0);
      cpu.flushTlb();
    },

    loadFirst(next: TaskRef): void {
      setMode(false);
      switchToHw(next);
      loadContext(next);
    },
  };
  return ops;
}
