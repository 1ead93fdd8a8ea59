// Machine = one Unicorn engine (one CPU) + physical RAM at address 0.
//
// This is the bare machine: no kernel, identity-mapped memory. It loads a
// snippet, runs it under an instruction budget, single-steps it, and shows
// registers and memory. The modelled kernel (src/kernel) builds on the same
// engine and RAM but installs its own hooks and page tables.

import { Unicorn, UcError } from '../cpu/unicorn.js';
import { UC } from '../cpu/uc-consts.js';
import type { ArchCpu } from './arch-cpu.js';

export type StopReason =
  /** The syscall instruction (svc / int $0x80) trapped; pc is just past it. */
  | { kind: 'trap'; intno: number; pc: number }
  /** Some other CPU exception (undefined instruction, breakpoint …). */
  | { kind: 'exception'; intno: number; pc: number }
  /** The instruction budget ran out before the program stopped by itself. */
  | { kind: 'budget'; pc: number; budget: number }
  /** Execution reached the `until` address (e.g. fell off the end of a snippet). */
  | { kind: 'end'; pc: number }
  /** An access to memory that does not exist. */
  | { kind: 'fault'; pc: number; address: number; access: 'read' | 'write' | 'fetch'; reason: string }
  /** The CPU could not decode the instruction at pc. */
  | { kind: 'invalid'; pc: number; reason: string }
  /** A single step completed. */
  | { kind: 'step'; pc: number };

export function describeStop(s: StopReason): string {
  const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
  switch (s.kind) {
    case 'trap': return `trapped into the kernel (interrupt ${s.intno}) — pc ${hex(s.pc)} is just past the trap`;
    case 'exception': return `CPU exception ${s.intno} at pc ${hex(s.pc)}`;
    case 'budget': return `instruction budget of ${s.budget} spent at pc ${hex(s.pc)} — a runaway loop? (raise it with --budget)`;
    case 'end': return `reached the end of the code at ${hex(s.pc)}`;
    case 'fault': return `${s.access} of unmapped memory at ${hex(s.address)} (pc ${hex(s.pc)}): ${s.reason}`;
    case 'invalid': return `invalid instruction at pc ${hex(s.pc)}: ${s.reason}`;
    case 'step': return `stepped to ${hex(s.pc)}`;
  }
}

const ACCESS: Record<number, 'read' | 'write' | 'fetch'> = {
  19: 'read', 20: 'write', 21: 'fetch', // *_UNMAPPED
  22: 'write', 23: 'read', 24: 'fetch', // *_PROT
};

export interface MachineOptions {
  ramSize?: number;
  thumb?: boolean;
  cpuModel?: number;
}

export class Machine {
  readonly cpu: Unicorn;
  readonly ram: { u8: Uint8Array; dv: DataView; size: number };
  private lastTrap: number | null = null;
  private lastFault: { address: number; access: 'read' | 'write' | 'fetch'; size: number } | null = null;
  private codeEnd = 0;

  constructor(readonly arch: ArchCpu, opts: MachineOptions = {}) {
    this.cpu = new Unicorn(arch.name, {
      thumb: opts.thumb,
      cpuModel: opts.cpuModel ?? (arch.name === 'arm' ? UC.CPU_ARM_CORTEX_A15 : undefined),
    });
    this.ram = this.cpu.mapRam(opts.ramSize ?? 16 << 20);
    this.cpu.hookInterrupt((intno) => {
      this.lastTrap = intno;
      this.cpu.emuStop();
    });
    this.cpu.hookInvalidMem((type, address, size) => {
      this.lastFault = { address, access: ACCESS[type] ?? 'read', size };
      return false;
    });
  }

  /** Copies code or data into RAM at a physical address and discards stale translations. */
  load(addr: number, bytes: Uint8Array): void {
    this.checkRange(addr, bytes.length);
    this.ram.u8.set(bytes, addr);
    this.cpu.removeCache(addr, addr + bytes.length);
    this.codeEnd = Math.max(this.codeEnd, addr + bytes.length);
  }

  read(addr: number, len: number): Uint8Array {
    this.checkRange(addr, len);
    return this.ram.u8.slice(addr, addr + len);
  }

  readU32(addr: number): number {
    this.checkRange(addr, 4);
    return this.ram.dv.getUint32(addr, true);
  }

  writeU32(addr: number, value: number): void {
    this.checkRange(addr, 4);
    this.ram.dv.setUint32(addr, value >>> 0, true);
  }

  private checkRange(addr: number, len: number): void {
    if (addr < 0 || len < 0 || addr + len > this.ram.size) {
      throw new RangeError(`address range 0x${addr.toString(16)}+${len} is outside RAM (0..0x${this.ram.size.toString(16)})`);
    }
  }

  private regId(name: string): number {
    const id = this.arch.regIds[name.toLowerCase()];
    if (id === undefined) throw new Error(`unknown ${this.arch.name} register "${name}" (known: ${this.arch.regNames.join(', ')})`);
    return id;
  }

  reg(name: string): number {
    return this.cpu.regRead(this.regId(name));
  }

  setReg(name: string, value: number): void {
    this.cpu.regWrite(this.regId(name), value);
  }

  /** All display registers in one batched read. */
  regs(): Record<string, number> {
    const vals = this.cpu.regReadBatch(this.arch.regNames.map((n) => this.arch.regIds[n]!));
    const out: Record<string, number> = {};
    this.arch.regNames.forEach((n, i) => (out[n] = vals[i]!));
    return out;
  }

  get pc(): number {
    return this.reg(this.arch.pc);
  }

  /** True if the ARM CPU is in Thumb state (pc must then be entered with bit 0 set). */
  private thumbState(): boolean {
    return this.arch.name === 'arm' && (this.reg('cpsr') & 0x20) !== 0;
  }

  /**
   * Runs from `from` (default: the current pc) until the code traps, faults,
   * reaches `until` (default: the end of loaded code), or spends `budget` instructions.
   */
  run(opts: { from?: number; until?: number; budget?: number } = {}): StopReason {
    const budget = opts.budget ?? 10_000_000;
    return this.go(opts.from, opts.until ?? this.codeEnd, budget, false);
  }

  /** Executes exactly one instruction (or stops at a trap/fault it raises). */
  step(): StopReason {
    return this.go(undefined, 0xffffffff, 1, true);
  }

  private go(from: number | undefined, until: number, budget: number, stepping: boolean): StopReason {
    let begin = from ?? this.pc;
    if (from === undefined && this.thumbState()) begin |= 1;
    this.lastTrap = null;
    this.lastFault = null;
    const before = this.cpu.retired;
    const rc = this.cpu.emuStart(begin, until, budget);
    const pc = this.pc;
    const fault = this.lastFault as { address: number; access: 'read' | 'write' | 'fetch' } | null;
    if (this.lastTrap !== null) {
      return this.lastTrap === this.arch.syscallIntno
        ? { kind: 'trap', intno: this.lastTrap, pc }
        : { kind: 'exception', intno: this.lastTrap, pc };
    }
    if (rc !== 0) {
      const reason = this.cpu.strerror(rc);
      if (fault) return { kind: 'fault', pc, address: fault.address, access: fault.access, reason };
      if (rc === 10) return { kind: 'invalid', pc, reason };
      const access: 'read' | 'write' | 'fetch' = rc === 6 ? 'read' : rc === 7 ? 'write' : 'fetch';
      if (rc >= 6 && rc <= 8) return { kind: 'fault', pc, address: pc, access, reason };
      throw new UcError('uc_emu_start', rc, reason);
    }
    const ran = this.cpu.retired - before;
    if (stepping) return { kind: 'step', pc };
    if (ran >= budget && (pc & ~1) !== (until & ~1)) return { kind: 'budget', pc, budget };
    return { kind: 'end', pc };
  }

  close(): void {
    this.cpu.close();
  }
}
