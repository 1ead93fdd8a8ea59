// ARM EABI syscall numbers: asm/arm/syscall.tbl parsed, plus the ARM-private
// calls that vector_swi hands to arm_syscall() instead of sys_call_table.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../cpu/libs.js';
import { ARM_NR_BASE } from './layout.js';

export const SYSCALL_TBL = 'asm/arm/syscall.tbl';

/** Parses syscall.tbl text (`<nr> <abi> <name> [<entry>]`, # comments); OABI-only rows are skipped (EABI). */
export function parseSyscallTbl(text: string, file = SYSCALL_TBL): Map<number, string> {
  const out = new Map<number, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const [nrText, abi, name] = line.split(/\s+/);
    const nr = Number(nrText);
    if (!Number.isInteger(nr) || nr < 0 || !abi || !name) throw new Error(`${file}:${i + 1}: cannot parse "${raw.trim()}"`);
    if (abi === 'oabi') return;
    if (abi !== 'common' && abi !== 'eabi') throw new Error(`${file}:${i + 1}: unknown abi "${abi}"`);
    if (out.has(nr)) throw new Error(`${file}:${i + 1}: syscall ${nr} listed twice`);
    out.set(nr, name);
  });
  return out;
}

let cached: ReadonlyMap<number, string> | undefined;

/** asm/arm/syscall.tbl of this checkout, parsed once. */
export function armSyscallTable(): ReadonlyMap<number, string> {
  cached ??= parseSyscallTbl(readFileSync(join(projectRoot(), SYSCALL_TBL), 'utf8'));
  return cached;
}

/** __ARM_NR_* (arch/arm/include/uapi/asm/unistd.h): handled by arm_syscall(no, regs). */
export const ARM_PRIVATE_SYSCALLS: ReadonlyMap<number, string> = new Map([
  [ARM_NR_BASE + 1, 'breakpoint'],
  [ARM_NR_BASE + 2, 'cacheflush'],
  [ARM_NR_BASE + 3, 'usr26'],
  [ARM_NR_BASE + 4, 'usr32'],
  [ARM_NR_BASE + 5, 'set_tls'],
  [ARM_NR_BASE + 6, 'get_tls'],
]);
