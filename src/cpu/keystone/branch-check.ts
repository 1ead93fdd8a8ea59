// WRONG BRANCHES. Keystone encodes out-of-range numeric branch targets silently wrong (ARM
// `bl 0x4000000` at 0 -> a branch to 0; Thumb `cbz r0, 0x9100` at 0x8000; x86 `jmp` to a
// 33-bit address), and Thumb-2 conditional wide branches (`beq.w`, T3) always. So every
// branch to a numeric target is decoded again with Capstone and must land on the requested
// (absolute) address, or AsmError — in a multi-statement source, when statement offsets can
// be mapped.

import { disassemble } from '../capstone.js';
import { engineKey, runKs } from './engines.js';
import { gnuInt } from './lex.js';
import { ksSource, shown, type Statement } from './statement.js';
import { AsmError, type AsmArch, type AsmOptions } from './types.js';

const ARM_COND = '(?:eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?';
const ARM_BRANCH = new RegExp(`^(?:bl?x?${ARM_COND}(?:\\.[nw])?|cbn?z)\\s+(?:\\w+\\s*,\\s*)?#?(0[xX][0-9a-fA-F]+|[0-9]+)$`, 'i');
const X86_BRANCH =
  /^(?:jmpl?|calll?|j(?:n?[abceglopsz]|n?[abgl]e|p[eo]|e?cxz)|loopn?[ez]?)\s+(0[xX][0-9a-fA-F]+|[0-9]+)$/i;

/** The numeric target of a branch statement, or null when it is no branch to a number. */
function branchTarget(st: Statement, arch: AsmArch): number | null {
  if (st.kind !== 'instruction' || st.labels > 0) return null;
  const m = (arch === 'x86' ? X86_BRANCH : ARM_BRANCH).exec(st.text);
  if (!m) return null;
  const s = m[1]!;
  // x86 numbers mean what GNU as means (017 is octal); Intel/ARM engines read decimal correctly
  return Number((arch === 'x86' ? gnuInt(s) : null) ?? BigInt(s));
}

/** `st` (the last statement of `bytes`) branches to a number: is that where it goes? */
export function verifyBranch(st: Statement, bytes: Uint8Array, addr: number, opts: AsmOptions): void {
  const want = branchTarget(st, opts.arch);
  if (want === null) return;
  const hex = (v: number) => '0x' + v.toString(16);
  if (want > 0xffffffff) throw new AsmError(st.text, `branch target ${hex(want)} is beyond the 32-bit address space`);
  const insns = disassemble(bytes, { arch: opts.arch, syntax: 'intel', addr });
  const got = insns[insns.length - 1];
  const m = got ? /(?:#|\b)(0x[0-9a-f]+|[0-9]+)\s*$/i.exec(got.opStr) : null;
  const target = m ? Number(m[1]) : NaN;
  if (!got || got.mnemonic.startsWith('.') || target !== want) {
    throw new AsmError(
      st.text,
      Number.isNaN(target)
        ? `branch target ${hex(want)} is out of range from ${hex(addr)}`
        : `Keystone encoded a branch to ${hex(target)}, not ${hex(want)}: the target is out of range from ${hex(addr)}, ` +
            'or this is a Keystone encoding bug (Thumb-2 b<cond>.w is one)',
    );
  }
}

/**
 * Check the numeric branches of a multi-unit source assembled to `all`. Best effort: each
 * unit is assembled alone to learn its offset; sources whose units cannot be (labels) or
 * whose layout moves (literal pools, alignment) are not checked.
 */
export function verifyBranches(us: Statement[][], opts: AsmOptions, addr: number, all: Uint8Array): void {
  if (!us.some((u) => branchTarget(u[u.length - 1]!, opts.arch) !== null)) return;
  const parts: { u: Statement[]; off: number; len: number }[] = [];
  let off = 0;
  for (const u of us) {
    const r = runKs(engineKey(opts), ksSource(u), (addr + off) >>> 0, shown(u));
    if (r.error !== null) return;
    parts.push({ u, off, len: r.bytes.length });
    off += r.bytes.length;
  }
  if (off !== all.length) return;
  for (const p of parts) {
    verifyBranch(p.u[p.u.length - 1]!, all.subarray(p.off, p.off + p.len), (addr + p.off) >>> 0, opts);
  }
}
