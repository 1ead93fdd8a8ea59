// The independent reference for user-visible behaviour: the same assembly
// source built with GNU as/ld and run under qemu-user (which runs it on the
// host's real Linux kernel). Returns null — after a loud warning naming the
// missing package — when the tools are not installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type A = 'arm' | 'x86';

const TOOLS: Record<A, { as: string; asFlags: string[]; ld: string; ldFlags: string[]; qemu: string; pkg: string }> = {
  arm: { as: 'arm-linux-gnueabi-as', asFlags: ['-march=armv7-a'], ld: 'arm-linux-gnueabi-ld', ldFlags: [], qemu: 'qemu-arm', pkg: 'binutils-arm-linux-gnueabi, qemu-user' },
  x86: { as: 'i686-linux-gnu-as', asFlags: ['--32'], ld: 'i686-linux-gnu-ld', ldFlags: ['-m', 'elf_i386'], qemu: 'qemu-i386', pkg: 'binutils-i686-linux-gnu, qemu-user' },
};

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

export function qemuAvailable(arch: A): boolean {
  const t = TOOLS[arch];
  const ok = have(t.as) && have(t.ld) && have(t.qemu);
  if (!ok) console.warn(`\n*** SKIPPING the qemu-user comparison for ${arch}: install ${t.pkg} (npm test does this as root) ***\n`);
  return ok;
}

/** Builds `src` (with _start as the entry) and runs it under qemu-user: exit status and stdout. */
export function runUnderQemu(arch: A, src: string): { status: number | null; stdout: Buffer } {
  const t = TOOLS[arch];
  const dir = mkdtempSync(join(tmpdir(), 'trapdoor-qemu-'));
  try {
    writeFileSync(join(dir, 'p.S'), src.endsWith('\n') ? src : src + '\n');
    const as = spawnSync(t.as, [...t.asFlags, '-o', join(dir, 'p.o'), join(dir, 'p.S')], { encoding: 'utf8' });
    if (as.status !== 0) throw new Error(`${t.as} failed: ${as.stderr}`);
    const ld = spawnSync(t.ld, [...t.ldFlags, '-o', join(dir, 'p'), join(dir, 'p.o')], { encoding: 'utf8' });
    if (ld.status !== 0) throw new Error(`${t.ld} failed: ${ld.stderr}`);
    const r = spawnSync(t.qemu, [join(dir, 'p')], { timeout: 60_000 });
    return { status: r.status, stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
