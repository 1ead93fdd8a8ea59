// The architectures trapdoor emulates, by name.

import type { ArchCpu } from '../machine/arch-cpu.js';
import { armCpu } from './arm/cpu.js';
import { x86Cpu } from './x86/cpu.js';

export const ARCH_NAMES = ['arm', 'x86'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

export function archCpu(name: string): ArchCpu {
  if (name === 'arm') return armCpu;
  if (name === 'x86') return x86Cpu;
  throw new Error(`unknown architecture "${name}" (valid: ${ARCH_NAMES.join(', ')})`);
}
