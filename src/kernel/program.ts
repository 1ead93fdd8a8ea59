// Running a user program under the model: boot, run until the system is idle,
// and report the program's output and exit status as a shell would.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelArch } from '../arch/types.js';
import { projectRoot } from '../cpu/libs.js';
import { assembleProgram, type AsmProgram } from '../machine/gas/index.js';
import { PROGRAM_PATH } from './boot.js';
import { runKernel } from './entry.js';
import { bootKernel, type Kernel } from './index.js';
import type { KernelOptions } from './kernel.js';
import { SIGNAL_NAMES } from './signal.js';

export interface ProgramResult {
  /** Exit status as a shell reports it: the exit code, or 128 + signal. */
  status: number;
  /** Wait status word of the program (as wait4 returned it to init). */
  waitStatus: number | null;
  signal: number | null;
  pid: number | null;
  stop: 'idle' | 'budget';
  kernel: Kernel;
}

const initCache = new Map<string, AsmProgram>();

/** The init program for an architecture (asm/<arch>/init.S), assembled once. */
export function initProgram(arch: KernelArch): AsmProgram {
  const name = arch.cpu.name;
  let p = initCache.get(name);
  if (!p) {
    const file = join(projectRoot(), 'asm', name, 'init.S');
    p = assembleProgram(readFileSync(file, 'utf8'), { arch: name, fileName: `asm/${name}/init.S` });
    initCache.set(name, p);
  }
  return p;
}

export function bootProgram(arch: KernelArch, program: AsmProgram, opts: KernelOptions = {}): Kernel {
  return bootKernel(arch, initProgram(arch), program, opts);
}

/** Runs to completion (or the budget); the kernel is left open for inspection — call kernel.close(). */
export function runProgram(arch: KernelArch, program: AsmProgram, opts: KernelOptions & { budget?: number } = {}): ProgramResult {
  const k = bootProgram(arch, program, opts);
  const stop = runKernel(k, { budget: opts.budget ?? 50_000_000 });
  const pid = k.execs.get(PROGRAM_PATH) ?? null;
  const exit = pid === null ? undefined : k.exits.find((e) => e.pid === pid);
  const ws = exit ? exit.code : null;
  const sig = ws !== null && ws & 0x7f ? ws & 0x7f : null;
  return {
    status: ws === null ? 1 : sig ? 128 + sig : (ws >> 8) & 0xff,
    waitStatus: ws,
    signal: sig,
    pid,
    stop: stop.kind === 'budget' ? 'budget' : 'idle',
    kernel: k,
  };
}

export function describeSignal(sig: number): string {
  return SIGNAL_NAMES[sig] ?? `signal ${sig}`;
}
