// The CPU-facing half of the ARM architecture: what the hardware does on an SWI,
// the calls into TypeScript "C" functions (gates), and __switch_to.

import type { Unicorn } from '../../cpu/unicorn.js';
import { ARM_REG } from '../../cpu/uc-consts.js';
import type { PhysMem } from '../../machine/struct.js';
import type { ArchCpuOps, TaskRef } from '../types.js';
import { PAGE_OFFSET } from '../types.js';
import { KUSER_TLS, PSR, VECTOR_IRQ, VECTOR_SWI, cpuContextSave, threadInfo } from './layout.js';
import { armPgtable } from './pgtable.js';

/** A coprocessor register as Unicorn's uc_arm_cp_reg names it (cp 15, 32-bit, non-secure). */
export interface Cp15Reg {
  readonly crn: number;
  readonly crm: number;
  readonly opc1: number;
  readonly opc2: number;
}

/** TTBR0: translation table base 0 (c2, c0, 0). */
export const TTBR0: Cp15Reg = { crn: 2, crm: 0, opc1: 0, opc2: 0 };
/** TPIDRURO: user read-only thread ID register, the TLS pointer glibc reads with `mrc p15, 0, rX, c13, c0, 3`. */
export const TPIDRURO: Cp15Reg = { crn: 13, crm: 0, opc1: 0, opc2: 3 };

// struct uc_arm_cp_reg { u32 cp, is64, sec, crn, crm, opc1, opc2; u64 val; } — val at 32, 40 bytes.
const CP_REG_SIZE = 40;

export function cp15Read(cpu: Unicorn, r: Cp15Reg): number {
  const b = new Uint8Array(CP_REG_SIZE);
  const dv = new DataView(b.buffer);
  [15, 0, 0, r.crn, r.crm, r.opc1, r.opc2].forEach((v, i) => dv.setUint32(4 * i, v, true));
  cpu.regReadRaw(ARM_REG.CP_REG, b);
  return dv.getUint32(32, true);
}

export function cp15Write(cpu: Unicorn, r: Cp15Reg, value: number): void {
  const b = new Uint8Array(CP_REG_SIZE);
  const dv = new DataView(b.buffer);
  [15, 0, 0, r.crn, r.crm, r.opc1, r.opc2].forEach((v, i) => dv.setUint32(4 * i, v, true));
  dv.setUint32(32, value >>> 0, true);
  cpu.regWriteRaw(ARM_REG.CP_REG, b);
}

/** The registers __switch_to saves, in cpu_context_save order: r4 … r9, sl (r10), fp (r11), sp, pc. */
const CTX_REGS = [ARM_REG.R4, ARM_REG.R5, ARM_REG.R6, ARM_REG.R7, ARM_REG.R8, ARM_REG.R9, ARM_REG.R10, ARM_REG.R11, ARM_REG.SP];
const CTX_OFF = threadInfo.offsetOf('cpu_context');
const CTX_PC = CTX_OFF + cpuContextSave.offsetOf('pc');
const TP_VALUE = threadInfo.offsetOf('tp_value');

/** Attached ops by guest RAM, so setTls (which gets only memory) can reach the CPU of the task it changes. */
const attachedByMem = new WeakMap<PhysMem, ArmCpuOps>();

export function attachedOps(mem: PhysMem): ArmCpuOps | undefined {
  return attachedByMem.get(mem);
}

export class ArmCpuOps implements ArchCpuOps {
  readonly hardwareStops: readonly number[] = [];
  /** TTBR0 as last loaded (also kept here in case the register is unreadable). */
  pgd: number | null = null;
  /** thread_info (physical) of the task the CPU runs now, once loadFirst/switchTo ran. */
  currentTi: number | null = null;
  private kuserTlsPa: number | null = null;

  constructor(
    readonly cpu: Unicorn,
    readonly mem: PhysMem,
    readonly sym: (name: string) => number,
  ) {
    attachedByMem.set(mem, this);
  }

  isUserMode(): boolean {
    return (this.cpu.regRead(ARM_REG.CPSR) & PSR.MODE_MASK) === PSR.USR_MODE;
  }

  /**
   * What the CPU does when it takes the SVC exception (ARM ARM B1.8.10), done here
   * because Unicorn reports the SWI to the interrupt hook instead (with pc already
   * past the svc and the CPU still in USR mode):
   *   SPSR_svc = CPSR; mode = SVC; I = 1; T = 0 (SCTLR.TE), IT = 0, J = 0;
   *   LR_svc = the address of the next instruction (ARM or Thumb alike); pc = vector.
   * Writing CPSR through Unicorn switches the register banks, so the LR/SP/SPSR
   * writes after it land in the SVC bank. SP_svc is set to kstackTop: Linux never
   * needs this (SP_svc simply still holds the value ret_to_user left there, and the
   * context switch swaps it per task), but here TypeScript may have switched tasks
   * without running the asm, so the bank is loaded explicitly.
   */
  trapEntry(kstackTop: number): void {
    const [cpsr, pc] = this.cpu.regReadBatch([ARM_REG.CPSR, ARM_REG.PC]) as [number, number];
    const svc = ((cpsr & ~(PSR.MODE_MASK | PSR.T_BIT | PSR.IT_MASK | PSR.J_BIT)) | PSR.SVC_MODE | PSR.I_BIT) >>> 0;
    // pc is the next instruction already (svc is 4 bytes in ARM, 2 in Thumb); never with bit 0.
    const lr = (pc & ~1) >>> 0;
    this.cpu.regWriteBatch([ARM_REG.CPSR, ARM_REG.SPSR, ARM_REG.LR, ARM_REG.SP, ARM_REG.PC], [svc, cpsr, lr, kstackTop, VECTOR_SWI]);
  }

  /**
   * What the CPU does when it takes an IRQ (ARM ARM B1.8.10): SPSR_irq = CPSR;
   * mode = IRQ; I = 1; T = 0; LR_irq = the next instruction's address + 4;
   * pc = the IRQ vector. SP_svc is loaded with the task's THREAD_START_SP (as
   * in trapEntry) and SP_irq with irq_stack, the three-word exception stack
   * vector_irq saves r0, lr_irq and spsr_irq on (Linux: cpu_init's `stacks`).
   */
  irqEntry(kstackTop: number): void {
    const [cpsr, pc] = this.cpu.regReadBatch([ARM_REG.CPSR, ARM_REG.PC]) as [number, number];
    const base = (cpsr & ~(PSR.MODE_MASK | PSR.T_BIT | PSR.IT_MASK | PSR.J_BIT)) | PSR.I_BIT;
    this.cpu.regWriteBatch([ARM_REG.CPSR, ARM_REG.SP], [(base | PSR.SVC_MODE) >>> 0, kstackTop]);
    // Unicorn stopped before the instruction at pc: that is where the task resumes.
    const lr = ((pc & ~1) + 4) >>> 0;
    this.cpu.regWriteBatch([ARM_REG.CPSR, ARM_REG.SPSR, ARM_REG.LR, ARM_REG.SP, ARM_REG.PC], [(base | PSR.IRQ_MODE) >>> 0, cpsr, lr, this.sym('irq_stack'), VECTOR_IRQ]);
  }

  completeHardwareStop(pc: number): void {
    throw new Error(`arm: no hardware stops on ARM (asked to complete one at 0x${(pc >>> 0).toString(16)})`);
  }

  /** A gate was reached by `bl gate` / `ldr pc, [tbl, …]` with lr preset: the return address is lr. */
  gateEnter(): number {
    return this.cpu.regRead(ARM_REG.LR);
  }

  /** `mov pc, lr` with r0 = value; bit 0 of returnAddr selects Thumb (BX semantics). */
  gateReturn(value: number, returnAddr: number): void {
    this.cpu.regWriteBatch([ARM_REG.R0, ARM_REG.PC], [value >>> 0, returnAddr >>> 0]);
  }

  /** AAPCS: the first argument is in r0. */
  gateArg0(): number {
    return this.cpu.regRead(ARM_REG.R0);
  }

  /**
   * __switch_to (arch/arm/kernel/entry-armv.S): `stmia ip!, {r4 - sl, fp, sp, lr}`
   * into prev's thread_info.cpu_context, the TLS register from next's tp_value,
   * then `ldmia r4, {r4 - sl, fp, sp, pc}` from next's. prevPc plays lr's role.
   */
  switchTo(prev: TaskRef, next: TaskRef, prevPc: number): void {
    const regs = this.cpu.regReadBatch(CTX_REGS);
    const dv = this.mem.dv;
    const base = prev.tiPa + CTX_OFF;
    for (let i = 0; i < regs.length; i++) dv.setUint32(base + 4 * i, regs[i]!, true);
    dv.setUint32(prev.tiPa + CTX_PC, prevPc >>> 0, true);
    this.load(next);
  }

  loadFirst(next: TaskRef): void {
    // The first task starts in the kernel like every switched-to task: SVC mode, IRQs masked.
    const cpsr = this.cpu.regRead(ARM_REG.CPSR);
    if ((cpsr & PSR.MODE_MASK) !== PSR.SVC_MODE) {
      this.cpu.regWrite(ARM_REG.CPSR, ((cpsr & ~(PSR.MODE_MASK | PSR.T_BIT | PSR.IT_MASK | PSR.J_BIT)) | PSR.SVC_MODE | PSR.I_BIT) >>> 0);
    }
    this.load(next);
  }

  private load(next: TaskRef): void {
    const dv = this.mem.dv;
    const base = next.tiPa + CTX_OFF;
    const vals = CTX_REGS.map((_, i) => dv.getUint32(base + 4 * i, true));
    const pc = dv.getUint32(next.tiPa + CTX_PC, true);
    this.cpu.regWriteBatch([...CTX_REGS, ARM_REG.PC], [...vals, pc]);
    this.currentTi = next.tiPa;
    this.loadTls(dv.getUint32(next.tiPa + TP_VALUE, true));
  }

  /** set_tls: the TLS register TPIDRURO and the kuser word at 0xffff0ff0 that __kuser_get_tls reads. */
  loadTls(value: number): void {
    cp15Write(this.cpu, TPIDRURO, value);
    const pa = this.kuserTls();
    if (pa !== null) this.mem.dv.setUint32(pa, value >>> 0, true);
  }

  private kuserTls(): number | null {
    if (this.kuserTlsPa !== null) return this.kuserTlsPa;
    // The vectors page is one physical page shared by every mm: find it once through any pgd.
    if (this.pgd === null) return null;
    const hit = armPgtable.walk(this.mem, this.pgd, KUSER_TLS);
    if (hit) this.kuserTlsPa = hit.pa;
    return this.kuserTlsPa;
  }

  /** switch_mm → cpu_switch_mm: TTBR0 = pgd (physical), then a TLB flush (no ASIDs here). */
  switchMm(pgdPa: number): void {
    this.pgd = pgdPa;
    try {
      cp15Write(this.cpu, TTBR0, pgdPa);
    } catch {
      // Unicorn rejected the write: the value stays in this.pgd (the TLB-fill path does not need TTBR0).
    }
    this.cpu.flushTlb();
    // The kuser TLS word could not be located before the first pgd was known: store it now.
    if (this.kuserTlsPa === null && this.currentTi !== null) this.loadTls(this.mem.dv.getUint32(this.currentTi + TP_VALUE, true));
  }
}

/** Kernel virtual address of a physical lowmem address. */
export const kva = (pa: number): number => (pa + PAGE_OFFSET) >>> 0;
