// The i386 architecture for the modelled kernel: `x86KernelArch` implements the
// contract in src/arch/types.ts from the pieces in this folder.
//
//   layout.ts   thread_info, pt_regs, thread_struct, TSS; asm-offsets; GDT descriptors
//   pgtable.ts  two-level non-PAE page tables (4 MiB PSE kernel pages)
//   ops.ts      trap gate, iret, gates, switch_to, CR3, GDT/TSS (attach)
//   thread.ts   copy_thread, start_thread, flush_thread
//   tls.ts      set_thread_area / get_thread_area (tls.c), load_TLS on demand
//   segload.ts  decoding a user-mode segment-register load (see ops.ts)
//   asm/x86/entry_32.S   system_call, ret_from_fork, restore_all (guest code)
//   asm/x86/syscall.tbl  the i386 syscall numbers

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../cpu/libs.js';
import type { Unicorn } from '../../cpu/unicorn.js';
import type { PhysMem } from '../../machine/struct.js';
import type { KernelArch, KernelSource } from '../types.js';
import { x86Cpu } from './cpu.js';
import { TIF, asmOffsets, ptRegsLayout, threadInfoLayout, threadStructLayout } from './layout.js';
import { StructView } from '../../machine/struct.js';
import { attachX86, type X86CpuOps } from './ops.js';
import { x86PageTable } from './pgtable.js';
import { copyKernelThread, copyThread, copyThreadTls, flushThread, setTls, startThread } from './thread.js';
import { x86ThreadArea } from './tls.js';

export { asmOffsets, decodeUserDesc, flatTlsDesc, userDescLayout, type UserDesc } from './layout.js';
export type { X86CpuOps } from './ops.js';

/** Kernel image sources, in link order. */
export const KERNEL_SOURCES = ['entry_32.S'];

function asmDir(): string {
  return join(projectRoot(), 'asm', 'x86');
}

/** Parses syscall_32.tbl format: `<number> <abi> <name> [<entry point>]`, # comments. */
export function parseSyscallTbl(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const f = line.split(/\s+/);
    const nr = Number(f[0]);
    if (!Number.isInteger(nr) || f.length < 3) throw new Error(`syscall.tbl: bad line "${raw}"`);
    out.set(nr, f[2]!);
  }
  return out;
}

/**
 * traps.c: the signal each exception vector raises in user mode — #DE, #MF,
 * #XM SIGFPE; #DB, #BP SIGTRAP; #UD SIGILL; #NP, #SS, #AC SIGBUS; the rest
 * (#GP, #PF, #TS, #OF, #BR …) SIGSEGV.
 */
function trapSignal(vector: number): number {
  const SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11;
  const map: Record<number, number> = { 0: SIGFPE, 1: SIGTRAP, 3: SIGTRAP, 6: SIGILL, 11: SIGBUS, 12: SIGBUS, 16: SIGFPE, 17: SIGBUS, 19: SIGFPE };
  return map[vector] ?? SIGSEGV;
}

/** __NR_restart_syscall: 0 on i386 (and ARM EABI). */
const NR_restart_syscall = 0;

let tableCache: ReadonlyMap<number, string> | undefined;

export interface X86KernelArch extends KernelArch {
  attach(cpu: Unicorn, mem: PhysMem, sym: (name: string) => number): X86CpuOps;
}

export const x86KernelArch: X86KernelArch = {
  cpu: x86Cpu,
  kernelBase: 0xc0100000,

  kernelSources(): KernelSource[] {
    return KERNEL_SOURCES.map((f) => {
      const file = join(asmDir(), f);
      return { file, text: readFileSync(file, 'utf8') };
    });
  },

  vectorsSource(): KernelSource | null {
    return null;
  },

  asmOffsets,

  layouts: {
    thread_info: threadInfoLayout,
    pt_regs: ptRegsLayout,
    thread_struct: threadStructLayout,
  },

  pgtable: x86PageTable,
  tif: TIF,
  trapSignal,
  // handle_signal's "no handler" case (arch/x86/kernel/signal.c do_signal).
  restartSyscall(mem, regsPa, block) {
    const regs = new StructView(mem, ptRegsLayout, regsPa);
    regs.set('ax', block ? NR_restart_syscall : regs.get('orig_ax'));
    regs.set('ip', regs.get('ip') - 2); // back over `int $0x80` (cd 80)
    return 0;
  },

  syscallRegs: {
    nr: 'orig_ax',
    args: ['bx', 'cx', 'dx', 'si', 'di', 'bp'],
    ret: 'ax',
    sp: 'sp',
    pc: 'ip',
  },

  syscallTable(): ReadonlyMap<number, string> {
    tableCache ??= parseSyscallTbl(readFileSync(join(asmDir(), 'syscall.tbl'), 'utf8'));
    return tableCache;
  },

  // `jmp .` (eb fe) + 2 nops per 4-byte slot: the CPU spins in place until a stop
  // requested by the gate's code hook takes effect (see src/arch/types.ts).
  gateFill: new Uint8Array([0xeb, 0xfe, 0x90, 0x90]),

  attach: attachX86,
  copyThread,
  startThread,
  setTls,
  copyThreadTls,
  flushThread,
  threadArea: x86ThreadArea,
  copyKernelThread,
};
