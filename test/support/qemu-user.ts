// Runs a GNU-as user program under qemu-user, to compare with trapdoor's run of
// the same source: built with the Debian cross binutils, linked static, run with
// qemu-i386 / qemu-arm. Returns null (after a loud warning naming the package)
// when a tool is missing, so the comparison is skipped, never faked.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Arch = 'arm' | 'x86';

const TOOLS: Record<Arch, { as: string; ld: string; qemu: string; binutils: string }> = {
  x86: { as: 'i686-linux-gnu-as', ld: 'i686-linux-gnu-ld', qemu: 'qemu-i386', binutils: 'binutils-i686-linux-gnu' },
  arm: { as: 'arm-linux-gnueabi-as', ld: 'arm-linux-gnueabi-ld', qemu: 'qemu-arm', binutils: 'binutils-arm-linux-gnueabi' },
};

const have = new Map<string, boolean>();
function found(tool: string): boolean {
  let h = have.get(tool);
  if (h === undefined) {
    h = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
    have.set(tool, h);
  }
  return h;
}

/** Whether qemu-user and the binutils for `arch` are installed; warns (once per call site) if not. */
export function qemuAvailable(arch: Arch, what: string): boolean {
  const t = TOOLS[arch];
  const missing = [t.as, t.ld, t.qemu].filter((x) => !found(x));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((m) => (m === t.qemu ? 'qemu-user' : t.binutils)))].join(', ');
    console.warn(`!!! ${missing.join(', ')} not found: install ${pkgs} — SKIPPING the qemu-user comparison for ${what}`);
    return false;
  }
  return true;
}

export interface QemuResult {
  /** Exit status as a shell reports it (128 + signal for a signal death). */
  status: number;
  out: string;
  /** stdout as bytes, for programs that write binary data. */
  stdout: Buffer;
}

/** Assembles, links and runs `src` under qemu-user; throws if the build fails. */
export function runUnderQemu(arch: Arch, src: string): QemuResult {
  const t = TOOLS[arch];
  const dir = mkdtempSync(join(tmpdir(), 'trapdoor-qemu-'));
  try {
    writeFileSync(join(dir, 'p.S'), src);
    const as = spawnSync(t.as, ['-o', join(dir, 'p.o'), join(dir, 'p.S')], { encoding: 'utf8' });
    if (as.status !== 0) throw new Error(`${t.as} failed: ${as.stderr}`);
    const ld = spawnSync(t.ld, ['-static', '-o', join(dir, 'p'), join(dir, 'p.o')], { encoding: 'utf8' });
    if (ld.status !== 0) throw new Error(`${t.ld} failed: ${ld.stderr}`);
    const r = spawnSync(t.qemu, [join(dir, 'p')], { timeout: 20_000 });
    if (r.error) throw r.error;
    const status = r.signal ? 128 + constants.signals[r.signal] : r.status!;
    return { status, out: r.stdout.toString('utf8'), stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
