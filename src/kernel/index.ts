// The kernel model's entry point: boot a kernel for an architecture with an
// init program and the user's program, then run it.

import type { KernelArch } from '../arch/types.js';
import type { AsmProgram } from '../machine/gas/index.js';
import { rest_init } from './boot.js';
import { do_notify_resume, do_work_pending, schedule_gate } from './entry_work.js';
import { do_IRQ } from './irq.js';
import { Kernel, kernelEntryPoints, type KernelOptions } from './kernel.js';
import './syscalls/index.js';

kernelEntryPoints.set('schedule', schedule_gate);
kernelEntryPoints.set('do_work_pending', do_work_pending);
kernelEntryPoints.set('do_notify_resume', do_notify_resume);
kernelEntryPoints.set('do_IRQ', do_IRQ); // i386 entry_32.S
kernelEntryPoints.set('asm_do_IRQ', do_IRQ); // ARM entry-armv.S

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
