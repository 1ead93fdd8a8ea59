// The kernel model's entry point: boot a kernel for an architecture with an
// init program and the user's program, then run it.

import type { KernelArch } from '../arch/types.js';
import type { AsmProgram } from '../machine/gas/index.js';
import { rest_init } from './boot.js';
import { Kernel, type KernelOptions } from './kernel.js';
import './syscalls/index.js';

export { Kernel } from './kernel.js';
export { runKernel, type RunStop } from './entry.js';

export function bootKernel(arch: KernelArch, init: AsmProgram, program: AsmProgram, opts: KernelOptions = {}): Kernel {
  const k = new Kernel(arch, opts);
  try {
    rest_init(k, init, program);
  } catch (e) {
    k.close();
    throw e;
  }
  return k;
}
