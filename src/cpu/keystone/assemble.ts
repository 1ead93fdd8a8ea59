// assemble and assembleOne: statements (statement.ts) through Keystone (engines.ts), with
// the checks on what comes back.
//
// SILENT SUCCESS. Keystone can report success while emitting nothing (`int $256`,
// `movl %eax, $1`, `stmdb sp!, {r0-r12}^`, a Thumb `b` out of range) — and such a statement
// silently wipes out the output of the *whole* source. We count statements (Keystone's own
// `count` drops to 0) and raise AsmError "assembled to 0 bytes" naming the statement.

import { verifyBranch, verifyBranches } from './branch-check.js';
import { engineKey, runKs } from './engines.js';
import { ksCount, ksSource, parse, shown, type Statement } from './statement.js';
import { AsmError, type AsmArch, type AsmOptions } from './types.js';

/**
 * Assemble instructions separated by `;` or newlines (labels and data/alignment directives
 * allowed; comments: `#` for x86, `@` for ARM, and C-style). x86 defaults to AT&T syntax.
 * Throws AsmError naming the statement that fails.
 */
export function assemble(source: string, opts: AsmOptions): Uint8Array {
  const addr = checkAddr(opts.addr);
  const stmts = parse(source, opts);
  return assembleStatements(stmts, opts, addr, shown(stmts));
}

/**
 * Assemble exactly one instruction (or one data directive) at `opts.addr`. A Thumb IT
 * instruction may come with the instructions of its block (`it eq\nmoveq r0, #1`): they
 * are one unit for Keystone.
 */
export function assembleOne(insn: string, opts: AsmOptions): Uint8Array {
  const addr = checkAddr(opts.addr);
  const stmts = parse(insn, opts);
  const blame = insn.trim();
  const us = units(stmts, opts.arch);
  if (us.length !== 1 || us[0]!.every((s) => s.kind === 'label')) {
    const found = us.filter((u) => u.some((s) => s.kind !== 'label')).length;
    throw new AsmError(blame, `expected exactly one instruction, found ${found}`);
  }
  return assembleUnit(us[0]!, opts, addr, blame);
}

function checkAddr(addr: number | undefined): number {
  const a = addr ?? 0;
  if (!Number.isSafeInteger(a) || a < 0 || a > 0xffffffff) {
    throw new RangeError(`address must be an integer in 0..0xffffffff, not ${a}`);
  }
  return a;
}

/**
 * Group statements into units that Keystone must see together: a Thumb/ARM IT instruction
 * and the 1-4 conditional instructions of its block (`it eq; moveq r0, #1`); everything
 * else is a unit on its own.
 */
function units(stmts: Statement[], arch: AsmArch): Statement[][] {
  const out: Statement[][] = [];
  for (let i = 0; i < stmts.length; ) {
    const st = stmts[i]!;
    const m = arch !== 'x86' && st.kind === 'instruction' && st.labels === 0 ? /^it([te]{0,3})\s+\w+$/i.exec(st.text) : null;
    const n = m ? Math.min(1 + m[1]!.length, stmts.length - i - 1) : 0;
    out.push(stmts.slice(i, i + 1 + n));
    i += 1 + n;
  }
  return out;
}

/** One Keystone call for a unit; AsmError if it fails, emits nothing or branches wrong. */
function assembleUnit(unit: Statement[], opts: AsmOptions, addr: number, blame = shown(unit)): Uint8Array {
  const r = runKs(engineKey(opts), ksSource(unit), addr, blame);
  if (r.error !== null) throw new AsmError(blame, r.error);
  // Keystone's silent failures show up as a statement count that falls short (usually to 0).
  if (r.count < ksCount(unit) || (r.bytes.length === 0 && unit.some((s) => s.mustEmit))) {
    throw new AsmError(blame, 'assembled to 0 bytes (Keystone accepted it but emitted nothing)');
  }
  verifyBranch(unit[unit.length - 1]!, r.bytes, addr, opts);
  return r.bytes;
}

/** The whole source in one Keystone call; on failure, unit by unit to find the culprit. */
function assembleStatements(stmts: Statement[], opts: AsmOptions, addr: number, blame: string): Uint8Array {
  if (stmts.length === 0) return new Uint8Array(0);
  const us = units(stmts, opts.arch);
  if (us.length === 1) return assembleUnit(us[0]!, opts, addr, blame);
  const r = runKs(engineKey(opts), ksSource(stmts), addr, blame);
  const expected = ksCount(stmts);
  if (r.error === null && r.count >= expected) {
    verifyBranches(us, opts, addr, r.bytes);
    return r.bytes;
  }
  // Find the culprit by assembling unit by unit. A unit that fails alone only for a missing
  // symbol may just use a label defined elsewhere: blame it only if nothing else fails.
  let a = addr;
  let missing: AsmError | null = null;
  for (const u of us) {
    let one: Uint8Array;
    try {
      one = assembleUnit(u, opts, a);
    } catch (e) {
      if (!(e instanceof AsmError)) throw e;
      if (/SYMBOL_MISSING/.test(e.reason)) {
        missing ??= e;
        continue;
      }
      throw e;
    }
    a = (a + one.length) >>> 0;
  }
  if (missing) throw missing;
  throw new AsmError(
    blame,
    r.error ?? `Keystone assembled ${r.count} of ${expected} statements and emitted ${r.bytes.length} bytes`,
  );
}
