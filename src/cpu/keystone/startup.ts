// Start-up, at import: load Keystone and prove the radix guard works — the AT&T rewrite
// (radix.ts) and the engines that must read decimal (engines.ts). If it does not, every
// decimal literal would be misread: refuse to go on (an internal error at import).

import { assembleOne } from './assemble.js';
import { startEngines } from './engines.js';
import type { AsmOptions } from './types.js';

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function selfCheck(): void {
  const checks: [string, AsmOptions, string][] = [
    ['movl $-8192,%eax', { arch: 'x86', syntax: 'att' }, 'b8 00 e0 ff ff'],
    ['mov eax, -8192', { arch: 'x86', syntax: 'intel' }, 'b8 00 e0 ff ff'],
    ['mov r7, #120', { arch: 'arm' }, '78 70 a0 e3'],
    ['movs r7, #120', { arch: 'thumb' }, '78 27'],
  ];
  for (const [src, opts, want] of checks) {
    let got: string;
    try {
      got = toHex(assembleOne(src, opts));
    } catch (e) {
      got = `error: ${(e as Error).message}`;
    }
    if (got !== want) {
      throw new Error(
        `trapdoor internal error: Keystone's radix guard failed: "${src}" (${opts.arch}${opts.syntax ? ' ' + opts.syntax : ''}) ` +
          `assembled to ${got}, expected ${want}. Every decimal literal would be misread; refusing to continue.`,
      );
    }
  }
}

async function start(): Promise<number> {
  const t0 = performance.now();
  await startEngines();
  selfCheck();
  return performance.now() - t0;
}

/** Milliseconds the wasm module took to load and self-check at import (for reports). */
export const keystoneInitMs = await start();
