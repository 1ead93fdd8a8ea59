// The kernel-facing description of each architecture, by name.

import type { KernelArch } from './types.js';
import { armKernelArch } from './arm/index.js';
import { x86KernelArch } from './x86/index.js';

export function kernelArch(name: string): KernelArch {
  if (name === 'arm') return armKernelArch;
  if (name === 'x86') return x86KernelArch;
  throw new Error(`unknown architecture "${name}" (valid: arm, x86)`);
}
